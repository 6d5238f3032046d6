package api_test

import (
	"strings"
	"testing"
)

// TestBadBytesNameTheField: NUL and invalid UTF-8 in a body, query or path
// are a 422 naming the field, the same on both databases, and nothing is
// stored (issue 12, defect 5).
func TestBadBytesNameTheField(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Bytes", nil)
		for name, body := range map[string]string{
			"escaped NUL":   `{"first_name":"A\u0000na","email":"a@example.com"}`,
			"raw NUL":       "{\"first_name\":\"A\x00na\",\"email\":\"a@example.com\"}",
			"invalid UTF-8": "{\"email\":\"a@example.com\",\"first_name\":\"A\xffna\"}",
		} {
			r := e.call("POST", "/v1/leads", admin, body)
			if loc := e.problem(r, 422, "validation"); loc != "body.first_name" {
				t.Errorf("%s: location %q, want body.first_name: %s", name, loc, r.Raw)
			}
			if strings.Contains(string(r.Raw), "SQLSTATE") || strings.Contains(string(r.Raw), "invalid byte") {
				t.Errorf("%s: database text leaked: %s", name, r.Raw)
			}
		}
		r := e.call("POST", "/v1/workflows", admin, `{"name":"w","trigger":"quote.created","steps":[{"type":"send_email","email":{"subject":"ok","text":"bad \u0000"}}]}`)
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].email.text" {
			t.Errorf("nested: location %q: %s", loc, r.Raw)
		}
		if loc := e.problem(e.call("GET", "/v1/leads?cursor=%00", admin, nil), 422, "validation"); loc != "query.cursor" {
			t.Errorf("query: location %q", loc)
		}
		if loc := e.problem(e.call("GET", "/v1/leads/ab%FF", admin, nil), 422, "validation"); loc != "path.lead_id" {
			t.Errorf("path: location %q", loc)
		}
		list := e.must(200, "GET", "/v1/leads", admin, nil)
		if items, _ := list["items"].([]any); len(items) != 0 {
			t.Errorf("a lead was stored: %v", items)
		}
	})
}

// TestIdempotencyKeyLength: the documented 255 printable ASCII characters
// are enforced (issue 12, defect 6).
func TestIdempotencyKeyLength(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Keys", nil)
		for _, k := range []string{strings.Repeat("k", 256), strings.Repeat("k", 5000), "caf\u00e9"} {
			r := e.call("POST", "/v1/leads", admin, map[string]any{"first_name": "Ana"}, "Idempotency-Key", k)
			if loc := e.problem(r, 422, "validation"); loc != "header.Idempotency-Key" {
				t.Errorf("key of %d bytes: location %q", len(k), loc)
			}
		}
		e.must(201, "POST", "/v1/leads", admin, map[string]any{"first_name": "Ana"}, "Idempotency-Key", strings.Repeat("k", 255))
	})
}

// TestEscapedBadCharacters: a \u0000 escape and a lone surrogate escape,
// which encoding/json would store as U+FFFD, are a 422 naming the field on
// both databases; a well-formed surrogate pair is stored as its character
// (issue 12, defect 5).
func TestEscapedBadCharacters(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Escapes", nil)
		for name, first := range map[string]string{
			"NUL":                    `A\u0000na`,
			"lone high":              `A\ud800na`,
			"lone low":               `A\uDC00na`,
			"high at the end":        `Ana\ud83d`,
			"high then not low":      `A\ud83d\u0041na`,
			"two highs":              `A\ud83d\ud83dna`,
			"high then other escape": `A\ud83d\nna`,
		} {
			r := e.call("POST", "/v1/leads", admin, `{"email":"a@example.com","first_name":"`+first+`"}`)
			if loc := e.problem(r, 422, "validation"); loc != "body.first_name" {
				t.Errorf("%s: location %q, want body.first_name: %s", name, loc, r.Raw)
			}
		}
		if list := e.must(200, "GET", "/v1/leads", admin, nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("a lead was stored: %v", list["items"])
		}
		lead := e.must(201, "POST", "/v1/leads", admin, `{"first_name":"Ana \ud83d\ude00","last_name":"\\ud800"}`)
		if lead["first_name"] != "Ana \U0001F600" || lead["last_name"] != `\ud800` {
			t.Fatalf("a surrogate pair and an escaped backslash were stored as %q and %q", lead["first_name"], lead["last_name"])
		}
	})
}
