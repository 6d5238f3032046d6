package api

import (
	"net/http"
)

// riverUIPrefix is where River's own UI is served, for operators.
const riverUIPrefix = "/ops/river"

// mountRiverUI serves ui under riverUIPrefix to the operator only. A
// browser cannot add a bearer token to the page loads of a UI, so the
// operator token is also accepted as the password of HTTP Basic
// authentication (any user name), and a refusal asks for it.
func (s *Server) mountRiverUI(ui http.Handler) {
	s.mux.Handle(riverUIPrefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isOperatorRequest(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="quoteflow operators", charset="UTF-8"`)
			w.Header().Add("WWW-Authenticate", `Bearer realm="quoteflow"`)
			writeProblem(w, newProblem(http.StatusUnauthorized, "missing or invalid operator token"))
			return
		}
		ui.ServeHTTP(w, r)
	}))
}

func (s *Server) isOperatorRequest(r *http.Request) bool {
	if token, ok := bearer(r.Header.Get("Authorization")); ok {
		return s.app.IsOperator(token)
	}
	if _, password, ok := r.BasicAuth(); ok {
		return s.app.IsOperator(password)
	}
	return false
}
