package api

import (
	"net/http"
	"strings"
)

// probeMethods are the methods a route can be declared with, in the order
// an Allow header lists them.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods lists the methods some route other than the catch-all
// answers on r's path. The catch-all "/" matches every request, so
// ServeMux's own 405 never happens; asking the mux for each method instead
// keeps routes.go the one list of routes.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	probe := r.Clone(r.Context())
	for _, m := range probeMethods {
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// notRouted answers a request no route took: 405 with Allow when the path
// is known under other methods (RFC 9110 §15.5.6), else 404. Both are
// problem documents, like every other error.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request) {
	if allow := allowedMethods(s.mux, r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, newProblem(http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+strings.Join(allow, ", ")))
		return
	}
	writeProblem(w, newProblem(http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path))
}
