package api_test

import "testing"

// retention_days is shown on the tenant, set at creation or by PATCH, and
// bounded; a bad value names the field and changes nothing.
func TestTenantRetentionDays(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		if got := e.must(200, "GET", "/v1/tenant", key, nil)["retention_days"]; got != 400.0 {
			t.Fatalf("default retention_days %v, want 400", got)
		}
		if got := e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"retention_days": 30})["retention_days"]; got != 30.0 {
			t.Fatalf("retention_days after PATCH %v, want 30", got)
		}
		for _, bad := range []any{0, 3651, "ten", 1.5} {
			r := e.call("PATCH", "/v1/tenant", key, map[string]any{"retention_days": bad})
			if loc := e.problem(r, 422, "validation"); loc != "body.retention_days" {
				t.Errorf("retention_days %v: location %q, want body.retention_days", bad, loc)
			}
		}
		if got := e.must(200, "GET", "/v1/tenant", key, nil)["retention_days"]; got != 30.0 {
			t.Fatalf("retention_days after refused PATCHes %v, want 30", got)
		}
		other := e.tenant("Keeps records", map[string]any{"retention_days": 3650})
		if got := e.must(200, "GET", "/v1/tenant", other, nil)["retention_days"]; got != 3650.0 {
			t.Fatalf("retention_days set at creation %v, want 3650", got)
		}
	})
}
