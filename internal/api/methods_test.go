package api_test

import (
	"testing"
)

// TestWrongMethodIs405: a known path with a method it does not take is a
// 405 problem with an Allow header listing the methods it does take; an
// unknown path stays a 404 (issue 12, defect 7).
func TestWrongMethodIs405(t *testing.T) {
	e := setup(t, "sqlite")
	admin := e.tenant("Methods", nil)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/leads", "GET, HEAD, POST"},
		{"PUT", "/v1/leads/0190b0f0-0000-7000-8000-000000000000", "GET, HEAD, PATCH, DELETE"},
		{"POST", "/healthz", "GET, HEAD"},
		{"PATCH", "/v1/webhooks/whatsapp/0190b0f0-0000-7000-8000-000000000000", "GET, HEAD, POST"},
	} {
		r := e.call(c.method, c.path, admin, nil)
		if e.problem(r, 405, "method-not-allowed"); r.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, r.Header.Get("Allow"), c.allow)
		}
	}
	r := e.call("GET", "/v1/no-such-thing", admin, nil)
	if e.problem(r, 404, "not-found"); r.Header.Get("Allow") != "" {
		t.Errorf("a 404 with Allow %q", r.Header.Get("Allow"))
	}
}
