package api_test

import (
	"strings"
	"testing"
)

// The editor is served at / with its assets under /assets/, while every
// other unknown path stays the JSON 404 problem it was.
func TestEditorMountedAtRoot(t *testing.T) {
	e := setup(t, "sqlite")
	r := e.call("GET", "/", "", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Raw), `<div id="root">`) {
		t.Fatalf("GET /: %d %s %.200s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	if r.Header.Get("Content-Security-Policy") == "" {
		t.Error("GET /: no Content-Security-Policy")
	}
	for _, p := range []string{"/workflows", "/assets/nope.js", "/index.html", "/v1/nope"} {
		e.problem(e.call("GET", p, "", nil), 404, "not-found")
	}
	res := e.call("POST", "/", "", nil)
	e.problem(res, 405, "method-not-allowed")
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("POST /: Allow %q", allow)
	}
}
