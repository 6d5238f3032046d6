package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// alertEmails are the messages the provider got for the alert address.
func (u *useCase) alertEmails() []*channel.Message {
	u.t.Helper()
	u.provider.mu.Lock()
	defer u.provider.mu.Unlock()
	var out []*channel.Message
	for _, m := range u.provider.sent {
		if m.To == "ops@acme.test" {
			out = append(out, m)
		}
	}
	return out
}

// reopenCircuit closes the tenant's cloud_api circuit, evaluates (its alert
// resolves), opens it again and evaluates: a new circuit_open alert, which
// it returns.
func (u *useCase) reopenCircuit() engine.Alert {
	u.t.Helper()
	if err := u.db.CloseCircuit(u.ctx, u.tenant, "cloud_api"); err != nil {
		u.t.Fatal(err)
	}
	if _, ok := u.evaluate()["circuit_open cloud_api"]; ok {
		u.t.Fatal("the circuit_open alert stayed open after the close")
	}
	return u.openCircuit()
}

func (u *useCase) openCircuit() engine.Alert {
	u.t.Helper()
	if err := u.db.Tx(u.ctx, func(tx *store.Tx) error {
		return tx.OpenCircuit(u.ctx, &engine.Circuit{TenantID: u.tenant, Provider: "cloud_api", Reason: "token expired",
			ErrorCode: "190", Until: u.clock.Now().Add(15 * time.Minute)})
	}); err != nil {
		u.t.Fatal(err)
	}
	a, ok := u.evaluate()["circuit_open cloud_api"]
	if !ok {
		u.t.Fatal("no circuit_open alert")
	}
	return a
}

// alert reads one alert back as the API lists it, with its email.
func (u *useCase) alert(id string) engine.Alert {
	u.t.Helper()
	as, _, err := u.a.ListAlerts(u.ctx, u.tenant, engine.AlertFilter{}, engine.Page{Limit: 100})
	if err != nil {
		u.t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	u.t.Fatalf("no alert %s", id)
	return engine.Alert{}
}

// New alerts are emailed to the tenant's alert address through its email
// channel; an alert of the same kind and subject opening again within the
// hour is not emailed again, after the hour it is; a transient failure is
// retried with the email backoff.
func TestNewAlertsAreEmailedOncePerHour(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		tn, err := u.a.GetTenant(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		tn.Alerts = &engine.AlertSettings{Email: "not an address"}
		wantField(t, u.a.UpdateTenant(u.ctx, tn, 0), "body.alerts.email")
		tn.Alerts = &engine.AlertSettings{Email: "Ops <ops@acme.test>"}
		if err := u.a.UpdateTenant(u.ctx, tn, 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := u.a.GetTenant(u.ctx, u.tenant); got.Alerts == nil || got.Alerts.Email != "ops@acme.test" {
			t.Fatalf("tenant alerts %+v, want the address stored bare", got.Alerts)
		}

		first := u.openCircuit()
		ms := u.alertEmails()
		if len(ms) != 1 || ms[0].Email == nil || ms[0].Email.From != "quotes@acme.test" ||
			!strings.HasPrefix(ms[0].Email.Subject, "quoteflow alert: The cloud_api circuit opened") ||
			!strings.Contains(ms[0].Email.Text, first.Action) || !strings.Contains(ms[0].Email.Text, first.ID) {
			t.Fatalf("alert emails %+v, want one naming the circuit_open alert with what to do", ms)
		}
		if a := u.alert(first.ID); a.EmailStatus != store.AlertEmailSent || a.EmailedAt == nil || !a.EmailedAt.Equal(u.clock.Now()) {
			t.Fatalf("the first alert's email: %s at %v, want sent now", a.EmailStatus, a.EmailedAt)
		}

		// The circuit closes and opens again ten minutes later: a new alert,
		// not emailed (the same kind and subject within the hour).
		u.clock.Add(10 * time.Minute)
		second := u.reopenCircuit()
		if second.ID == first.ID {
			t.Fatal("the reopened circuit kept its resolved alert")
		}
		if n := len(u.alertEmails()); n != 1 {
			t.Fatalf("%d alert emails after a second opening within the hour, want 1", n)
		}
		if a := u.alert(second.ID); a.EmailedAt != nil || a.EmailStatus != "" {
			t.Fatalf("the second alert shows an email (%s at %v)", a.EmailStatus, a.EmailedAt)
		}

		// An hour after the first email: the next opening is emailed. The
		// provider refuses it once, transiently; the next evaluation after
		// the backoff (half of email's first 30 s) sends it.
		u.clock.Add(51 * time.Minute)
		u.provider.mu.Lock()
		u.provider.script = []error{&channel.Error{Class: channel.Transient, Code: "421", Message: "try later"}}
		u.provider.mu.Unlock()
		third := u.reopenCircuit()
		if n := len(u.alertEmails()); n != 2 {
			t.Fatalf("%d alert emails after an opening an hour on, want the first and a refused attempt", n)
		}
		if a := u.alert(third.ID); a.EmailStatus != store.AlertEmailQueued {
			t.Fatalf("the third alert's email is %q after a transient failure, want queued for a retry", a.EmailStatus)
		}
		u.clock.Add(14 * time.Second)
		u.evaluate()
		if n := len(u.alertEmails()); n != 2 {
			t.Fatalf("%d alert emails before the retry's time, want 2", n)
		}
		u.clock.Add(time.Second)
		u.evaluate()
		if n := len(u.alertEmails()); n != 3 {
			t.Fatalf("%d alert emails after the retry's time, want 3", n)
		}
		if a := u.alert(third.ID); a.EmailStatus != store.AlertEmailSent {
			t.Fatalf("the third alert's email is %q after its retry, want sent", a.EmailStatus)
		}
		emails, err := u.db.ListAlertEmails(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if len(emails) != 2 || emails[1].Attempts != 2 || emails[1].Status != store.AlertEmailSent || emails[1].To != "ops@acme.test" {
			t.Fatalf("alert emails %+v, want two, the second sent at its second attempt", emails)
		}

		// No address: nothing is emailed.
		tn, err = u.a.GetTenant(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		tn.Alerts = &engine.AlertSettings{Email: ""}
		if err := u.a.UpdateTenant(u.ctx, tn, 0); err != nil {
			t.Fatal(err)
		}
		u.clock.Add(2 * time.Hour)
		u.reopenCircuit()
		if n := len(u.alertEmails()); n != 3 {
			t.Fatalf("%d alert emails with the address removed, want still 3", n)
		}
	})
}
