package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/web"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// assets are the files index.html loads: the embedded build must be whole.
func assets(t *testing.T, index string) []string {
	t.Helper()
	found := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(found) < 2 {
		t.Fatalf("index.html loads %d assets, want the script and the stylesheet:\n%s", len(found), index)
	}
	var out []string
	for _, m := range found {
		out = append(out, m[1])
	}
	return out
}

func TestEditorIsServed(t *testing.T) {
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nf", http.StatusTeapot) })
	h := web.Handler(notFound)

	res := get(t, h, "/")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("index.html Cache-Control %q, want no-cache: it names the current build's assets", cc)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("index.html CSP %q", csp)
	}
	if strings.Contains(string(body), "http://") || strings.Contains(string(body), "https://") {
		t.Errorf("index.html refers to another origin:\n%s", body)
	}

	t.Run("a revalidation of index.html is a 304", func(t *testing.T) {
		if r := get(t, h, "/", "If-None-Match", res.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
			t.Fatalf("status %d, want 304", r.StatusCode)
		}
	})

	for _, a := range assets(t, string(body)) {
		r := get(t, h, a)
		if r.StatusCode != 200 {
			t.Fatalf("GET %s: %d", a, r.StatusCode)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s Cache-Control %q, want a year, immutable: its name changes with its content", a, cc)
		}
		want := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(a, ".js")]
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("%s Content-Type %q, want %s", a, ct, want)
		}
	}

	for _, p := range []string{"/assets/nope.js", "/assets/", "/index.html"} {
		if r := get(t, h, p); r.StatusCode != http.StatusTeapot {
			t.Errorf("GET %s: %d, want the notFound handler", p, r.StatusCode)
		}
	}
}
