package api_test

import "testing"

// Revoking a tenant's last admin key is a 409 problem naming the key, and
// the key keeps working.
func TestRevokingTheLastAdminKeyIsAConflictNamingIt(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Acme", nil)
		keys := e.must(200, "GET", "/v1/api-keys", admin, nil)["items"].([]any)
		id := str(keys[0].(map[string]any)["id"])
		r := e.call("DELETE", "/v1/api-keys/"+id, admin, nil)
		if loc := e.problem(r, 409, "conflict"); loc != "path.key_id" {
			t.Fatalf("location %q, want path.key_id: %s", loc, r.Raw)
		}
		if v := r.JSON["errors"].([]any)[0].(map[string]any)["value"]; v != id {
			t.Fatalf("value %v, want the key's id %s: %s", v, id, r.Raw)
		}
		e.must(200, "GET", "/v1/api-keys", admin, nil)
	})
}
