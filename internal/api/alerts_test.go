package api_test

import "testing"

// GET /v1/alerts lists alerts with their filters checked; the timeline
// carries the lead's alerts. (What opens and resolves alerts is the app's
// TestAlertsFollowTheirConditions.)
func TestAlertsRoute(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		out := e.must(200, "GET", "/v1/alerts?state=open", key, nil)
		if items, ok := out["items"].([]any); !ok || len(items) != 0 {
			t.Fatalf("a new tenant's alerts: %v", out)
		}
		for q, field := range map[string]string{"state=opened": "query.state", "kind=fire": "query.kind", "limit=0": "query.limit"} {
			if loc := e.problem(e.call("GET", "/v1/alerts?"+q, key, nil), 422, "validation"); loc != field {
				t.Errorf("?%s: location %q, want %s", q, loc, field)
			}
		}
		lead := str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana", "email": "ana@example.com"})["id"])
		tl := e.must(200, "GET", "/v1/leads/"+lead+"/timeline", key, nil)
		if items, ok := tl["alerts"].([]any); !ok || len(items) != 0 {
			t.Fatalf("timeline alerts: %v", tl["alerts"])
		}
	})
}
