// Package web serves the editor: the single-page application built from
// web/ by Vite into dist/, committed and embedded so that the binary needs
// no Node to serve it (docs/WEB.md).
package web

import (
	"embed"
	"net/http"
	"strings"

	"github.com/quoteflow/quoteflow/internal/static"
)

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy is sent with the editor's page: everything it
// loads or calls is on this origin, so nothing may come from elsewhere.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the editor: GET / is index.html, revalidated on every
// load (it names the current assets), and GET /assets/... are Vite's
// content-hashed files, cached for a year since a new build gets new
// names. Any other path under /assets/ goes to notFound, so that unknown
// paths answer like the rest of the server.
func Handler(notFound http.Handler) http.Handler {
	files := static.Load(dist, "dist")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, cache := strings.TrimPrefix(r.URL.Path, "/"), static.Immutable
		switch {
		case name == "":
			name, cache = "index.html", "no-cache"
			w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
			w.Header().Set("Referrer-Policy", "no-referrer")
		case !strings.HasPrefix(name, "assets/"):
			name = ""
		}
		if !files.Serve(w, r, name, cache) {
			notFound.ServeHTTP(w, r)
		}
	})
}
