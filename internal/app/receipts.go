package app

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// webhookTenant returns the WhatsApp settings of the tenant a webhook
// names; an unknown (or malformed) tenant id has none, so that it is
// refused exactly like a known tenant with a wrong secret and the route
// cannot tell anyone which tenant ids exist.
func (a *App) webhookTenant(ctx context.Context, tenantID string) (*engine.WhatsAppChannel, error) {
	t, err := a.db.GetTenant(ctx, tenantID)
	if engine.IsNotFound(err) {
		return &engine.WhatsAppChannel{}, nil
	}
	if err != nil {
		return nil, err
	}
	if t.Channels.WhatsApp == nil {
		return &engine.WhatsAppChannel{}, nil
	}
	return t.Channels.WhatsApp, nil
}

// unknownTenantSecret is what a signature is checked against when the
// tenant has no app secret, so that such a refusal costs the same HMAC as
// one with a wrong signature.
const unknownTenantSecret = "no app secret: nothing verifies"

// VerifyWhatsAppWebhook answers Meta's subscription handshake for a
// tenant: the challenge when the verify token is the tenant's.
func (a *App) VerifyWhatsAppWebhook(ctx context.Context, tenantID string, q url.Values) (string, error) {
	w, err := a.webhookTenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	challenge, ok := whatsapp.VerifyChallenge(q, w.VerifyToken)
	if !ok || w.VerifyToken == "" {
		return "", engine.Errorf(engine.EFORBIDDEN, "the verify token does not match")
	}
	return challenge, nil
}

// HandleWhatsAppWebhook applies one webhook delivery for a tenant: status
// receipts, customers' messages and marketing preferences, in one
// transaction, so that a 200 means all of it is stored. A body whose
// signature is not the tenant's app secret's is rejected before anything
// is read from it. Receipts only move messages forward and a message is
// stored once per wamid, so repeated and out-of-order deliveries of the
// same webhook are harmless.
func (a *App) HandleWhatsAppWebhook(ctx context.Context, tenantID string, body []byte, signature string) (WebhookResult, error) {
	w, err := a.webhookTenant(ctx, tenantID)
	if err != nil {
		return WebhookResult{}, err
	}
	secret := w.AppSecret
	if secret == "" {
		secret = unknownTenantSecret
	}
	if !whatsapp.VerifySignature(secret, body, signature) || w.AppSecret == "" {
		return WebhookResult{}, engine.Errorf(engine.EUNAUTHORIZED, "the X-Hub-Signature-256 signature does not match")
	}
	statuses, err := whatsapp.ParseStatuses(body)
	if err != nil {
		return WebhookResult{}, engine.Errorf(engine.EMALFORMED, "not a WhatsApp webhook: %v", err)
	}
	inbound, prefs, err := whatsapp.ParseInbound(body)
	if err != nil {
		return WebhookResult{}, engine.Errorf(engine.EMALFORMED, "not a WhatsApp webhook: %v", err)
	}
	var res WebhookResult
	var counted pendingMetrics
	err = a.db.Tx(ctx, func(tx *store.Tx) error {
		res, counted = WebhookResult{}, counted[:0]
		for _, s := range statuses {
			ok, err := a.applyReceipt(ctx, tx, tenantID, s, &counted)
			if err != nil {
				return err
			}
			if ok {
				res.Applied++
			}
		}
		if len(inbound)+len(prefs) == 0 {
			return nil
		}
		tenant, err := tx.GetTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, in := range inbound {
			created, err := a.receiveInbound(ctx, tx, tenant, in, &counted)
			if err != nil {
				return err
			}
			if created {
				res.Inbound++
			}
		}
		for _, p := range prefs {
			if err := a.applyPreference(ctx, tx, tenant, p, &counted); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		counted.flush()
	}
	return res, err
}

// applyReceipt records one status and moves its message forward. The
// message is found by the attempt id we sent as biz_opaque_callback_data,
// else by the provider's message id.
func (a *App) applyReceipt(ctx context.Context, tx *store.Tx, tenantID string, s whatsapp.Status, counted *pendingMetrics) (bool, error) {
	payload, err := json.Marshal(s)
	if err != nil {
		return false, err
	}
	r := &engine.Receipt{TenantID: tenantID, ProviderMessageID: s.ProviderMessageID, Status: s.Status,
		ProviderTimestamp: s.Timestamp, Payload: payload, ReceivedAt: tx.Now()}
	var class channel.Class
	if len(s.Errors) > 0 {
		r.ErrorCode, class = strconv.Itoa(s.Errors[0].Code), s.Errors[0].Class()
		r.ErrorClass = string(class)
	}
	m, err := a.receiptMessage(ctx, tx, tenantID, s)
	if err != nil {
		return false, err
	}
	if m == nil {
		return false, tx.InsertReceipt(ctx, r)
	}
	r.MessageID = m.ID
	// A replay is not stored twice, but still goes on to the message: the
	// first delivery may have come before the message was known, and
	// moving forward only makes a true replay change nothing.
	if err := tx.InsertReceipt(ctx, r); err != nil {
		return false, err
	}
	next, changed := engine.AdvanceByReceipt(m.Status, s.Status)
	if !changed {
		return false, nil
	}
	at := s.Timestamp
	if at.IsZero() {
		at = tx.Now()
	}
	m.Status = next
	wasDelivered := m.DeliveredAt != nil
	if m.ProviderMessageID == "" {
		m.ProviderMessageID = s.ProviderMessageID
	}
	switch next {
	case engine.MsgSent:
		m.SentAt = &at
	case engine.MsgDelivered:
		m.DeliveredAt = &at
	case engine.MsgRead:
		m.ReadAt = &at
		if m.DeliveredAt == nil {
			m.DeliveredAt = &at
		}
	case engine.MsgFailed:
		m.ErrorClass, m.Reason = string(class), "failed_by_receipt"
		if len(s.Errors) > 0 {
			e := s.Errors[0]
			m.LastError = e.Title + ": " + e.Message + " " + e.Details
		}
	}
	if err := tx.UpdateMessage(ctx, m); err != nil {
		return false, err
	}
	if !wasDelivered && m.DeliveredAt != nil && m.SentAt != nil {
		lag, ch := at.Sub(*m.SentAt).Seconds(), m.Channel
		counted.add(func() { a.metrics.sentToDelivered.WithLabelValues(ch).Observe(lag) })
	}
	switch {
	case next == engine.MsgFailed && class == channel.Recipient:
		return true, a.fallback(ctx, tx, m)
	case next == engine.MsgFailed && class == channel.Window:
		m.Reason = engine.ReasonOutsideWindow
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return false, err
		}
		return true, a.windowFallback(ctx, tx, m)
	}
	return true, nil
}

func (a *App) receiptMessage(ctx context.Context, tx *store.Tx, tenantID string, s whatsapp.Status) (*engine.Message, error) {
	if s.AttemptID != "" {
		att, err := tx.GetAttempt(ctx, tenantID, s.AttemptID)
		if err == nil {
			return tx.GetMessageForUpdate(ctx, tenantID, att.MessageID)
		}
		if !engine.IsNotFound(err) {
			return nil, err
		}
	}
	if s.ProviderMessageID == "" {
		return nil, nil
	}
	m, err := tx.FindMessageByProviderID(ctx, tenantID, s.ProviderMessageID)
	if engine.IsNotFound(err) {
		return nil, nil
	}
	return m, err
}
