package app

import (
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// One-click (RFC 8058) only over https; a mailto to the tenant's From
// naming the quote otherwise.
func TestListUnsubscribe(t *testing.T) {
	tenant := &engine.Tenant{Channels: engine.Channels{Email: &engine.EmailChannel{From: "Acme Roofing <quotes@acme.example>"}}}
	q := &engine.Quote{PublicToken: "tok123"}
	for base, want := range map[string]string{
		"https://quotes.example/":   "https://quotes.example/v1/public/quotes/tok123/unsubscribe",
		"http://127.0.0.1:8080":     "mailto:quotes@acme.example?subject=unsubscribe%20tok123",
		"HTTP://quotes.example.com": "mailto:quotes@acme.example?subject=unsubscribe%20tok123",
	} {
		a := New(nil, nil, Config{PublicBaseURL: base}, nil)
		if got := a.ListUnsubscribe(tenant, q); got != want {
			t.Errorf("%s: %q, want %q", base, got, want)
		}
	}
	a := New(nil, nil, Config{PublicBaseURL: "http://127.0.0.1:8080"}, nil)
	if got := a.ListUnsubscribe(&engine.Tenant{}, q); got != "" {
		t.Errorf("no email channel: %q, want no header", got)
	}
}
