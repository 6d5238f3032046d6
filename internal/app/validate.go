package app

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/currency"

	"github.com/quoteflow/quoteflow/internal/engine"
)

var (
	languageRe  = regexp.MustCompile(`^[a-z]{2,3}([-_][A-Za-z]{2,4})?$`)
	customKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	clockRe     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// problems collects the field errors of one request.
type problems []engine.FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, engine.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &engine.Error{Code: engine.EINVALID, Message: "validation failed", Fields: p}
}

// validatePhone reports whether phone is a valid number written in E.164.
func validatePhone(phone string) error {
	if !strings.HasPrefix(phone, "+") {
		return fmt.Errorf("must be E.164: a + and the country code, e.g. +351912345678")
	}
	num, err := phonenumbers.Parse(phone, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return fmt.Errorf("is not a valid phone number")
	}
	if e164 := phonenumbers.Format(num, phonenumbers.E164); e164 != phone {
		return fmt.Errorf("must be E.164 without spaces or punctuation: %s", e164)
	}
	return nil
}

// RFC 5321 §4.5.3.1 limits: a longer address is refused by mail servers
// (or truncated), so it would fail at every send rather than when saved.
// The domain's own limit (255) needs no check: an address within the
// path's 254 cannot break it.
const (
	maxLocalPart   = 64
	maxAddressPath = 254 // the 256-octet path less its angle brackets
)

// addressTooLong says what is too long in an address mail.ParseAddress
// accepted, or "".
func addressTooLong(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	switch {
	case len(addr) > maxAddressPath:
		return fmt.Sprintf("must be at most %d characters (RFC 5321)", maxAddressPath)
	case at > maxLocalPart:
		return fmt.Sprintf("the part before @ must be at most %d characters (RFC 5321)", maxLocalPart)
	}
	return ""
}

// validateLead checks a lead's fields; paths are under at ("body" for a
// lead written, "lead" for the what-if lead of a preview).
func validateLead(l *engine.Lead, at string) error {
	var p problems
	for field, v := range map[string]string{"first_name": l.FirstName, "last_name": l.LastName, "source": l.Source, "stage": l.Stage, "owner": l.Owner} {
		if len(v) > engine.MaxNameLength {
			p.add(at+"."+field, "must be at most %d characters", engine.MaxNameLength)
		}
	}
	if l.Email != "" {
		if a, err := mail.ParseAddress(l.Email); err != nil || a.Address != l.Email {
			p.add(at+".email", "must be a plain email address, e.g. ana@example.com")
		} else if msg := addressTooLong(a.Address); msg != "" {
			p.add(at+".email", "%s", msg)
		}
	}
	if l.Phone != "" {
		if err := validatePhone(l.Phone); err != nil {
			p.add(at+".phone", "%v", err)
		}
	}
	if l.Country != "" && phonenumbers.GetCountryCodeForRegion(l.Country) == 0 {
		p.add(at+".country", "must be an ISO 3166-1 alpha-2 code in capitals, e.g. PT")
	}
	if l.Language != "" && !languageRe.MatchString(l.Language) {
		p.add(at+".language", "must be a language code such as pt or pt-BR")
	}
	if l.Timezone != "" {
		if _, err := time.LoadLocation(l.Timezone); err != nil || l.Timezone == "Local" {
			p.add(at+".timezone", "must be an IANA timezone such as Europe/Lisbon")
		}
	}
	if len(l.Tags) > 50 {
		p.add(at+".tags", "must have at most 50 tags")
	}
	for i, t := range l.Tags {
		if strings.TrimSpace(t) == "" || len(t) > 64 {
			p.add(fmt.Sprintf("%s.tags[%d]", at, i), "must be 1 to 64 characters")
		}
	}
	for k := range l.Custom {
		if !customKeyRe.MatchString(k) {
			p.add(at+".custom."+k, "custom field names are letters, digits and _ (conditions name them as lead.custom.<name>)")
		}
	}
	sortProblems(p)
	return p.err()
}

// validateQuote checks a quote's fields and sets its AmountMinor; paths are
// under "body". amount is the amount in major units as the client sent it.
func validateQuote(q *engine.Quote, amount float64) error {
	var p problems
	if q.LeadID == "" {
		p.add("body.lead_id", "is required")
	}
	if strings.TrimSpace(q.Number) == "" {
		p.add("body.number", "is required")
	} else if len(q.Number) > 64 {
		p.add("body.number", "must be at most 64 characters")
	}
	if q.ValidUntil != nil && !engine.InstantInRange(*q.ValidUntil) {
		p.add("body.valid_until", engine.InstantRangeMessage)
	}
	if _, err := currency.ParseISO(q.Currency); err != nil || strings.ToUpper(q.Currency) != q.Currency {
		p.add("body.currency", "must be an ISO 4217 code in capitals, e.g. EUR")
	} else if minor, ok := engine.MajorToMinor(amount, q.Currency); !ok || minor < 0 {
		p.add("body.amount", "must be zero or more with at most %d decimals for %s", engine.CurrencyExponent(q.Currency), q.Currency)
	} else {
		q.AmountMinor = minor
	}
	return p.err()
}

// validateTenant checks a tenant's settings; paths are under "body".
func validateTenant(t *engine.Tenant) error {
	var p problems
	if strings.TrimSpace(t.Name) == "" {
		p.add("body.name", "is required")
	} else if len(t.Name) > engine.MaxNameLength {
		p.add("body.name", "must be at most %d characters", engine.MaxNameLength)
	}
	if _, err := time.LoadLocation(t.Timezone); err != nil || t.Timezone == "" || t.Timezone == "Local" {
		p.add("body.timezone", "must be an IANA timezone such as Europe/Lisbon")
	}
	if !t.Mode.Valid() {
		p.add("body.mode", "must be legacy, shadow or engine")
	}
	if q := t.QuietHours; q != nil {
		if !clockRe.MatchString(q.Start) {
			p.add("body.quiet_hours.start", "must be a time of day as HH:MM")
		}
		if !clockRe.MatchString(q.End) {
			p.add("body.quiet_hours.end", "must be a time of day as HH:MM")
		}
		if q.Start == q.End && q.Start != "" {
			p.add("body.quiet_hours.end", "must differ from start")
		}
	}
	if d := t.RetentionDays; d != 0 && (d < engine.MinRetentionDays || d > engine.MaxRetentionDays) {
		p.add("body.retention_days", "must be between %d and %d days", engine.MinRetentionDays, engine.MaxRetentionDays)
	}
	validateAlertSettings(t, &p)
	seen := map[string]bool{}
	for i, h := range t.Holidays {
		if d, err := time.Parse(time.DateOnly, h); err != nil {
			p.add(fmt.Sprintf("body.holidays[%d]", i), "must be a date as YYYY-MM-DD")
		} else if !engine.InstantInRange(d) {
			p.add(fmt.Sprintf("body.holidays[%d]", i), "must be a date from 1970-01-01 to 9999-12-31")
		} else if seen[h] {
			p.add(fmt.Sprintf("body.holidays[%d]", i), "repeats %s", h)
		}
		seen[h] = true
	}
	if e := t.Channels.Email; e != nil {
		switch e.Provider {
		case "log":
		case "smtp":
			if e.Host == "" {
				p.add("body.channels.email.host", "is required for smtp")
			}
			if e.Port < 1 || e.Port > 65535 {
				p.add("body.channels.email.port", "must be 1 to 65535")
			}
			if e.TLS != "starttls" && e.TLS != "tls" && e.TLS != "none" {
				p.add("body.channels.email.tls", "must be starttls, tls or none")
			}
			// The sender refuses this pair; found here, not by each message.
			if e.Username == "" && e.Password != "" {
				p.add("body.channels.email.username", "is required when a password is set")
			}
		default:
			p.add("body.channels.email.provider", "must be smtp or log")
		}
		if e.From == "" {
			p.add("body.channels.email.from", `is required, e.g. "Acme Roofing <quotes@acme.example>"`)
		} else if a, err := mail.ParseAddress(e.From); err != nil {
			p.add("body.channels.email.from", "must be an address such as Acme Roofing <quotes@acme.example>")
		} else if msg := addressTooLong(a.Address); msg != "" {
			p.add("body.channels.email.from", "%s", msg)
		}
	}
	if w := t.Channels.WhatsApp; w != nil {
		switch w.Provider {
		case "log":
		case "cloud_api":
			if w.PhoneNumberID == "" {
				p.add("body.channels.whatsapp.phone_number_id", "is required for cloud_api")
			}
			if w.AccessToken == "" {
				p.add("body.channels.whatsapp.access_token", "is required for cloud_api")
			}
		default:
			p.add("body.channels.whatsapp.provider", "must be cloud_api or log")
		}
	}
	if msg := fromDomainProblem(t.Channels.Email); msg != "" {
		p.add("body.channels.email.from", "%s", msg)
	}
	validateConsentKeywords(t.ConsentKeywords, &p)
	return p.err()
}

// sortProblems orders problems by field so responses are stable even when
// they were found by ranging over a map.
func sortProblems(p problems) {
	slices.SortStableFunc(p, func(a, b engine.FieldError) int { return strings.Compare(a.Field, b.Field) })
}
