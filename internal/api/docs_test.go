package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDocsAreServedFromTheBinary: /v1/docs is a page of this server whose
// script and document are this server's too, and whose
// Content-Security-Policy lets the browser load nothing from elsewhere.
func TestDocsAreServedFromTheBinary(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		page := e.call("GET", "/v1/docs", "", nil)
		if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("/v1/docs: %d %s", page.Status, page.Header.Get("Content-Type"))
		}
		if strings.Contains(string(page.Raw), "://") {
			t.Errorf("the page names another origin:\n%s", page.Raw)
		}
		base, _ := url.Parse(e.srv.URL + "/v1/docs")
		refs := regexp.MustCompile(`\s(src|href|spec-url)="([^"]*)"`).FindAllStringSubmatch(string(page.Raw), -1)
		want := map[string]string{"src": "text/javascript; charset=utf-8", "spec-url": "application/openapi+json"}
		for _, m := range refs {
			u, err := url.Parse(m[2])
			if err != nil || u.Scheme != "" && u.Scheme != "data" || u.Host != "" {
				t.Errorf("%s=%q is not on this server", m[1], m[2])
				continue
			}
			if u.Scheme == "data" {
				continue // the blank icon
			}
			target := base.ResolveReference(u)
			r := e.call("GET", target.RequestURI(), "", nil)
			if r.Status != 200 {
				t.Errorf("%s %s: %d", m[1], target.RequestURI(), r.Status)
			}
			if ct, ok := want[m[1]]; ok {
				if got := r.Header.Get("Content-Type"); got != ct {
					t.Errorf("%s %s: %s, want %s", m[1], target.Path, got, ct)
				}
				delete(want, m[1])
			}
			if m[1] == "spec-url" && target.Path != "/v1/openapi.json" {
				t.Errorf("the page renders %s, not /v1/openapi.json", target.Path)
			}
			if m[1] == "src" {
				if again := e.call("GET", target.RequestURI(), "", nil, "If-None-Match", r.Header.Get("ETag")); again.Status != http.StatusNotModified {
					t.Errorf("the script with its ETag: %d, want 304", again.Status)
				}
			}
		}
		if len(want) != 0 {
			t.Fatalf("the page has no %v", want)
		}

		csp := page.Header.Get("Content-Security-Policy")
		allowed := map[string]bool{"'self'": true, "'none'": true}
		directives := map[string]string{}
		for d := range strings.SplitSeq(csp, ";") {
			name, sources, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = sources
			for src := range strings.FieldsSeq(sources) {
				// Inline styles and data: images are the renderer's own;
				// neither is a request to another origin.
				ok := allowed[src] || name == "style-src" && src == "'unsafe-inline'" || name == "img-src" && src == "data:"
				if !ok {
					t.Errorf("CSP %s allows %s", name, src)
				}
			}
		}
		for _, d := range []string{"default-src", "script-src", "connect-src", "font-src"} {
			if directives[d] != "'self'" && directives[d] != "'none'" {
				t.Errorf("CSP %s is %q", d, directives[d])
			}
		}
		e.problem(e.call("GET", "/v1/docs/no-such-file.js", "", nil), 404, "not-found")
	})
}
