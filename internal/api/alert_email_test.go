package api_test

import "testing"

// alerts.email is set by PATCH (or at creation), shown on the tenant,
// removed with an empty address; a bad one names the field and changes
// nothing.
func TestTenantAlertEmail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		if got := e.must(200, "GET", "/v1/tenant", key, nil)["alerts"]; got != nil {
			t.Fatalf("a new tenant's alerts %v, want none", got)
		}
		got := e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"alerts": map[string]any{"email": "Ops <ops@acme.example>"}})
		if a, _ := got["alerts"].(map[string]any); a["email"] != "ops@acme.example" {
			t.Fatalf("alerts after PATCH %v, want the bare address", got["alerts"])
		}
		for _, bad := range []map[string]any{{"email": "ops"}, {"email": "a@b.example, c@d.example"}} {
			r := e.call("PATCH", "/v1/tenant", key, map[string]any{"alerts": bad})
			if loc := e.problem(r, 422, "validation"); loc != "body.alerts.email" {
				t.Errorf("alerts %v: location %q, want body.alerts.email", bad, loc)
			}
		}
		r := e.call("PATCH", "/v1/tenant", key, map[string]any{"alerts": map[string]any{"address": "x@y.example"}})
		if loc := e.problem(r, 422, "validation"); loc != "body.alerts" {
			t.Errorf("an unknown alerts field: location %q, want body.alerts", loc)
		}
		if a, _ := e.must(200, "GET", "/v1/tenant", key, nil)["alerts"].(map[string]any); a["email"] != "ops@acme.example" {
			t.Fatalf("alerts after refused PATCHes %v", a)
		}
		if got := e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"alerts": map[string]any{"email": ""}})["alerts"]; got != nil {
			t.Fatalf("alerts after removing the address %v, want none", got)
		}
		other := e.tenant("Watched", map[string]any{"alerts": map[string]any{"email": "ops@watched.example"}})
		if a, _ := e.must(200, "GET", "/v1/tenant", other, nil)["alerts"].(map[string]any); a["email"] != "ops@watched.example" {
			t.Fatalf("alerts set at creation %v", a)
		}
	})
}
