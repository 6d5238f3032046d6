package api

import (
	"context"
)

// SignInExchangeIn is POST /v1/sign-in/exchange.
type SignInExchangeIn struct {
	Code string `json:"code" minLength:"1" maxLength:"200" doc:"The one-time code from the sign-in link that quoteflow demo prints"`
}

// SignInExchangeOut is the admin key a sign-in code stood for.
type SignInExchangeOut struct {
	Key      string `json:"key" doc:"An admin API key of the tenant; keep it like a password"`
	TenantID string `json:"tenant_id"`
}

// exchangeSignIn trades a one-time code for its key. Without codes (every
// process but `quoteflow demo`) every code is unknown.
func (s *Server) exchangeSignIn(ctx context.Context, in *body[SignInExchangeIn]) (*body[SignInExchangeOut], error) {
	got, err := s.app.ExchangeSignInCode(ctx, s.signInCodes, in.Body.Code)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[SignInExchangeOut]{Body: SignInExchangeOut{Key: got.Key, TenantID: got.TenantID}}, nil
}
