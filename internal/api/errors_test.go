package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestBadInputIsAProblemNamingTheField(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", map[string]any{"mode": "engine"})
		lead := str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana"})["id"])

		// Malformed JSON is a 400.
		e.problem(e.call("POST", "/v1/leads", key, `{"first_name": "Ana"`), 400, "malformed-request")

		// Phone numbers must be E.164.
		r := e.call("POST", "/v1/leads", key, map[string]any{"first_name": "Ana", "phone": "912 345 678"})
		if loc := e.problem(r, 422, "validation"); loc != "body.phone" {
			t.Fatalf("location %q, want body.phone: %s", loc, r.Raw)
		}
		r = e.call("POST", "/v1/leads", key, map[string]any{"phone": "+351 912 345 678"})
		if loc := e.problem(r, 422, "validation"); loc != "body.phone" {
			t.Fatalf("spaced E.164: location %q: %s", loc, r.Raw)
		}
		// Unknown fields are rejected by name rather than ignored.
		r = e.call("POST", "/v1/leads", key, map[string]any{"frist_name": "Ana"})
		e.problem(r, 422, "validation")

		wf := str(e.must(201, "POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "T"}}}})["id"])

		// A condition error names the node by its JSON path.
		r = e.call("POST", "/v1/assignment-rules", key, map[string]any{"name": "R", "trigger": "quote.sent", "workflow_id": wf,
			"condition": map[string]any{"all": []any{
				map[string]any{"field": "lead.source", "op": "eq", "value": "web"},
				map[string]any{"any": []any{map[string]any{"field": "lead.source", "op": "bogus", "value": "x"}}},
			}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.condition.all[1].any[0].op" {
			t.Fatalf("condition location %q: %s", loc, r.Raw)
		}
		r = e.call("POST", "/v1/assignment-rules", key, map[string]any{"name": "R", "trigger": "quote.sent", "workflow_id": wf,
			"condition": map[string]any{"all": []any{map[string]any{"field": "lead.nope", "op": "eq", "value": "x"}}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.condition.all[0].field" {
			t.Fatalf("unknown field location %q: %s", loc, r.Raw)
		}

		// A template error names the field, line and column.
		r = e.call("POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "ok", "text": "Hello\n  {{ lead.frist_name }}"}}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].email.text" {
			t.Fatalf("template location %q: %s", loc, r.Raw)
		}
		first := r.JSON["errors"].([]any)[0].(map[string]any)
		if first["line"].(float64) != 2 || first["column"] == nil || first["column"].(float64) < 3 {
			t.Fatalf("template error should point at line 2, column ≥ 3: %v", first)
		}
		r = e.call("POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "{% if %}", "text": "t"}}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].email.subject" {
			t.Fatalf("syntax error location %q: %s", loc, r.Raw)
		}
		// A wait needs an ISO 8601 duration.
		r = e.call("POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "wait", "wait": map[string]any{"duration": "2 days"}}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].wait.duration" {
			t.Fatalf("duration location %q: %s", loc, r.Raw)
		}
		// An enum names the field.
		r = e.call("POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.maybe"})
		if loc := e.problem(r, 422, "validation"); loc != "body.trigger" {
			t.Fatalf("trigger location %q: %s", loc, r.Raw)
		}
		// A rule to a workflow that does not exist names workflow_id.
		r = e.call("POST", "/v1/assignment-rules", key, map[string]any{"name": "R", "trigger": "quote.sent",
			"workflow_id": "0190b0f0-0000-7000-8000-000000000000", "condition": map[string]any{"all": []any{}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.workflow_id" {
			t.Fatalf("workflow_id location %q: %s", loc, r.Raw)
		}
		// A quote amount with more decimals than its currency allows.
		r = e.call("POST", "/v1/quotes", key, map[string]any{"lead_id": lead, "number": "Q1", "amount": 10.001, "currency": "EUR"})
		if loc := e.problem(r, 422, "validation"); loc != "body.amount" {
			t.Fatalf("amount location %q: %s", loc, r.Raw)
		}
		// A resolution needs a valid trigger.
		r = e.call("GET", "/v1/leads/"+lead+"/resolution?trigger=quote.maybe", key, nil)
		if loc := e.problem(r, 422, "validation"); loc != "query.trigger" {
			t.Fatalf("query location %q: %s", loc, r.Raw)
		}

		// None of the failed requests stored anything.
		if n := len(e.must(200, "GET", "/v1/leads", key, nil)["items"].([]any)); n != 1 {
			t.Fatalf("%d leads after failed creates, want 1", n)
		}
		if n := len(e.must(200, "GET", "/v1/workflows", key, nil)["items"].([]any)); n != 1 {
			t.Fatalf("%d workflows after failed creates, want 1", n)
		}
		if n := len(e.must(200, "GET", "/v1/assignment-rules", key, nil)["items"].([]any)); n != 0 {
			t.Fatalf("%d rules after failed creates, want 0", n)
		}
	})
}

func TestAuthAndTenantIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.tenant("A", nil)
		b := e.tenant("B", nil)
		leadA := str(e.must(201, "POST", "/v1/leads", a, map[string]any{"first_name": "Ana"})["id"])
		wfA := str(e.must(201, "POST", "/v1/workflows", a, map[string]any{"name": "W", "trigger": "quote.sent"})["id"])

		e.problem(e.call("GET", "/v1/leads", "", nil), 401, "unauthorized")
		e.problem(e.call("GET", "/v1/leads", "qf_nope_nope", nil), 401, "unauthorized")
		e.problem(e.call("POST", "/v1/tenants", a, map[string]any{"name": "X"}), 401, "unauthorized")
		e.problem(e.call("POST", "/v1/tenants", "", map[string]any{"name": "X"}), 401, "unauthorized")

		// Another tenant's ids are 404, never 403.
		for _, c := range []struct{ method, path string }{
			{"GET", "/v1/leads/" + leadA}, {"PATCH", "/v1/leads/" + leadA}, {"DELETE", "/v1/leads/" + leadA},
			{"GET", "/v1/workflows/" + wfA}, {"PATCH", "/v1/workflows/" + wfA}, {"GET", "/v1/workflows/" + wfA + "/versions"},
			{"GET", "/v1/leads/" + leadA + "/resolution?trigger=quote.sent"}, {"GET", "/v1/leads/" + leadA + "/overrides"},
		} {
			var body any
			if c.method == "PATCH" {
				body = map[string]any{}
			}
			e.problem(e.call(c.method, c.path, b, body), 404, "not-found")
		}
		e.must(200, "GET", "/v1/leads/"+leadA, a, nil)

		// An app key cannot configure.
		app := str(e.must(201, "POST", "/v1/api-keys", a, map[string]any{"role": "app"})["key"])
		e.must(201, "POST", "/v1/leads", app, map[string]any{"first_name": "Rui"})
		e.problem(e.call("POST", "/v1/workflows", app, map[string]any{"name": "W", "trigger": "quote.sent"}), 403, "forbidden")
		e.problem(e.call("PATCH", "/v1/tenant", app, map[string]any{"mode": "engine"}), 403, "forbidden")

		// Keys are listed without their secret and can be revoked.
		keys := e.must(200, "GET", "/v1/api-keys", a, nil)["items"].([]any)
		if len(keys) != 2 {
			t.Fatalf("%d keys, want 2", len(keys))
		}
		for _, k := range keys {
			if _, ok := k.(map[string]any)["key"]; ok {
				t.Fatalf("a listed key shows its secret: %v", k)
			}
		}
		var appID string
		for _, k := range keys {
			if k.(map[string]any)["role"] == "app" {
				appID = str(k.(map[string]any)["id"])
			}
		}
		e.must(204, "DELETE", "/v1/api-keys/"+appID, a, nil)
		e.problem(e.call("GET", "/v1/leads", app, nil), 401, "unauthorized")
	})
}

func TestVersionsAndIfMatch(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		w := e.call("POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{
				map[string]any{"type": "send_email", "email": map[string]any{"subject": "One", "text": "1"}},
				map[string]any{"type": "wait", "wait": map[string]any{"duration": "P2D"}},
			}})
		if w.Status != 201 || w.Header.Get("ETag") != `"1"` {
			t.Fatalf("create: %d etag %q: %s", w.Status, w.Header.Get("ETag"), w.Raw)
		}
		id := str(w.JSON["id"])
		steps := w.JSON["steps"].([]any)
		s0, s1 := str(steps[0].(map[string]any)["id"]), str(steps[1].(map[string]any)["id"])

		// An edit against a stale version is refused and changes nothing.
		e.must(200, "PATCH", "/v1/workflows/"+id, key, map[string]any{"name": "W2"}, "If-Match", `"1"`)
		e.problem(e.call("PATCH", "/v1/workflows/"+id, key, map[string]any{"name": "W3"}, "If-Match", `"1"`), 412, "version-mismatch")
		if got := e.must(200, "GET", "/v1/workflows/"+id, key, nil); got["name"] != "W2" || got["version"].(float64) != 2 {
			t.Fatalf("after the refused edit: %v", got)
		}

		// Step edits are versions too, and keep step ids.
		got := e.must(200, "POST", "/v1/workflows/"+id+"/steps/reorder", key, map[string]any{"step_ids": []string{s1, s0}}, "If-Match", `"2"`)
		if got["version"].(float64) != 3 || str(got["steps"].([]any)[0].(map[string]any)["id"]) != s1 {
			t.Fatalf("reorder: %v", got)
		}
		got = e.must(200, "PATCH", "/v1/workflows/"+id+"/steps/"+s0, key, map[string]any{"email": map[string]any{"subject": "Uno", "text": "1"}})
		if got["version"].(float64) != 4 {
			t.Fatalf("step patch version: %v", got["version"])
		}
		got = e.must(201, "POST", "/v1/workflows/"+id+"/steps", key, map[string]any{"type": "send_email", "position": 0,
			"email": map[string]any{"subject": "Zero", "text": "0"}})
		if got["version"].(float64) != 5 || got["steps"].([]any)[0].(map[string]any)["email"].(map[string]any)["subject"] != "Zero" {
			t.Fatalf("add step: %v", got)
		}
		e.must(200, "DELETE", "/v1/workflows/"+id+"/steps/"+s1, key, nil)

		// Every version stays readable as it was.
		vs := e.must(200, "GET", "/v1/workflows/"+id+"/versions", key, nil)["items"].([]any)
		var versions []float64
		for _, v := range vs {
			versions = append(versions, v.(map[string]any)["version"].(float64))
		}
		if !slices.Equal(versions, []float64{6, 5, 4, 3, 2, 1}) {
			t.Fatalf("versions %v", versions)
		}
		v1 := vs[5].(map[string]any)
		if v1["name"] != "W" || len(v1["steps"].([]any)) != 2 ||
			v1["steps"].([]any)[0].(map[string]any)["email"].(map[string]any)["subject"] != "One" {
			t.Fatalf("version 1 changed: %v", v1)
		}

		// Leads honour If-Match as well.
		l := e.call("POST", "/v1/leads", key, map[string]any{"first_name": "Ana"})
		lead := str(l.JSON["id"])
		e.must(200, "PATCH", "/v1/leads/"+lead, key, map[string]any{"stage": "won"}, "If-Match", l.Header.Get("ETag"))
		e.problem(e.call("PATCH", "/v1/leads/"+lead, key, map[string]any{"stage": "lost"}, "If-Match", l.Header.Get("ETag")), 412, "version-mismatch")
	})
}

func TestPaginationVisitsEveryLeadOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		want := map[string]bool{}
		for i := 0; i < 7; i++ {
			want[str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "L"})["id"])] = true
		}
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			out := e.must(200, "GET", "/v1/leads?limit=3&cursor="+cursor, key, nil)
			pages++
			for _, it := range out["items"].([]any) {
				id := str(it.(map[string]any)["id"])
				if seen[id] {
					t.Fatalf("lead %s on two pages", id)
				}
				seen[id] = true
			}
			if cursor = str(out["next_cursor"]); cursor == "" {
				break
			}
		}
		if len(seen) != len(want) || pages != 3 {
			t.Fatalf("saw %d leads on %d pages, want %d on 3", len(seen), pages, len(want))
		}
	})
}

func TestTenantSecretsAreWriteOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		out := e.must(200, "PATCH", "/v1/tenant", key, map[string]any{
			"mode": "engine", "quiet_hours": map[string]any{"start": "21:00", "end": "08:00"}, "holidays": []string{"2026-12-25"},
			"channels": map[string]any{
				"email":    map[string]any{"provider": "smtp", "host": "smtp.example.com", "port": 587, "tls": "starttls", "username": "u", "password": "s3cret-pass", "from": "Acme <q@acme.example>"},
				"whatsapp": map[string]any{"provider": "cloud_api", "phone_number_id": "123", "access_token": "s3cret-token", "app_secret": "s3cret-app"},
			}})
		raw := string(e.call("GET", "/v1/tenant", key, nil).Raw)
		for _, secret := range []string{"s3cret-pass", "s3cret-token", "s3cret-app"} {
			if strings.Contains(raw, secret) || strings.Contains(fmt.Sprint(out), secret) {
				t.Fatalf("secret %q is readable: %s", secret, raw)
			}
		}
		ch := out["channels"].(map[string]any)
		if ch["email"].(map[string]any)["password_set"] != true || ch["whatsapp"].(map[string]any)["access_token_set"] != true {
			t.Fatalf("channels should say the secrets are set: %v", ch)
		}
		// Changing the host without the password keeps the password. The
		// username is sent again: a kept password without one is refused
		// at save (issue 12), since the sender would refuse every message.
		out = e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"channels": map[string]any{
			"email": map[string]any{"provider": "smtp", "host": "smtp2.example.com", "port": 587, "username": "u", "from": "Acme <q@acme.example>"}}})
		if em := out["channels"].(map[string]any)["email"].(map[string]any); em["password_set"] != true || em["host"] != "smtp2.example.com" {
			t.Fatalf("after host change: %v", em)
		}
		// quiet_hours: null removes them.
		out = e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"quiet_hours": nil})
		if out["quiet_hours"] != nil {
			t.Fatalf("quiet hours not removed: %v", out["quiet_hours"])
		}
		r := e.call("PATCH", "/v1/tenant", key, map[string]any{"timezone": "Mars/Olympus"})
		if loc := e.problem(r, 422, "validation"); loc != "body.timezone" {
			t.Fatalf("timezone location %q", loc)
		}
	})
}
