package api_test

import (
	"testing"
)

// TestStepIDsAreTheServers: a client cannot choose step ids. On create and
// when adding a step a sent id is a 422 naming it; when replacing steps an
// id must be one of the workflow's own steps, so another workflow's,
// another tenant's or an invented one is a 422 naming it, and nothing
// changes (issue 12, defect 6).
func TestStepIDsAreTheServers(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, b := e.tenant("Steps A", nil), e.tenant("Steps B", nil)
		email := func(id string) map[string]any {
			st := map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "T"}}
			if id != "" {
				st["id"] = id
			}
			return st
		}
		create := func(key string, steps ...any) map[string]any {
			return e.must(201, "POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent", "steps": steps})
		}
		stepID := func(w map[string]any, i int) string { return str(w["steps"].([]any)[i].(map[string]any)["id"]) }

		r := e.call("POST", "/v1/workflows", a, map[string]any{"name": "W", "trigger": "quote.sent", "steps": []any{email(""), email("mine")}})
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[1].id" {
			t.Errorf("create with a step id: location %q: %s", loc, r.Raw)
		}
		if list := e.must(200, "GET", "/v1/workflows", a, nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("a workflow was stored: %v", list["items"])
		}

		w := create(a, email(""), email(""))
		other := create(a, email(""))
		theirs := create(b, email(""))
		id, s0, s1 := str(w["id"]), stepID(w, 0), stepID(w, 1)
		if s0 == "" || s1 == "" || s0 == s1 {
			t.Fatalf("server-assigned step ids %q and %q", s0, s1)
		}
		for name, bad := range map[string]string{"another tenant's": stepID(theirs, 0), "another workflow's": stepID(other, 0), "invented": "s1"} {
			r := e.call("PATCH", "/v1/workflows/"+id, a, map[string]any{"steps": []any{email(s1), email(bad)}})
			if loc := e.problem(r, 422, "validation"); loc != "body.steps[1].id" {
				t.Errorf("PATCH with %s step id: location %q: %s", name, loc, r.Raw)
			}
		}
		r = e.call("POST", "/v1/workflows/"+id+"/steps", a, email(stepID(theirs, 0)))
		if loc := e.problem(r, 422, "validation"); loc != "body.id" {
			t.Errorf("adding a step with an id: location %q: %s", loc, r.Raw)
		}
		if got := e.must(200, "GET", "/v1/workflows/"+id, a, nil); got["version"] != 1.0 {
			t.Fatalf("a refused edit moved the workflow to version %v", got["version"])
		}

		// Its own ids keep their steps; a step without one is new.
		got := e.must(200, "PATCH", "/v1/workflows/"+id, a, map[string]any{"steps": []any{email(s1), email("")}})
		if stepID(got, 0) != s1 || stepID(got, 1) == "" || stepID(got, 1) == s0 {
			t.Fatalf("after replacing steps: %v", got["steps"])
		}
	})
}
