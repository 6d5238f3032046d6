package app

import (
	"context"
	"strconv"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// changeWhatsAppConsent sets a lead's whatsapp_opt_in and, when that
// changed it, records the change (with the inbound message that made it,
// if any) and, on an opt-out, stops the lead's WhatsApp messages not yet
// handed to Meta. It reports whether the consent changed.
func (a *App) changeWhatsAppConsent(ctx context.Context, tx *store.Tx, tenantID, leadID string, optedIn bool, source, detail string,
	from *engine.InboundMessage, counted *pendingMetrics) (bool, error) {
	changed, err := tx.SetWhatsAppConsent(ctx, tenantID, leadID, optedIn)
	if err != nil || !changed {
		return false, err
	}
	c := &engine.ConsentChange{TenantID: tenantID, LeadID: leadID, Channel: engine.ChannelWhatsApp, OptedIn: optedIn,
		Source: source, Detail: detail}
	if from != nil {
		c.InboundID = from.ID
		if from.LeadID == leadID {
			c.Trigger, c.WorkflowID = from.Trigger, from.WorkflowID
		}
	}
	if err := a.recordConsent(ctx, tx, c, counted); err != nil {
		return false, err
	}
	if !optedIn {
		if err := a.stopPendingWhatsApp(ctx, tx, tenantID, leadID); err != nil {
			return false, err
		}
	}
	return true, nil
}

// recordConsent stores a consent change and counts it once committed.
func (a *App) recordConsent(ctx context.Context, tx *store.Tx, c *engine.ConsentChange, counted *pendingMetrics) error {
	if err := tx.InsertConsentChange(ctx, c); err != nil {
		return err
	}
	change := string(engine.ConsentOptOut)
	if c.OptedIn {
		change = string(engine.ConsentOptIn)
	}
	ch, source := c.Channel, c.Source
	counted.add(func() { a.metrics.consent.WithLabelValues(ch, change, source).Inc() })
	return nil
}

// stopPendingWhatsApp suppresses, with reason opted_out, the lead's
// WhatsApp messages that are scheduled or queued: deferred by quiet hours,
// waiting for a retry or an open circuit. Those of a step with an email
// fallback send it instead, as a step planned after the opt-out would.
func (a *App) stopPendingWhatsApp(ctx context.Context, tx *store.Tx, tenantID, leadID string) error {
	pending, err := tx.PendingWhatsApp(ctx, tenantID, leadID)
	if err != nil {
		return err
	}
	for i := range pending {
		m := &pending[i]
		m.Status, m.Reason = engine.MsgSuppressed, engine.ReasonWhatsAppOptedOut
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		if err := a.fallback(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// fallbackReason is the reason of the email queued in place of a WhatsApp
// message: why WhatsApp could not carry it.
func fallbackReason(failed *engine.Message) string {
	switch failed.Reason {
	case engine.ReasonWhatsAppOptedOut, engine.ReasonOutsideWindow:
		return "fallback: " + failed.Reason
	}
	return "fallback: whatsapp " + failed.ErrorClass + " error"
}

// apiConsentChanges are the consent changes an edit of a lead over the API
// makes, from before to after; opting back in to WhatsApp clears the time
// of the customer's opt-out, since the tenant now holds their consent.
func apiConsentChanges(before, after *engine.Lead) []engine.ConsentChange {
	var out []engine.ConsentChange
	if before.WhatsAppOptIn != after.WhatsAppOptIn {
		if after.WhatsAppOptIn {
			after.WhatsAppOptedOutAt = nil
		}
		out = append(out, engine.ConsentChange{TenantID: after.TenantID, LeadID: after.ID, Channel: engine.ChannelWhatsApp,
			OptedIn: after.WhatsAppOptIn, Source: engine.ConsentByAPI, Detail: "whatsapp_opt_in set over the API"})
	}
	if before.EmailOptOut != after.EmailOptOut {
		out = append(out, engine.ConsentChange{TenantID: after.TenantID, LeadID: after.ID, Channel: engine.ChannelEmail,
			OptedIn: !after.EmailOptOut, Source: engine.ConsentByAPI, Detail: "email_opt_out set over the API"})
	}
	return out
}

// Unsubscribe opts the lead of a quote out of email, as the one-click
// unsubscribe of the quote's emails asks (RFC 8058), and records the
// change, attributed to the quote's latest email. Repeating it changes
// nothing and records nothing.
func (a *App) Unsubscribe(ctx context.Context, token string) error {
	q, err := a.db.GetQuoteByToken(ctx, token)
	if err != nil {
		return err
	}
	var counted pendingMetrics
	err = a.db.Tx(ctx, func(tx *store.Tx) error {
		counted = counted[:0]
		changed, err := tx.SetEmailOptOut(ctx, q.TenantID, q.LeadID, true)
		if err != nil || !changed {
			return err
		}
		c := &engine.ConsentChange{TenantID: q.TenantID, LeadID: q.LeadID, Channel: engine.ChannelEmail, OptedIn: false,
			Source: engine.ConsentByUnsubscribe, Detail: "one-click unsubscribe (RFC 8058) from quote " + q.Number}
		last, err := tx.LatestQuoteEmail(ctx, q.TenantID, q.ID)
		switch {
		case err == nil:
			c.Trigger, c.WorkflowID = last.Trigger, last.WorkflowID
		case !engine.IsNotFound(err):
			return err
		}
		return a.recordConsent(ctx, tx, c, &counted)
	})
	if err == nil {
		counted.flush()
	}
	return err
}

// ListConsentChanges returns a page of the lead's consent changes, oldest
// first.
func (a *App) ListConsentChanges(ctx context.Context, tenantID, leadID string, p engine.Page) ([]engine.ConsentChange, string, error) {
	return a.db.ListConsentChanges(ctx, tenantID, leadID, p)
}

// validateConsentKeywords checks a tenant's keyword lists; paths are under
// "body.consent_keywords".
func validateConsentKeywords(k *engine.ConsentKeywords, p *problems) {
	if k == nil {
		return
	}
	seen := map[string]string{}
	check := func(name string, words []string) {
		at := "body.consent_keywords." + name
		if len(words) > engine.MaxConsentKeywords {
			p.add(at, "must have at most %d words", engine.MaxConsentKeywords)
			return
		}
		for i, w := range words {
			field := at + "[" + strconv.Itoa(i) + "]"
			norm := engine.NormalizeKeyword(w)
			switch {
			case norm == "":
				p.add(field, "must have a letter or digit")
			case len(w) > engine.MaxConsentKeywordLength:
				p.add(field, "must be at most %d characters", engine.MaxConsentKeywordLength)
			case seen[norm] != "":
				p.add(field, "is %s again (case, accents and punctuation are not told apart)", seen[norm])
			default:
				seen[norm] = name + "[" + strconv.Itoa(i) + "]"
			}
		}
	}
	check("opt_out", k.OptOut)
	check("opt_in", k.OptIn)
}

// purgeInbound deletes the tenant's inbound messages received before
// cutoff, batch by batch until deadline, with the consent changes they
// made: they are part of the timeline the tenant's retention bounds. The
// leads' consent itself stays as the changes left it.
func (a *App) purgeInbound(ctx context.Context, tenantID string, cutoff, deadline time.Time) error {
	var total int64
	defer func() {
		if total > 0 {
			a.log.InfoContext(ctx, "purged inbound messages", "tenant_id", tenantID, "before", cutoff, "inbound", total)
		}
	}()
	for {
		n, err := a.db.PurgeInbound(ctx, tenantID, cutoff, purgeBatch)
		total += n
		if err != nil || n < purgeBatch || time.Now().After(deadline) {
			return err
		}
	}
}
