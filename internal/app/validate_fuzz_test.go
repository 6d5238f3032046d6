package app

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/quoteflow/quoteflow/internal/channel/smtp"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// fieldsOf returns the fields of an EINVALID *engine.Error, failing the
// test for any other error or for a field error without a message.
func fieldsOf(t *testing.T, err error) map[string]bool {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) == 0 {
		t.Fatalf("error %#v is not an EINVALID error naming fields", err)
	}
	out := map[string]bool{}
	for _, fe := range e.Fields {
		if fe.Message == "" {
			t.Fatalf("field error %q has no message", fe.Field)
		}
		out[fe.Field] = true
	}
	return out
}

// FuzzLeadContact checks a lead's phone and email as clients send them.
// A refusal names exactly the field at fault. An accepted phone is the
// E.164 form of a valid number, so it reads back the same; any valid
// number, written in E.164, is accepted. An accepted email is a bare
// address that the mail sender reads as the same recipient.
func FuzzLeadContact(f *testing.F) {
	for _, c := range [][2]string{{"+351912345678", "ana@example.com"}, {"+1 415 555 2671", "Ana <ana@example.com>"},
		{"00351912345678", "ana@example"}, {"+999", "\"a b\"@example.com"}, {"+35191234567890123", "a@[127.0.0.1]"},
		{"+3519123456７8", "ana@exämple.com"}, {"+", "@"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, phone, email string) {
		err := validateLead(&engine.Lead{Phone: phone, Email: email}, "body")
		var bad map[string]bool
		if err != nil {
			bad = fieldsOf(t, err)
			for field := range bad {
				if field != "body.phone" && field != "body.email" {
					t.Fatalf("phone %q and email %q: the error names %s", phone, email, field)
				}
			}
		}
		if phone != "" {
			phoneErr := validatePhone(phone)
			if (phoneErr != nil) != bad["body.phone"] {
				t.Fatalf("validatePhone(%q) = %v, but the lead's error names phone: %v", phone, phoneErr, bad["body.phone"])
			}
			if phoneErr == nil {
				n, err := phonenumbers.Parse(phone, "")
				if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != phone {
					t.Fatalf("accepted phone %q is not the E.164 form of a valid number", phone)
				}
			}
			if n, err := phonenumbers.Parse(phone, ""); err == nil && phonenumbers.IsValidNumber(n) {
				if e164 := phonenumbers.Format(n, phonenumbers.E164); validatePhone(e164) != nil {
					t.Fatalf("%q is a valid number, but its E.164 form %q is refused: %v", phone, e164, validatePhone(e164))
				}
			}
		}
		if email != "" && !bad["body.email"] {
			a, err := mail.ParseAddress(email)
			if err != nil || a.Address != email || a.Name != "" {
				t.Fatalf("accepted email %q reads as %+v, %v", email, a, err)
			}
			if validateLead(&engine.Lead{Email: a.Address}, "body") != nil {
				t.Fatalf("accepted email %q is refused when sent again", email)
			}
		}
	})
}

// FuzzTenantSettings checks the settings a tenant saves that are read
// again at every send: the email From address, quiet hours and holidays.
// A refusal names its fields under body; an accepted From makes a working
// SMTP sender (a From that only fails at send time would fail every
// message, issue 12 defect 4) and a mailto List-Unsubscribe; accepted
// quiet hours block the minute they start, and an accepted holiday blocks
// its noon, in the tenant's timezone.
func FuzzTenantSettings(f *testing.F) {
	f.Add("Acme Roofing <quotes@acme.example>", "21:00", "08:00", "2026-12-25")
	f.Add("quotes@acme.example", "08:00", "21:00", "2026-02-29")
	f.Add("a@[127.0.0.1]", "24:00", "00:00", "2026-1-5")
	f.Add("=?utf-8?q?Acme?= <q@xn--bcher-kva.example>", "00:00", "23:59", "2026-03-29")
	f.Add("q@exämple.com", "9:00", "17:00", "")
	f.Fuzz(func(t *testing.T, from, start, end, holiday string) {
		tenant := &engine.Tenant{Name: "Acme", Timezone: "Europe/Lisbon", Mode: engine.ModeEngine,
			QuietHours: &engine.QuietHours{Start: start, End: end}, Holidays: []string{holiday},
			Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "smtp", Host: "smtp.acme.example", Port: 587, TLS: "starttls", From: from}}}
		err := validateTenant(tenant)
		bad := map[string]bool{}
		if err != nil {
			bad = fieldsOf(t, err)
			for field := range bad {
				switch field {
				case "body.channels.email.from", "body.quiet_hours.start", "body.quiet_hours.end", "body.holidays[0]":
				default:
					t.Fatalf("the error names %s", field)
				}
			}
		}
		if !bad["body.channels.email.from"] {
			if _, err := smtp.New(*tenant.Channels.Email, smtp.Options{}); err != nil {
				t.Fatalf("From %q is accepted, but the SMTP sender refuses it: %v", from, err)
			}
			a := &App{}
			if lu := a.ListUnsubscribe(tenant, &engine.Quote{PublicToken: "tok"}); !strings.HasPrefix(lu, "mailto:") {
				t.Fatalf("From %q is accepted, but List-Unsubscribe is %q", from, lu)
			}
		}
		loc, _ := time.LoadLocation(tenant.Timezone)
		if !bad["body.quiet_hours.start"] && !bad["body.quiet_hours.end"] {
			at, err := time.ParseInLocation("2006-01-02 15:04", "2026-06-10 "+start, loc)
			if err != nil {
				t.Fatalf("accepted quiet hours start %q is not a time of day: %v", start, err)
			}
			if why := engine.BlockedBy(at, loc, tenant.QuietHours, nil); why != engine.BlockedQuietHours {
				t.Fatalf("quiet hours %s-%s are accepted but %v is %q", start, end, at, why)
			}
		}
		if !bad["body.holidays[0]"] {
			day, err := time.ParseInLocation(time.DateOnly, holiday, loc)
			if err != nil {
				t.Fatalf("accepted holiday %q is not a date: %v", holiday, err)
			}
			if why := engine.BlockedBy(day.Add(12*time.Hour), loc, nil, tenant.Holidays); why != engine.BlockedHoliday {
				t.Fatalf("holiday %s is accepted but its noon is %q", holiday, why)
			}
		}
	})
}

// TestTenantFromNeedsAHostName: net/mail accepts domain literals and
// non-ASCII or atext domains, which the SMTP sender cannot name messages
// after; such a From was saved and failed every message (found by
// FuzzTenantSettings). It is now refused at save, naming the field.
func TestTenantFromNeedsAHostName(t *testing.T) {
	for _, from := range []string{"a@[127.0.0.1]", "q@exämple.com", "Acme <q@a_b.example>", "q@a+b"} {
		err := validateTenant(&engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine,
			Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "smtp", Host: "h", Port: 587, TLS: "starttls", From: from}}})
		if bad := fieldsOf(t, err); len(bad) != 1 || !bad["body.channels.email.from"] {
			t.Errorf("From %q: error names %v, want body.channels.email.from", from, bad)
		}
	}
	ok := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine,
		Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "smtp", Host: "h", Port: 587, TLS: "starttls", From: "Acme <quotes@xn--bcher-kva.example>"}}}
	if err := validateTenant(ok); err != nil {
		t.Fatalf("an ASCII From is refused: %v", err)
	}
}
