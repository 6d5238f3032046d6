package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

const operatorToken = "test-operator-token"

// env is one running API over a fresh database.
type env struct {
	t   *testing.T
	srv *httptest.Server
	app *app.App
	// codes are the server's sign-in codes, as `quoteflow demo` has them.
	codes *app.SignInCodes
}

// setup starts the API over a fresh, migrated database of dialect.
func setup(t *testing.T, dialect string) *env {
	t.Helper()
	db := storetest.Open(t, dialect)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, nil, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}, log)
	codes := app.NewSignInCodes()
	srv := httptest.NewServer(api.New(a, log, api.Options{SignInCodes: codes}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, app: a, codes: codes}
}

// forEachDB runs fn as a subtest on SQLite, and on PostgreSQL when
// TEST_DATABASE_URL is set.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, d))
		})
	}
}

// response is an HTTP answer with its JSON body decoded.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// call sends a request with token as bearer; body may be a string of raw
// JSON or any value to marshal.
func (e *env) call(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	checkConformance(e.t, method, path, res.StatusCode, res.Header.Get("Content-Type"), raw)
	out := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.JSON); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return out
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	e.t.Helper()
	r := e.call(method, path, token, body, headers...)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r.JSON
}

// tenant creates a tenant and returns its admin key.
func (e *env) tenant(name string, extra map[string]any) string {
	e.t.Helper()
	b := map[string]any{"name": name, "timezone": "Europe/Lisbon"}
	for k, v := range extra {
		b[k] = v
	}
	out := e.must(201, "POST", "/v1/tenants", operatorToken, b)
	key, _ := out["api_key"].(map[string]any)["key"].(string)
	if key == "" {
		e.t.Fatalf("no key in %v", out)
	}
	return key
}

// problem asserts an RFC 9457 problem with status and type, and returns
// the location of its first field error ("" if none).
func (e *env) problem(r response, status int, kind string) string {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		e.t.Fatalf("content type %q, want application/problem+json: %s", ct, r.Raw)
	}
	if got := r.JSON["type"]; got != "urn:quoteflow:problem:"+kind {
		e.t.Fatalf("problem type %v, want %s: %s", got, kind, r.Raw)
	}
	if int(r.JSON["status"].(float64)) != status {
		e.t.Fatalf("problem status %v, want %d", r.JSON["status"], status)
	}
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	loc, _ := errs[0].(map[string]any)["location"].(string)
	return loc
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// quoteSeq numbers the tests' quotes: a quote number is unique in its
// tenant, and a fixture that reused one would be refused with a 409.
var quoteSeq atomic.Int64

// quoteNumber returns a quote number no other test has used: F-…, so that it
// never meets a number a test writes out (those are Q-…) in one tenant.
func quoteNumber() string { return fmt.Sprintf("F-%d", quoteSeq.Add(1)) }
