// Package docsui serves the API reference at /v1/docs from the binary:
// a page of our own that renders the OpenAPI document with RapiDoc, whose
// built file is vendored here by vendor.sh (the version and hashes are in
// VERSION). Nothing the page needs comes from another server.
package docsui

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/quoteflow/quoteflow/internal/static"
)

// CSP is the Content-Security-Policy of the reference: scripts, styles,
// fonts, images and requests from this server only. RapiDoc styles its
// elements through style attributes, hence 'unsafe-inline' for styles,
// which still lets nothing be loaded from elsewhere; data: images are its
// inline icons.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed assets
var assetFS embed.FS

//go:embed page.html.tmpl
var pageTemplate string

// Script is the renderer's file, as vendor.sh copies it.
const Script = "rapidoc-min.js"

// files are the vendored files, by name.
var files = static.Load(assetFS, "assets")

// Page renders the reference's page. The page is served at /v1/docs and
// names its script and the document relative to itself (docs/...,
// openapi.json), so that it works under any prefix a proxy adds.
func Page() []byte {
	var b bytes.Buffer
	t := template.Must(template.New("page").Parse(pageTemplate))
	err := t.Execute(&b, struct{ Script, Spec string }{
		Script: "docs/" + Script + "?v=" + files.Version(Script),
		Spec:   "openapi.json",
	})
	if err != nil {
		panic(err) // the template is the package's own
	}
	return b.Bytes()
}

// ServePage answers GET /v1/docs.
func ServePage(page []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	}
}

// ServeFile serves the vendored file named name and reports whether there
// is one. The page names the script with its hash: another version is
// another address.
func ServeFile(w http.ResponseWriter, r *http.Request, name string) bool {
	return files.Serve(w, r, name, static.Immutable)
}
