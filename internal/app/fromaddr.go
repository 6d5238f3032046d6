package app

import (
	"net/mail"
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// fromDomainProblem says why an email channel's From, which net/mail
// accepted, still cannot send, or "". The SMTP sender names its messages
// after the From's domain (Message-ID) and refuses a domain that is not an
// ASCII host name; net/mail also accepts domain literals ("[127.0.0.1]"),
// internationalised names and atext such as "_" or "+", so without this
// check such a From was saved and then failed every message (found by
// FuzzTenantSettings). The rule is the sender's own (smtp.validHostname).
func fromDomainProblem(e *engine.EmailChannel) string {
	if e == nil || e.Provider != "smtp" {
		return ""
	}
	a, err := mail.ParseAddress(e.From)
	if err != nil {
		return "" // reported as unparseable already
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	if len(domain) > 253 || strings.Trim(domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != "" {
		return "must be at a domain name of letters, digits, - and . (write an internationalised domain as xn--...), e.g. quotes@acme.example"
	}
	return ""
}
