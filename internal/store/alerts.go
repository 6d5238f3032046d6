package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// AlertWindows are the periods the alert evaluator reads, all ending at Now
// (included: what happened at this instant counts).
type AlertWindows struct {
	Now time.Time
	// Decisions in [RecentFrom, Now) are compared with those in
	// [PreviousFrom, RecentFrom).
	RecentFrom, PreviousFrom time.Time
	// Rules are dead when they matched nothing in [DeadFrom, Now).
	DeadFrom time.Time
	// Failed messages updated since FailedSince are read, at most MaxFailed
	// of them, newest first; and those in OpenFailed (the messages of open
	// alerts) whatever their age, to tell whether they still failed.
	FailedSince time.Time
	MaxFailed   int
	OpenFailed  []string
}

// FailedMessage is a message that failed permanently.
type FailedMessage struct {
	ID, LeadID, Channel, ErrorClass, LastError string
	UpdatedAt                                  time.Time
}

// DecisionWindow counts one trigger's non-duplicate decisions with one
// outcome in the recent and the previous window.
type DecisionWindow struct {
	Trigger, Outcome string
	Recent, Previous int64
}

// AlertSignals is what the evaluator decides from, read in one snapshot.
type AlertSignals struct {
	Circuits  []engine.Circuit
	Failed    []FailedMessage
	Decisions []DecisionWindow
	// Rules are the tenant's rules; RuleMatches counts the decisions that
	// each matched since DeadFrom, TriggerEvents the non-duplicate events
	// per trigger since then.
	Rules         []engine.Rule
	RuleMatches   map[string]int64
	TriggerEvents map[string]int64
	// RecentMatches and PreviousMatches count the decisions each rule
	// matched in the decision windows ([RecentFrom, Now] and
	// [PreviousFrom, RecentFrom)).
	RecentMatches, PreviousMatches map[string]int64
	// OldestDue is when the longest-waiting message due for delivery
	// (queued, sending, or scheduled for a time already past) became due;
	// nil when none waits.
	OldestDue *time.Time
}

// AlertSignals reads the tenant's signals for the windows w.
func (db *DB) AlertSignals(ctx context.Context, tenantID string, w AlertWindows) (*AlertSignals, error) {
	var s AlertSignals
	err := db.Tx(ctx, func(tx *Tx) error {
		var err error
		if s.Circuits, err = collect(ctx, tx, scanCircuit, `SELECT `+circuitColumns+` FROM circuits WHERE tenant_id = ? AND `+openCircuits+` ORDER BY provider`, tenantID); err != nil {
			return translate(err, "alert circuits", onViolation{})
		}
		if s.Failed, err = tx.failedMessages(ctx, tenantID, w); err != nil {
			return err
		}
		if s.Decisions, err = collect(ctx, tx, func(sc scanner) (DecisionWindow, error) {
			var d DecisionWindow
			return d, sc.Scan(&d.Trigger, &d.Outcome, &d.Recent, &d.Previous)
		}, `SELECT trigger, outcome, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), SUM(CASE WHEN created_at < ? THEN 1 ELSE 0 END)
			FROM trigger_events WHERE tenant_id = ? AND created_at >= ? AND created_at <= ? AND duplicate = ?
			GROUP BY trigger, outcome ORDER BY trigger, outcome`,
			micros(w.RecentFrom), micros(w.RecentFrom), tenantID, micros(w.PreviousFrom), micros(w.Now), false); err != nil {
			return translate(err, "alert decisions", onViolation{})
		}
		if s.Rules, err = tx.ListRules(ctx, tenantID); err != nil {
			return err
		}
		ruleID := `json_extract(decision, '$.rule_id')`
		if tx.db.dialect == DialectPostgres {
			ruleID = `decision ->> 'rule_id'`
		}
		s.RuleMatches, s.TriggerEvents = map[string]int64{}, map[string]int64{}
		s.RecentMatches, s.PreviousMatches = map[string]int64{}, map[string]int64{}
		type row struct {
			trigger              string
			rule                 sql.NullString
			dead, recent, before int64
		}
		from := w.DeadFrom
		if w.PreviousFrom.Before(from) {
			from = w.PreviousFrom
		}
		rows, err := collect(ctx, tx, func(sc scanner) (row, error) {
			var r row
			return r, sc.Scan(&r.trigger, &r.rule, &r.dead, &r.recent, &r.before)
		}, `SELECT trigger, `+ruleID+`, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), SUM(CASE WHEN created_at >= ? AND created_at < ? THEN 1 ELSE 0 END)
			FROM trigger_events WHERE tenant_id = ? AND created_at >= ? AND created_at <= ? AND duplicate = ? GROUP BY 1, 2`,
			micros(w.DeadFrom), micros(w.RecentFrom), micros(w.PreviousFrom), micros(w.RecentFrom),
			tenantID, micros(from), micros(w.Now), false)
		if err != nil {
			return translate(err, "alert rule matches", onViolation{})
		}
		for _, r := range rows {
			s.TriggerEvents[r.trigger] += r.dead
			if id := r.rule.String; id != "" {
				s.RuleMatches[id] += r.dead
				s.RecentMatches[id] += r.recent
				s.PreviousMatches[id] += r.before
			}
		}
		var due sql.NullInt64
		if err := tx.queryRow(ctx, `SELECT MIN(COALESCE(scheduled_at, created_at)) FROM messages
			WHERE tenant_id = ? AND (status IN ('queued', 'sending') OR (status = 'scheduled' AND scheduled_at <= ?))`,
			tenantID, micros(w.Now)).Scan(&due); err != nil {
			return translate(err, "alert delivery lag", onViolation{})
		}
		s.OldestDue = timePtr(due)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (tx *Tx) failedMessages(ctx context.Context, tenantID string, w AlertWindows) ([]FailedMessage, error) {
	scan := func(sc scanner) (FailedMessage, error) {
		var m FailedMessage
		var updated int64
		err := sc.Scan(&m.ID, &m.LeadID, &m.Channel, &m.ErrorClass, &m.LastError, &updated)
		m.UpdatedAt = fromMicros(updated)
		return m, err
	}
	const cols = `id, lead_id, channel, error_class, last_error, updated_at`
	recent, err := collect(ctx, tx, scan, `SELECT `+cols+` FROM messages
		WHERE tenant_id = ? AND status = 'failed' AND updated_at >= ? ORDER BY updated_at DESC, id LIMIT ?`,
		tenantID, micros(w.FailedSince), w.MaxFailed)
	if err != nil {
		return nil, translate(err, "alert failed messages", onViolation{})
	}
	seen := map[string]bool{}
	for _, m := range recent {
		seen[m.ID] = true
	}
	var older []any
	for _, id := range w.OpenFailed {
		if !seen[id] {
			older = append(older, id)
		}
	}
	for len(older) > 0 {
		chunk := older[:min(len(older), 500)]
		older = older[len(chunk):]
		still, err := collect(ctx, tx, scan, `SELECT `+cols+` FROM messages WHERE tenant_id = ? AND status = 'failed' AND id IN (`+marks(len(chunk))+`)`,
			append([]any{tenantID}, chunk...)...)
		if err != nil {
			return nil, translate(err, "alert failed messages", onViolation{})
		}
		recent = append(recent, still...)
	}
	return recent, nil
}

const alertColumns = `id, tenant_id, kind, subject, state, lead_id, message_id, rule_id, provider, trigger,
	summary, action, figures, first_seen, last_seen, resolved_at`

func scanAlert(s scanner) (engine.Alert, error) {
	var a engine.Alert
	var lead, message, rule, provider, trigger sql.NullString
	var figures []byte
	var first, last int64
	var resolved sql.NullInt64
	if err := s.Scan(&a.ID, &a.TenantID, &a.Kind, &a.Subject, &a.State, &lead, &message, &rule, &provider, &trigger,
		&a.Summary, &a.Action, &figures, &first, &last, &resolved); err != nil {
		return a, err
	}
	a.LeadID, a.MessageID, a.RuleID, a.Provider, a.Trigger = lead.String, message.String, rule.String, provider.String, trigger.String
	a.FirstSeen, a.LastSeen, a.ResolvedAt = fromMicros(first), fromMicros(last), timePtr(resolved)
	return a, decodeJSON(figures, &a.Figures)
}

// OpenAlerts returns the tenant's open alerts.
func (db *DB) OpenAlerts(ctx context.Context, tenantID string) ([]engine.Alert, error) {
	out, err := collect(ctx, db.auto(), scanAlert, `SELECT `+alertColumns+` FROM alerts WHERE tenant_id = ? AND state = 'open' ORDER BY id`, tenantID)
	return out, translate(err, "open alerts", onViolation{})
}

// SyncAlerts makes the tenant's open alerts the findings, in one
// transaction: a finding with an open alert of its kind and subject
// refreshes it (last_seen, summary, action, figures), a new one opens an
// alert, and an open alert with no finding is resolved. It returns the
// alerts it opened and the number it resolved. When two processes evaluate
// at once, the open-alert index makes one of them fail, and its job retries.
func (db *DB) SyncAlerts(ctx context.Context, tenantID string, findings []engine.Alert) (opened []engine.Alert, resolved int, err error) {
	err = db.Tx(ctx, func(tx *Tx) error {
		opened, resolved, err = tx.SyncAlerts(ctx, tenantID, findings)
		return err
	})
	return opened, resolved, err
}

// SyncAlerts is DB.SyncAlerts in tx, for a caller that writes what the
// openings cause (their email) in the same transaction.
func (tx *Tx) SyncAlerts(ctx context.Context, tenantID string, findings []engine.Alert) (opened []engine.Alert, resolved int, err error) {
	err = func() error {
		open, err := collect(ctx, tx, scanAlert, `SELECT `+alertColumns+` FROM alerts WHERE tenant_id = ? AND state = 'open'`+tx.forUpdate(), tenantID)
		if err != nil {
			return translate(err, "sync alerts", onViolation{})
		}
		byKey := map[string]engine.Alert{}
		for _, a := range open {
			byKey[string(a.Kind)+"\x00"+a.Subject] = a
		}
		for _, f := range findings {
			key := string(f.Kind) + "\x00" + f.Subject
			figures, err := jsonMap(f.Figures)
			if err != nil {
				return err
			}
			if figures == nil {
				figures = "{}"
			}
			if a, ok := byKey[key]; ok {
				delete(byKey, key)
				if _, err := tx.exec(ctx, `UPDATE alerts SET last_seen = ?, summary = ?, action = ?, figures = ? WHERE id = ?`,
					micros(tx.now), f.Summary, f.Action, figures, a.ID); err != nil {
					return translate(err, "sync alerts", onViolation{})
				}
				continue
			}
			id, err := newID()
			if err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `INSERT INTO alerts (`+alertColumns+`) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
				id, tenantID, string(f.Kind), f.Subject, nullString(f.LeadID), nullString(f.MessageID), nullString(f.RuleID),
				nullString(f.Provider), nullString(f.Trigger), f.Summary, f.Action, figures, micros(tx.now), micros(tx.now)); err != nil {
				return translate(err, "open alert", onViolation{})
			}
			f.ID, f.TenantID, f.State, f.FirstSeen, f.LastSeen = id, tenantID, engine.AlertOpen, tx.now, tx.now
			opened = append(opened, f)
		}
		for _, a := range byKey {
			if _, err := tx.exec(ctx, `UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?`, micros(tx.now), a.ID); err != nil {
				return translate(err, "resolve alert", onViolation{})
			}
			resolved++
		}
		return nil
	}()
	return opened, resolved, err
}

// ListAlerts returns a page of the tenant's alerts matching f, oldest
// first, each with the status of the email that named it.
func (db *DB) ListAlerts(ctx context.Context, tenantID string, f engine.AlertFilter, p engine.Page) ([]engine.Alert, string, error) {
	q := `SELECT ` + listedAlertColumns + ` FROM alerts a LEFT JOIN alert_emails e ON e.tenant_id = a.tenant_id AND e.id = a.email_id
		WHERE a.tenant_id = ?`
	args := []any{tenantID}
	if f.State != "" {
		q += ` AND a.state = ?`
		args = append(args, string(f.State))
	}
	if f.Kind != "" {
		q += ` AND a.kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.LeadID != "" {
		q += ` AND a.lead_id = ?`
		args = append(args, f.LeadID)
	}
	out, next, err := paginate(p, func(a *engine.Alert) string { return a.ID }, func(after string, limit int) ([]engine.Alert, error) {
		return collect(ctx, db.auto(), scanListedAlert, q+` AND a.id > ? ORDER BY a.id LIMIT ?`, append(args, after, limit)...)
	})
	return out, next, translate(err, "list alerts", onViolation{})
}

// TenantIDs lists every tenant's id, for jobs that visit each tenant.
func (db *DB) TenantIDs(ctx context.Context) ([]string, error) {
	out, err := collect(ctx, db.auto(), func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	}, `SELECT id FROM tenants ORDER BY id`)
	return out, translate(err, "list tenants", onViolation{})
}

// AlertTenants returns the tenants that have an open alert and those that
// have an alert email queued or being sent, two reads for every tenant at
// once: the evaluator reads open alerts, syncs them and sends emails only
// for the tenants that need it, instead of three to five round trips for
// each of thousands of tenants with nothing open.
func (db *DB) AlertTenants(ctx context.Context) (withOpen, withPending map[string]bool, err error) {
	set := func(q string, args ...any) (map[string]bool, error) {
		ids, err := collect(ctx, db.auto(), func(s scanner) (string, error) {
			var id string
			return id, s.Scan(&id)
		}, q, args...)
		out := make(map[string]bool, len(ids))
		for _, id := range ids {
			out[id] = true
		}
		return out, err
	}
	if withOpen, err = set(`SELECT DISTINCT tenant_id FROM alerts WHERE state = 'open'`); err != nil {
		return nil, nil, translate(err, "tenants with open alerts", onViolation{})
	}
	if withPending, err = set(`SELECT DISTINCT tenant_id FROM alert_emails WHERE status IN (?, ?)`, AlertEmailQueued, AlertEmailSending); err != nil {
		return nil, nil, translate(err, "tenants with pending alert emails", onViolation{})
	}
	return withOpen, withPending, nil
}
