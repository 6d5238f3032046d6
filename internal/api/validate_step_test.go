package api_test

import (
	"strings"
	"testing"
)

// TestValidateStepSavesNothing: an editor checks a step while it is typed.
// A good step answers valid and the workflow keeps its version; a bad
// template is the 422 saving it would give, at the step's own field with
// line and column; another tenant's workflow is a 404.
func TestValidateStepSavesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, b := e.tenant("Validate A", nil), e.tenant("Validate B", nil)
		w := e.must(201, "POST", "/v1/workflows", a, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "T"}}}})
		id := str(w["id"])
		path := "/v1/workflows/" + id + "/steps/validate"

		ok := e.must(200, "POST", path, a, map[string]any{"type": "send_email",
			"email": map[string]any{"subject": "About {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}})
		if ok["valid"] != true {
			t.Fatalf("a good step: %v", ok)
		}

		r := e.call("POST", path, a, map[string]any{"type": "send_email",
			"email": map[string]any{"subject": "S", "text": "Hello\n{{ lead.first_name "}})
		if loc := e.problem(r, 422, "validation"); loc != "body.email.text" {
			t.Fatalf("a broken template: location %q: %s", loc, r.Raw)
		}
		if !strings.Contains(string(r.Raw), `"line":2`) {
			t.Errorf("the problem does not say where: %s", r.Raw)
		}
		r = e.call("POST", path, a, map[string]any{"type": "wait", "wait": map[string]any{"duration": "2 days"}})
		if loc := e.problem(r, 422, "validation"); loc != "body.wait.duration" {
			t.Errorf("a bad duration: location %q: %s", loc, r.Raw)
		}

		after := e.must(200, "GET", "/v1/workflows/"+id, a, nil)
		if after["version"] != w["version"] {
			t.Fatalf("validating made a version: %v -> %v", w["version"], after["version"])
		}
		if v := e.must(200, "GET", "/v1/workflows/"+id+"/versions", a, nil); len(v["items"].([]any)) != 1 {
			t.Fatalf("versions after validating: %d, want 1", len(v["items"].([]any)))
		}
		e.problem(e.call("POST", path, b, map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}}), 404, "not-found")
	})
}
