package api_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// The editor's sign-in link: a code the demo issued is traded once for the
// admin key it stands for, and the key then works.
func TestSignInExchange(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Sign-in Co", nil)
		tenantID := str(e.must(200, "GET", "/v1/tenant", key, nil)["id"])

		code := e.codes.Issue(time.Now(), key, tenantID)
		got := e.must(200, "POST", "/v1/sign-in/exchange", "", map[string]any{"code": code})
		if got["key"] != key || got["tenant_id"] != tenantID {
			t.Fatalf("exchange answered %v, want the key of tenant %s", got, tenantID)
		}
		if name := e.must(200, "GET", "/v1/tenant", str(got["key"]), nil)["name"]; name != "Sign-in Co" {
			t.Fatalf("the exchanged key reads tenant %v", name)
		}

		t.Run("a code works once", func(t *testing.T) {
			e.problem(e.call("POST", "/v1/sign-in/exchange", "", map[string]any{"code": code}), 404, "not-found")
		})
		t.Run("an unknown code", func(t *testing.T) {
			e.problem(e.call("POST", "/v1/sign-in/exchange", "", map[string]any{"code": "no-such-code"}), 404, "not-found")
		})
		t.Run("a code past its ten minutes", func(t *testing.T) {
			old := e.codes.Issue(time.Now().Add(-app.SignInCodeTTL-time.Second), key, tenantID)
			e.problem(e.call("POST", "/v1/sign-in/exchange", "", map[string]any{"code": old}), 404, "not-found")
		})
		t.Run("a code whose key was revoked since", func(t *testing.T) {
			other := str(e.must(201, "POST", "/v1/api-keys", key, map[string]any{"role": "admin"})["key"])
			otherID := str(e.must(200, "GET", "/v1/api-keys", key, nil)["items"].([]any)[1].(map[string]any)["id"])
			c := e.codes.Issue(time.Now(), other, tenantID)
			e.must(204, "DELETE", "/v1/api-keys/"+otherID, key, nil)
			e.problem(e.call("POST", "/v1/sign-in/exchange", "", map[string]any{"code": c}), 404, "not-found")
		})
		t.Run("no code names body.code", func(t *testing.T) {
			if loc := e.problem(e.call("POST", "/v1/sign-in/exchange", "", map[string]any{"code": ""}), 422, "validation"); loc != "body.code" {
				t.Fatalf("problem at %q, want body.code", loc)
			}
		})
	})
}

// A server without sign-in codes (every command but demo) knows no code.
func TestSignInExchangeWithoutCodes(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, nil, app.Config{OperatorToken: operatorToken}, log)
	srv := httptest.NewServer(api.New(a, log, api.Options{}))
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, app: a}
	key := e.tenant("No Codes", nil)
	tenantID := str(e.must(200, "GET", "/v1/tenant", key, nil)["id"])
	// A code issued elsewhere means nothing here.
	code := app.NewSignInCodes().Issue(time.Now(), key, tenantID)
	e.problem(e.call("POST", "/v1/sign-in/exchange", "", map[string]any{"code": code}), 404, "not-found")
}
