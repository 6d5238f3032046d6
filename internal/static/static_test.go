package static

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// A file is served with its media type, its content's entity tag and the
// caller's caching; asked again with that tag it is a 304, and a name
// that is not there writes nothing.
func TestServe(t *testing.T) {
	files := Load(fstest.MapFS{
		"root/index.html":     {Data: []byte("<!doctype html>")},
		"root/assets/app.js":  {Data: []byte("console.log(1)")},
		"root/assets/LICENSE": {Data: []byte("MIT")},
	}, "root")
	for name, want := range map[string]string{"index.html": "text/html; charset=utf-8",
		"assets/app.js": "text/javascript; charset=utf-8", "assets/LICENSE": "application/octet-stream"} {
		w := httptest.NewRecorder()
		if !files.Serve(w, httptest.NewRequest("GET", "/x", nil), name, Immutable) {
			t.Fatalf("%s: not served", name)
		}
		h := w.Header()
		if w.Code != 200 || h.Get("Content-Type") != want || h.Get("Cache-Control") != Immutable ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("ETag") != `"`+files.Version(name)+`"` || len(files.Version(name)) != 32 {
			t.Errorf("%s: %d %v", name, w.Code, h)
		}
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header.Set("If-None-Match", h.Get("ETag"))
		again := httptest.NewRecorder()
		files.Serve(again, r, name, Immutable)
		if again.Code != http.StatusNotModified {
			t.Errorf("%s revalidated: %d, want 304", name, again.Code)
		}
	}
	if files.Version("assets/app.js") == files.Version("index.html") {
		t.Error("two contents, one version")
	}
	w := httptest.NewRecorder()
	if files.Serve(w, httptest.NewRequest("GET", "/x", nil), "nope.js", Immutable) || len(w.Header()) != 0 {
		t.Errorf("a missing file wrote %v", w.Header())
	}
}
