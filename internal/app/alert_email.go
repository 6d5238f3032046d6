package app

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// New alerts are emailed to the tenant's alert address (tenant alerts.email)
// through its email channel: the evaluation that opens them writes one
// email naming all of them, in the same transaction, leaving out any whose
// kind and subject an email named within the hour (AlertEmailEvery); then
// it sends the tenant's due alert emails. The emails are an outbox of
// their own (store/alert_emails.go), because the messages table belongs to
// leads.

const (
	// alertEmailsPerRun bounds the emails one evaluation sends per tenant;
	// the rest wait for the next.
	alertEmailsPerRun = 5
	// alertEmailTimeout bounds one send: a slow mail server must not hold
	// up the evaluation of the other tenants.
	alertEmailTimeout = 20 * time.Second
	// alertEmailStale is how long an email may stay sending before it is
	// taken for one whose process stopped mid-send (settled as unknown).
	alertEmailStale = 5 * time.Minute
	// alertEmailMaxListed bounds the alerts one email lists in full.
	alertEmailMaxListed = 50
)

// validateAlertSettings checks the tenant's alert address and drops empty
// settings: an empty address means none.
func validateAlertSettings(t *engine.Tenant, p *problems) {
	if t.Alerts == nil {
		return
	}
	email := strings.TrimSpace(t.Alerts.Email)
	if email == "" {
		t.Alerts = nil
		return
	}
	a, err := mail.ParseAddress(email)
	if err != nil || len(email) > 254 {
		p.add("body.alerts.email", "must be an email address such as ops@example.com")
		return
	}
	t.Alerts = &engine.AlertSettings{Email: a.Address}
}

// queueAlertEmail writes, in tx, the email that names the alerts just
// opened, if the tenant has an alert address and any of them was not named
// by an email within the hour.
func (a *App) queueAlertEmail(ctx context.Context, tx *store.Tx, tenantID string, opened []engine.Alert) (*store.AlertEmail, error) {
	if len(opened) == 0 {
		return nil, nil
	}
	tenant, err := tx.GetTenant(ctx, tenantID)
	if err != nil || tenant.Alerts == nil || tenant.Alerts.Email == "" {
		return nil, err
	}
	since := tx.Now().Add(-engine.AlertEmailEvery)
	var news []engine.Alert
	var ids []string
	for _, al := range opened {
		recent, err := tx.AlertEmailedSince(ctx, tenantID, al.Kind, al.Subject, since)
		if err != nil {
			return nil, err
		}
		if !recent {
			news = append(news, al)
			ids = append(ids, al.ID)
		}
	}
	if len(news) == 0 {
		return nil, nil
	}
	subject, body := renderAlertEmail(tenant, news, tx.Now())
	e := &store.AlertEmail{TenantID: tenantID, To: tenant.Alerts.Email, Subject: subject, Body: body, Alerts: len(news)}
	if err := tx.QueueAlertEmail(ctx, e, ids); err != nil {
		return nil, err
	}
	return e, nil
}

// renderAlertEmail writes an alert email: what happened and what to do, per
// alert, in plain text.
func renderAlertEmail(t *engine.Tenant, alerts []engine.Alert, now time.Time) (subject, body string) {
	if len(alerts) == 1 {
		subject = "quoteflow alert: " + oneLine(alerts[0].Summary, 120)
	} else {
		subject = fmt.Sprintf("quoteflow: %d new alerts for %s", len(alerts), oneLine(t.Name, 80))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "New alerts for %s (tenant %s) at %s.\n", t.Name, t.ID, now.Format(time.RFC3339))
	for i, al := range alerts {
		if i == alertEmailMaxListed {
			fmt.Fprintf(&b, "\n… and %d more.\n", len(alerts)-i)
			break
		}
		what := string(al.Kind)
		if al.Subject != "" {
			what += " " + al.Subject
		}
		fmt.Fprintf(&b, "\n%d. %s (alert %s)\n   What happened: %s\n   What to do: %s\n", i+1, what, al.ID, al.Summary, al.Action)
	}
	b.WriteString("\nEvery open alert: GET /v1/alerts?state=open. An alert of the same kind and subject is emailed at most " +
		"once an hour. To change or remove this address: PATCH /v1/tenant with {\"alerts\": {\"email\": \"\"}}.\n")
	return subject, b.String()
}

// oneLine is s on one line, at most n bytes (cut at a rune boundary).
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// sendAlertEmails sends the tenant's due alert emails, at most
// alertEmailsPerRun of them, through its email channel. A transient
// failure queues the email again with the email channel's backoff; an
// open circuit of the provider leaves them queued, without an attempt.
func (a *App) sendAlertEmails(ctx context.Context, tenantID string) error {
	if pending, err := a.db.PendingAlertEmails(ctx, tenantID); err != nil || !pending {
		return err
	}
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	provider := providerOf(tenant, engine.ChannelEmail)
	cs, err := a.db.ListCircuits(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Provider == provider && c.StateAt(a.Now()) == engine.CircuitOpen {
			return nil
		}
	}
	due, err := a.db.ClaimAlertEmails(ctx, tenantID, a.Now().Add(-alertEmailStale), alertEmailsPerRun)
	if err != nil {
		return err
	}
	for i := range due {
		e := &due[i]
		res, sendErr := a.sendAlertEmail(ctx, tenant, e)
		now := a.Now()
		e.Provider, e.NextAt = provider, now
		switch class := channel.ClassOf(sendErr); {
		case sendErr == nil:
			e.Status, e.SentAt, e.ProviderMessageID, e.ErrorClass, e.LastError = store.AlertEmailSent, &now, res.ProviderMessageID, "", ""
		default:
			e.Status, e.ErrorClass, e.LastError = store.AlertEmailFailed, string(class), sendErr.Error()
			var ce *channel.Error
			var retryAfter time.Duration
			if errors.As(sendErr, &ce) {
				retryAfter = ce.RetryAfter
			}
			switch class {
			case channel.Transient:
				if delay, ok := a.retry[engine.ChannelEmail].Next(e.Attempts, retryAfter, a.Rand()); ok {
					e.Status, e.NextAt = store.AlertEmailQueued, now.Add(delay)
				}
			case channel.Unknown:
				e.Status = store.AlertEmailUnknown
			}
		}
		// Recorded even if the job's context has ended: the provider has
		// answered.
		if err := a.db.RecordAlertEmail(context.WithoutCancel(ctx), e); err != nil {
			return err
		}
		// The error class, never the address or the provider's text.
		a.log.InfoContext(ctx, "alert email", "tenant_id", tenantID, "alert_email_id", e.ID, "alerts", e.Alerts,
			"attempt", e.Attempts, "status", e.Status, "error_class", e.ErrorClass)
	}
	return nil
}

// sendAlertEmail calls the tenant's email sender for one claimed email.
func (a *App) sendAlertEmail(ctx context.Context, tenant *engine.Tenant, e *store.AlertEmail) (channel.Result, error) {
	if tenant.Channels.Email == nil {
		return channel.Result{}, &channel.Error{Class: channel.Tenant, Code: "config", Message: "the tenant has no email channel"}
	}
	sender, _, err := a.Senders.For(tenant, engine.ChannelEmail)
	if err != nil {
		return channel.Result{}, &channel.Error{Class: channel.Tenant, Code: "config", Message: err.Error(), Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, alertEmailTimeout)
	defer cancel()
	return sender.Send(ctx, &channel.Message{MessageID: e.ID, AttemptID: fmt.Sprintf("%s-%d", e.ID, e.Attempts), TenantID: tenant.ID,
		To: e.To, Email: &channel.Email{From: tenant.Channels.Email.From, Subject: e.Subject, Text: e.Body}})
}
