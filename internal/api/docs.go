package api

import (
	"net/http"

	"github.com/quoteflow/quoteflow/internal/api/docsui"
)

// mountDocs serves the API reference at /v1/docs from the binary (docsui):
// huma's own page loads its renderer from a CDN, and shows nothing offline.
func (s *Server) mountDocs() {
	s.mux.HandleFunc("GET /v1/docs", docsui.ServePage(docsui.Page()))
	s.mux.HandleFunc("GET /v1/docs/{file}", func(w http.ResponseWriter, r *http.Request) {
		if !docsui.ServeFile(w, r, r.PathValue("file")) {
			writeProblem(w, newProblem(http.StatusNotFound, "no file "+r.URL.Path))
		}
	})
}
