// Package web serves the editor: the single-page application built from
// web/ by Vite into dist/, committed and embedded so that the binary needs
// no Node to serve it (docs/WEB.md).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy is sent with the editor's page: everything it
// loads or calls is on this origin, so nothing may come from elsewhere.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type file struct {
	body []byte
	etag string
}

// Handler serves the editor: GET / is index.html, revalidated on every
// load (it names the current assets), and GET /assets/... are Vite's
// content-hashed files, cached for a year since a new build gets new
// names. Any other path under /assets/ goes to notFound, so that unknown
// paths answer like the rest of the server.
func Handler(notFound http.Handler) http.Handler {
	files := map[string]file{}
	_ = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[strings.TrimPrefix(p, "dist")] = file{body: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, cache := r.URL.Path, "public, max-age=31536000, immutable"
		if name == "/" {
			name, cache = "/index.html", "no-cache"
		} else if !strings.HasPrefix(name, "/assets/") {
			name = ""
		}
		f, ok := files[name]
		if !ok {
			notFound.ServeHTTP(w, r)
			return
		}
		if cache == "no-cache" {
			w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
			w.Header().Set("Referrer-Policy", "no-referrer")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", cache)
		w.Header().Set("ETag", f.etag)
		http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(f.body))
	})
}
