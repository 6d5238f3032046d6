package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// With an http public URL (the default, http://<addr>) email still goes
// out: RFC 8058 one-click needs https, so the List-Unsubscribe is a mailto
// to the tenant's From address naming the quote, and there is no
// List-Unsubscribe-Post. Issue 12, defect 4: every message failed as
// "request" before the server was contacted.
func TestEmailWithAnHTTPPublicURLGoesOutWithAMailtoUnsubscribe(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			x := setupExecAt(t, d, "http://127.0.0.1:8080")
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			ms := f.settledFirst(q)
			if ms["status"] != "sent" {
				t.Fatalf("the first email is %v (%v, %v), want sent", ms["status"], ms["error_class"], ms["last_error"])
			}
			token := publicToken(t, f, q)
			var got bool
			for _, m := range f.smtp.Messages() {
				if len(m.To) != 1 || m.To[0] != f.email {
					continue
				}
				got = true
				lu := m.Header.Get("List-Unsubscribe")
				u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(lu, "<"), ">"))
				if err != nil || !strings.HasPrefix(lu, "<mailto:") || u.Opaque != "quotes@acme.example" ||
					u.Query().Get("subject") != "unsubscribe "+token {
					t.Fatalf("List-Unsubscribe %q, want <mailto:quotes@acme.example?subject=unsubscribe%%20%s>", lu, token)
				}
				if p := m.Header.Get("List-Unsubscribe-Post"); p != "" {
					t.Fatalf("List-Unsubscribe-Post %q without https", p)
				}
			}
			if !got {
				t.Fatal("no email reached the SMTP server")
			}
		})
	}
}

// settledFirst waits until the quote's first message has no delivery work
// left and returns it.
func (f *flow) settledFirst(quote string) map[string]any {
	f.t.Helper()
	var m map[string]any
	eventually(f.t, "the first email settles", func() (bool, string) {
		ms := f.messages(f.key, "quote_id="+quote)
		if len(ms) == 0 {
			return false, "no message"
		}
		m = ms[0]
		switch m["status"] {
		case "queued", "sending", "scheduled":
			return false, str(m["status"])
		}
		return true, ""
	})
	return m
}

// publicToken is the token of the quote's public link.
func publicToken(t *testing.T, f *flow, quote string) string {
	t.Helper()
	pub := str(f.must(200, "GET", "/v1/quotes/"+quote, f.key, nil)["public_url"])
	i := strings.LastIndex(pub, "/")
	if i < 0 {
		t.Fatalf("public_url %q", pub)
	}
	return pub[i+1:]
}

// An email channel the sender would refuse is refused when it is saved,
// naming the field: a From that is not an address, a password without a
// username.
func TestEmailChannelMisconfigurationIsRefusedAtSave(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		smtpWith := func(k, v string) map[string]any {
			em := map[string]any{"provider": "smtp", "host": "smtp.example", "port": 587, "tls": "starttls",
				"username": "u", "password": "p", "from": "Acme <quotes@acme.example>"}
			em[k] = v
			return map[string]any{"channels": map[string]any{"email": em}}
		}
		for field, body := range map[string]map[string]any{
			"body.channels.email.from":     smtpWith("from", "not an address"),
			"body.channels.email.username": smtpWith("username", ""),
		} {
			if loc := e.problem(e.call("PATCH", "/v1/tenant", key, body), 422, "validation"); loc != field {
				t.Errorf("location %q, want %s", loc, field)
			}
		}
		e.must(200, "PATCH", "/v1/tenant", key, smtpWith("from", "quotes@acme.example"))
	})
}
