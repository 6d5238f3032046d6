package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const inboundColumns = `id, tenant_id, provider_message_id, phone_number_id, from_phone, wa_id, profile_name, type, text,
	payload, media, context_id, raw, lead_id, match, candidates, consent, consent_word, reply_to, trigger, workflow_id,
	sent_at, received_at, reply_to_at, first_reply`

func scanInbound(s scanner) (engine.InboundMessage, error) {
	var m engine.InboundMessage
	var media, candidates []byte
	var raw string
	var leadID, replyTo sql.NullString
	var sent, received int64
	var replyToAt sql.NullInt64
	if err := s.Scan(&m.ID, &m.TenantID, &m.ProviderMessageID, &m.PhoneNumberID, &m.From, &m.WaID, &m.ProfileName,
		&m.Type, &m.Text, &m.Payload, &media, &m.ContextID, &raw, &leadID, &m.Match, &candidates, &m.Consent,
		&m.ConsentWord, &replyTo, &m.Trigger, &m.WorkflowID, &sent, &received, &replyToAt, &m.FirstReply); err != nil {
		return m, err
	}
	m.ReplyToAt = zeroTime(replyToAt)
	m.LeadID, m.ReplyTo, m.Raw = leadID.String, replyTo.String, []byte(raw)
	m.SentAt, m.ReceivedAt = fromMicros(sent), fromMicros(received)
	var err error
	if m.Media, err = decodeOptional[engine.InboundMedia](media); err != nil {
		return m, err
	}
	return m, decodeJSON(candidates, &m.Candidates)
}

// clean makes text from a webhook storable in both dialects: PostgreSQL's
// text refuses NUL and invalid UTF-8, which Meta may pass on from a
// user's phone, and an inbound message must never be refused for them.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// InsertInbound stores m and fills in its ID, and its ReceivedAt from the
// transaction's clock when it is zero, and reports true. A tenant stores a
// wamid once: when it has m's already (Meta redelivered the webhook),
// nothing is written, m is left as it was, its ID empty, and
// InsertInbound reports false. Text fields are stored with NUL bytes and
// invalid UTF-8 replaced. A LeadID must be the tenant's (else EINVALID).
func (tx *Tx) InsertInbound(ctx context.Context, m *engine.InboundMessage) (bool, error) {
	id, err := newID()
	if err != nil {
		return false, err
	}
	if m.Media != nil {
		md := *m.Media
		md.ID, md.MimeType, md.SHA256, md.Filename = clean(md.ID), clean(md.MimeType), clean(md.SHA256), clean(md.Filename)
		m.Media = &md
	}
	media, err := jsonPtr(m.Media)
	if err != nil {
		return false, err
	}
	candidates, err := jsonSlice(m.Candidates)
	if err != nil {
		return false, err
	}
	received := normZero(m.ReceivedAt)
	if received.IsZero() {
		received = tx.now
	}
	sent := normZero(m.SentAt)
	if sent.IsZero() || sent.After(received) {
		sent = received
	}
	raw := clean(string(m.Raw))
	if raw == "" {
		raw = "{}"
	}
	res, err := tx.exec(ctx, `INSERT INTO inbound_messages (`+inboundColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, provider_message_id) DO NOTHING`,
		id, m.TenantID, clean(m.ProviderMessageID), clean(m.PhoneNumberID), clean(m.From), clean(m.WaID),
		clean(m.ProfileName), clean(m.Type), clean(m.Text), clean(m.Payload), media, clean(m.ContextID), raw,
		nullString(m.LeadID), string(m.Match), candidates, string(m.Consent), m.ConsentWord, nullString(m.ReplyTo),
		string(m.Trigger), m.WorkflowID, micros(sent), micros(received), nullZeroTime(normZero(m.ReplyToAt)), m.FirstReply)
	if err != nil {
		return false, translate(err, "insert inbound message", onViolation{foreign: engine.Invalid("lead_id", "no such lead")})
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, translate(err, "insert inbound message", onViolation{})
	}
	m.ID, m.SentAt, m.ReceivedAt, m.ReplyToAt = id, sent, received, normZero(m.ReplyToAt)
	return true, nil
}

// HasReply reports whether an inbound message already answers the
// tenant's outbox message messageID.
func (tx *Tx) HasReply(ctx context.Context, tenantID, messageID string) (bool, error) {
	ok, err := tx.exists(ctx, `SELECT 1 FROM inbound_messages WHERE tenant_id = ? AND reply_to = ? LIMIT 1`, tenantID, messageID)
	return ok, translate(err, "has reply", onViolation{})
}

// GetInbound returns the tenant's inbound message with id.
func (db *DB) GetInbound(ctx context.Context, tenantID, id string) (*engine.InboundMessage, error) {
	m, err := scanInbound(db.auto().queryRow(ctx, `SELECT `+inboundColumns+` FROM inbound_messages
		WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("inbound message")
	}
	if err != nil {
		return nil, translate(err, "get inbound message", onViolation{})
	}
	return &m, nil
}

// ListInbound returns a page of the tenant's inbound messages that match f,
// oldest first (id order), and the cursor of the next page.
func (db *DB) ListInbound(ctx context.Context, tenantID string, f engine.InboundFilter, p engine.Page) ([]engine.InboundMessage, string, error) {
	tx := db.auto()
	w := newWhere(tenantID)
	w.eq("lead_id", f.LeadID)
	w.eq("match", string(f.Match))
	if f.Inbox {
		w.sql += ` AND lead_id IS NULL`
	}
	w.between("received_at", f.From, f.To)
	ms, next, err := paginate(p, func(m *engine.InboundMessage) string { return m.ID }, func(after string, limit int) ([]engine.InboundMessage, error) {
		return collect(ctx, tx, scanInbound, `SELECT `+inboundColumns+` FROM inbound_messages WHERE `+w.sql+` AND id > ? ORDER BY id LIMIT ?`,
			append(w.args, after, limit)...)
	})
	return ms, next, translate(err, "list inbound messages", onViolation{})
}

// LeadsByPhone returns up to limit of the tenant's leads whose phone is
// phone (E.164), oldest first.
func (tx *Tx) LeadsByPhone(ctx context.Context, tenantID, phone string, limit int) ([]engine.Lead, error) {
	if phone == "" {
		return nil, nil
	}
	leads, err := collect(ctx, tx, scanLead, `SELECT `+leadColumns+` FROM leads
		WHERE tenant_id = ? AND phone = ? ORDER BY id LIMIT ?`, tenantID, phone, limit)
	return leads, translate(err, "leads by phone", onViolation{})
}

// WhatsAppWindowEnd is Tx.WhatsAppWindowEnd outside a transaction.
func (db *DB) WhatsAppWindowEnd(ctx context.Context, tenantID, phone string) (time.Time, error) {
	return db.auto().WhatsAppWindowEnd(ctx, tenantID, phone)
}

// WhatsAppWindowEnd returns when the customer-service window of the number
// phone closes: its latest inbound message that opens one (every type but
// Meta's system notices) plus engine.WhatsAppWindow; the zero time when it
// never wrote.
func (tx *Tx) WhatsAppWindowEnd(ctx context.Context, tenantID, phone string) (time.Time, error) {
	if phone == "" {
		return time.Time{}, nil
	}
	var last sql.NullInt64
	err := tx.queryRow(ctx, `SELECT MAX(sent_at) FROM inbound_messages
		WHERE tenant_id = ? AND from_phone = ? AND type <> ?`, tenantID, phone, engine.InboundSystem).Scan(&last)
	if err != nil {
		return time.Time{}, translate(err, "whatsapp window", onViolation{})
	}
	if !last.Valid {
		return time.Time{}, nil
	}
	return fromMicros(last.Int64).Add(engine.WhatsAppWindow), nil
}

// LatestSentMessage returns the lead's message that the provider accepted
// last with sent_at in [from, to], on any channel: the one a reply without
// a quoted message answers. ENOTFOUND when there is none.
func (tx *Tx) LatestSentMessage(ctx context.Context, tenantID, leadID string, from, to time.Time) (*engine.Message, error) {
	return tx.getMessage(ctx, `tenant_id = ? AND lead_id = ? AND sent_at >= ? AND sent_at <= ? AND status <> ?
		ORDER BY sent_at DESC, id DESC LIMIT 1`, tenantID, leadID, micros(from), micros(to), string(engine.MsgShadow))
}

// LatestQuoteEmail returns the quote's email that the provider accepted
// last: the one whose unsubscribe link was followed. ENOTFOUND when none.
func (tx *Tx) LatestQuoteEmail(ctx context.Context, tenantID, quoteID string) (*engine.Message, error) {
	return tx.getMessage(ctx, `tenant_id = ? AND quote_id = ? AND channel = ? AND sent_at IS NOT NULL
		ORDER BY sent_at DESC, id DESC LIMIT 1`, tenantID, quoteID, engine.ChannelEmail)
}

// GetLeadForUpdate is GetLead with a row lock on PostgreSQL until the
// transaction ends, so that a consent change and an edit of the lead are
// applied one after the other, neither undoing the other.
func (tx *Tx) GetLeadForUpdate(ctx context.Context, tenantID, id string) (*engine.Lead, error) {
	l, err := scanLead(tx.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE tenant_id = ? AND id = ?`+tx.forUpdate(), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("lead")
	}
	if err != nil {
		return nil, translate(err, "get lead", onViolation{})
	}
	return &l, nil
}

// SetWhatsAppConsent sets the lead's whatsapp_opt_in to optedIn, in one
// statement, and reports whether it changed: opting out also records when
// (whatsapp_opted_out_at, now), opting in clears it. The version moves, as
// for any edit of the lead. An unknown lead is ENOTFOUND.
func (tx *Tx) SetWhatsAppConsent(ctx context.Context, tenantID, leadID string, optedIn bool) (bool, error) {
	var optedOut any
	if !optedIn {
		optedOut = micros(tx.now)
	}
	return tx.setConsent(ctx, tenantID, leadID, `whatsapp_opt_in = ?, whatsapp_opted_out_at = ?`, `whatsapp_opt_in <> ?`,
		[]any{optedIn, optedOut}, optedIn)
}

// SetEmailOptOut sets the lead's email_opt_out and reports whether it
// changed, as SetWhatsAppConsent does.
func (tx *Tx) SetEmailOptOut(ctx context.Context, tenantID, leadID string, optOut bool) (bool, error) {
	return tx.setConsent(ctx, tenantID, leadID, `email_opt_out = ?`, `email_opt_out <> ?`, []any{optOut}, optOut)
}

func (tx *Tx) setConsent(ctx context.Context, tenantID, leadID, set, differs string, setArgs []any, value bool) (bool, error) {
	args := append(setArgs, micros(tx.now), tenantID, leadID, value)
	res, err := tx.exec(ctx, `UPDATE leads SET `+set+`, version = version + 1, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND `+differs, args...)
	if err != nil {
		return false, translate(err, "set consent", onViolation{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(err, "set consent", onViolation{})
	}
	if n > 0 {
		return true, nil
	}
	ok, err := tx.exists(ctx, `SELECT 1 FROM leads WHERE tenant_id = ? AND id = ?`, tenantID, leadID)
	if err != nil {
		return false, translate(err, "set consent", onViolation{})
	}
	if !ok {
		return false, notFound("lead")
	}
	return false, nil
}

const consentColumns = `id, tenant_id, lead_id, channel, opted_in, source, detail, inbound_id, trigger, workflow_id, created_at`

func scanConsent(s scanner) (engine.ConsentChange, error) {
	var c engine.ConsentChange
	var inbound sql.NullString
	var created int64
	if err := s.Scan(&c.ID, &c.TenantID, &c.LeadID, &c.Channel, &c.OptedIn, &c.Source, &c.Detail, &inbound,
		&c.Trigger, &c.WorkflowID, &created); err != nil {
		return c, err
	}
	c.InboundID, c.CreatedAt = inbound.String, fromMicros(created)
	return c, nil
}

// InsertConsentChange stores c and fills in its ID and CreatedAt (the
// transaction's clock). Its lead and inbound message must be the
// tenant's (else EINVALID).
func (tx *Tx) InsertConsentChange(ctx context.Context, c *engine.ConsentChange) error {
	id, err := newID()
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO consent_changes (`+consentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, c.TenantID, c.LeadID, c.Channel, c.OptedIn, c.Source, clean(c.Detail), nullString(c.InboundID),
		string(c.Trigger), c.WorkflowID, micros(tx.now))
	if err != nil {
		return translate(err, "insert consent change", onViolation{})
	}
	c.ID, c.CreatedAt = id, tx.now
	return nil
}

// ListConsentChanges returns a page of the lead's consent changes, oldest
// first, and the cursor of the next page.
func (db *DB) ListConsentChanges(ctx context.Context, tenantID, leadID string, p engine.Page) ([]engine.ConsentChange, string, error) {
	tx := db.auto()
	cs, next, err := paginate(p, func(c *engine.ConsentChange) string { return c.ID }, func(after string, limit int) ([]engine.ConsentChange, error) {
		return collect(ctx, tx, scanConsent, `SELECT `+consentColumns+` FROM consent_changes
			WHERE tenant_id = ? AND lead_id = ? AND id > ? ORDER BY id LIMIT ?`, tenantID, leadID, after, limit)
	})
	return cs, next, translate(err, "list consent changes", onViolation{})
}

// PendingWhatsApp returns the lead's WhatsApp messages not yet handed to
// the provider (scheduled or queued), locked on PostgreSQL, oldest first:
// what an opt-out stops.
func (tx *Tx) PendingWhatsApp(ctx context.Context, tenantID, leadID string) ([]engine.Message, error) {
	ms, err := collect(ctx, tx, scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = ? AND lead_id = ? AND channel = ? AND status IN (?, ?) ORDER BY id`+tx.forUpdate(),
		tenantID, leadID, engine.ChannelWhatsApp, string(engine.MsgScheduled), string(engine.MsgQueued))
	return ms, translate(err, "pending whatsapp messages", onViolation{})
}

// ListLeadActiveRuns returns the lead's active runs, oldest first: the runs
// a reply may end. Shadow runs are never active.
func (tx *Tx) ListLeadActiveRuns(ctx context.Context, tenantID, leadID string) ([]engine.Run, error) {
	runs, err := collect(ctx, tx, scanRun, `SELECT `+runColumns+` FROM runs
		WHERE tenant_id = ? AND lead_id = ? AND status = ? ORDER BY id`, tenantID, leadID, string(engine.RunActive))
	return runs, translate(err, "list lead active runs", onViolation{})
}

// PurgeInbound deletes up to limit of the tenant's consent changes made
// before cutoff and then up to limit of its inbound messages received
// before it (those whose consent changes are gone), and returns how many
// rows it deleted: they are part of the timeline the retention bounds. In
// the same transaction their counts go to stats_reply_rollups, so that the
// statistics of a purged period stay as they were.
func (db *DB) PurgeInbound(ctx context.Context, tenantID string, cutoff time.Time, limit int) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		n = 0
		slot := func(col string) string {
			return "(" + col + " - " + col + " % " + strconv.FormatInt(int64(RollupSlot/time.Microsecond), 10) + ")"
		}
		consent := `SELECT id FROM consent_changes WHERE tenant_id = ? AND created_at < ? ORDER BY created_at, id LIMIT ?`
		if _, err := tx.exec(ctx, `INSERT INTO stats_reply_rollups (tenant_id, slot, kind, trigger, workflow_id, n)
			SELECT tenant_id, `+slot("created_at")+`, CASE WHEN channel = ? THEN 'unsubscribe' ELSE 'opt_out' END,
				trigger, workflow_id, COUNT(*)
			FROM consent_changes WHERE tenant_id = ? AND opted_in = ? AND id IN (`+consent+`)
			GROUP BY 1, 2, 3, 4, 5
			ON CONFLICT (tenant_id, slot, kind, trigger, workflow_id) DO UPDATE SET n = stats_reply_rollups.n + excluded.n`,
			engine.ChannelEmail, tenantID, false, tenantID, micros(cutoff), limit); err != nil {
			return translate(err, "roll up consent changes", onViolation{})
		}
		res, err := tx.exec(ctx, `DELETE FROM consent_changes WHERE tenant_id = ? AND id IN (`+consent+`)`,
			tenantID, tenantID, micros(cutoff), limit)
		if err != nil {
			return translate(err, "purge consent changes", onViolation{})
		}
		if n, err = res.RowsAffected(); err != nil {
			return translate(err, "purge consent changes", onViolation{})
		}
		inbound := `SELECT i.id FROM inbound_messages i WHERE i.tenant_id = ? AND i.received_at < ?
			AND NOT EXISTS (SELECT 1 FROM consent_changes c WHERE c.tenant_id = i.tenant_id AND c.inbound_id = i.id)
			ORDER BY i.received_at, i.id LIMIT ?`
		for _, kind := range []struct{ name, slotCol, cond string }{
			{"reply", "received_at", `type <> '` + engine.InboundSystem + `'`},
			{"replied", "reply_to_at", `first_reply AND reply_to_at IS NOT NULL`},
		} {
			if _, err := tx.exec(ctx, `INSERT INTO stats_reply_rollups (tenant_id, slot, kind, trigger, workflow_id, n)
				SELECT tenant_id, `+slot(kind.slotCol)+`, '`+kind.name+`', trigger, workflow_id, COUNT(*)
				FROM inbound_messages WHERE tenant_id = ? AND `+kind.cond+` AND id IN (`+inbound+`)
				GROUP BY 1, 2, 3, 4, 5
				ON CONFLICT (tenant_id, slot, kind, trigger, workflow_id) DO UPDATE SET n = stats_reply_rollups.n + excluded.n`,
				tenantID, tenantID, micros(cutoff), limit); err != nil {
				return translate(err, "roll up inbound messages", onViolation{})
			}
		}
		res, err = tx.exec(ctx, `DELETE FROM inbound_messages WHERE tenant_id = ? AND id IN (`+inbound+`)`,
			tenantID, tenantID, micros(cutoff), limit)
		if err != nil {
			return translate(err, "purge inbound messages", onViolation{})
		}
		m, err := res.RowsAffected()
		n += m
		return translate(err, "purge inbound messages", onViolation{})
	})
	return n, err
}
