package engine

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ConsentAction is what an inbound message asks of the lead's WhatsApp
// consent.
type ConsentAction string

// Consent actions.
const (
	ConsentOptOut ConsentAction = "opt_out"
	ConsentOptIn  ConsentAction = "opt_in"
)

// ConsentKeywords are the words that opt a lead out of WhatsApp, and back
// in, when a message is one of them and nothing else. A nil list means
// the default for it.
type ConsentKeywords struct {
	OptOut []string `json:"opt_out,omitempty"`
	OptIn  []string `json:"opt_in,omitempty"`
}

// DefaultOptOutKeywords are the words that opt out when a tenant has not
// chosen its own: the usual opt-out words of the languages quoteflow's
// tenants write in, and the label of Meta's marketing opt-out button
// ("Stop promotions"), which arrives as a button reply with that text.
var DefaultOptOutKeywords = []string{
	"STOP", "STOPALL", "UNSUBSCRIBE", "STOP PROMOTIONS", // en
	"PARAR", "PARE", "SAIR", "CANCELAR SUBSCRICAO", "PARAR PROMOCOES", // pt
	"BAJA", "ALTO", "DETENER", "DETENER PROMOCIONES", // es
	"ARRET", "ARRETER", "DESABONNER", // fr
	"STOPP", "ABMELDEN", // de
	"BASTA", "DISISCRIVI", // it
}

// DefaultOptInKeywords are the words that opt back in when a tenant has
// not chosen its own.
var DefaultOptInKeywords = []string{
	"START", "UNSTOP", "SUBSCRIBE", // en
	"INICIAR",          // pt
	"ALTA", "COMENZAR", // es
	"DEMARRER", "ABONNER", // fr
	"ANMELDEN", // de
	"RIPRENDI", // it
}

// MaxConsentKeywords and MaxConsentKeywordLength bound a tenant's lists.
const (
	MaxConsentKeywords      = 50
	MaxConsentKeywordLength = 64
)

// Effective returns the lists in force: the tenant's where it chose one,
// the defaults elsewhere.
func (k *ConsentKeywords) Effective() ConsentKeywords {
	out := ConsentKeywords{OptOut: DefaultOptOutKeywords, OptIn: DefaultOptInKeywords}
	if k == nil {
		return out
	}
	if k.OptOut != nil {
		out.OptOut = k.OptOut
	}
	if k.OptIn != nil {
		out.OptIn = k.OptIn
	}
	return out
}

// Classify says whether text (a message's body, a button's label or
// payload) is one of the keywords in force: the whole message, compared
// without case, accents, surrounding space and punctuation ("Stop!",
// "  arrêt ", "Pará." all match). A word in a sentence does not count:
// "please don't stop" opts nobody out. Opting out is checked first. It
// returns the keyword as configured.
func (k *ConsentKeywords) Classify(text string) (ConsentAction, string) {
	got := NormalizeKeyword(text)
	if got == "" {
		return "", ""
	}
	eff := k.Effective()
	for _, w := range eff.OptOut {
		if NormalizeKeyword(w) == got {
			return ConsentOptOut, w
		}
	}
	for _, w := range eff.OptIn {
		if NormalizeKeyword(w) == got {
			return ConsentOptIn, w
		}
	}
	return "", ""
}

// NormalizeKeyword is the form keywords are compared in: accents removed
// (NFKD without its combining marks, so "ARRÊT" is "ARRET" and a ligature
// is its letters), upper case, runs of space as one, and punctuation and
// symbols at either end dropped. Text longer than any keyword can be is
// "", so a long message costs nothing.
func NormalizeKeyword(s string) string {
	if len(s) > 4*MaxConsentKeywordLength {
		return ""
	}
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	fields := strings.Fields(b.String())
	out := strings.Join(fields, " ")
	return strings.TrimFunc(out, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
}
