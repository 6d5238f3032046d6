package api_test

import "testing"

// TestQuoteNumberTakenIs409: a quote number the tenant used is a 409
// conflict problem naming body.number, from a create and from a PATCH, and
// nothing is stored; another tenant may use it; a retry of the first
// create with its Idempotency-Key still replays it.
func TestQuoteNumberTakenIs409(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		lead := str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana", "email": "ana@example.com"})["id"])
		body := map[string]any{"lead_id": lead, "number": "Q-2001", "amount": 10, "currency": "EUR"}
		first := e.must(201, "POST", "/v1/quotes", key, body, "Idempotency-Key", "q-2001")

		r := e.call("POST", "/v1/quotes", key, body)
		if loc := e.problem(r, 409, "conflict"); loc != "body.number" {
			t.Fatalf("a second Q-2001 names %q, want body.number: %s", loc, r.Raw)
		}
		if n := len(e.must(200, "GET", "/v1/quotes", key, nil)["items"].([]any)); n != 1 {
			t.Fatalf("%d quotes after a refused duplicate, want 1", n)
		}
		if replay := e.call("POST", "/v1/quotes", key, body, "Idempotency-Key", "q-2001"); replay.Status != 201 ||
			replay.Header.Get("Idempotent-Replayed") != "true" || replay.JSON["id"] != first["id"] {
			t.Fatalf("the first create's retry: %d %s", replay.Status, replay.Raw)
		}

		second := str(e.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": lead, "number": "Q-2002", "amount": 10, "currency": "EUR"})["id"])
		r = e.call("PATCH", "/v1/quotes/"+second, key, map[string]any{"number": "Q-2001"})
		if loc := e.problem(r, 409, "conflict"); loc != "body.number" {
			t.Fatalf("renaming to Q-2001 names %q, want body.number: %s", loc, r.Raw)
		}
		if got := e.must(200, "GET", "/v1/quotes/"+second, key, nil); got["number"] != "Q-2002" {
			t.Fatalf("the refused rename was stored: %v", got["number"])
		}

		other := e.tenant("Other", nil)
		otherLead := str(e.must(201, "POST", "/v1/leads", other, map[string]any{"first_name": "Rui", "email": "rui@example.com"})["id"])
		e.must(201, "POST", "/v1/quotes", other, map[string]any{"lead_id": otherLead, "number": "Q-2001", "amount": 10, "currency": "EUR"})
	})
}
