package api_test

import "testing"

func TestCreatesHonourIdempotencyKey(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		body := map[string]any{"first_name": "Ana", "email": "ana@example.com"}
		a := e.call("POST", "/v1/leads", key, body, "Idempotency-Key", "lead-1")
		b := e.call("POST", "/v1/leads", key, body, "Idempotency-Key", "lead-1")
		if a.Status != 201 || b.Status != 201 || b.Header.Get("Idempotent-Replayed") != "true" || a.JSON["id"] != b.JSON["id"] {
			t.Fatalf("replay: %d %s / %d %s", a.Status, a.Raw, b.Status, b.Raw)
		}
		if n := len(e.must(200, "GET", "/v1/leads", key, nil)["items"].([]any)); n != 1 {
			t.Fatalf("%d leads after a repeated create, want 1", n)
		}
		// The same key with another body is refused by name.
		r := e.call("POST", "/v1/leads", key, map[string]any{"first_name": "Rui"}, "Idempotency-Key", "lead-1")
		if loc := e.problem(r, 422, "validation"); loc != "header.Idempotency-Key" {
			t.Fatalf("location %q", loc)
		}
		// A failed request does not burn its key.
		e.problem(e.call("POST", "/v1/leads", key, map[string]any{"phone": "12"}, "Idempotency-Key", "lead-2"), 422, "validation")
		if r := e.call("POST", "/v1/leads", key, map[string]any{"phone": "12"}, "Idempotency-Key", "lead-2"); r.Status != 422 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("a failed request was replayed: %d", r.Status)
		}
		e.must(201, "POST", "/v1/leads", key, map[string]any{"phone": "+351912345678"}, "Idempotency-Key", "lead-2")
		// Keys belong to one tenant.
		other := e.tenant("Other", nil)
		if r := e.call("POST", "/v1/leads", other, body, "Idempotency-Key", "lead-1"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another tenant's key replayed: %d %s", r.Status, r.Raw)
		}
	})
}
