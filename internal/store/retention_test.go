package store_test

import (
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func TestTenantRetentionDays(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		equal(t, "a new tenant's retention", b.a.RetentionDays, engine.DefaultRetentionDays)
		got, err := b.db.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "stored retention", got.RetentionDays, engine.DefaultRetentionDays)
		got.RetentionDays = 30
		must(t, b.db.UpdateTenant(b.ctx, got, got.Version))
		again, err := b.db.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "updated retention", again.RetentionDays, 30)
		list, err := b.db.TenantRetentions(b.ctx)
		must(t, err)
		byID := map[string]int{}
		for _, r := range list {
			byID[r.TenantID] = r.Days
		}
		equal(t, "retentions", byID, map[string]int{b.a.ID: 30, b.b.ID: engine.DefaultRetentionDays})
	})
}

// A purge removes old events with everything of theirs, keeps what is new
// or still in flight and every other tenant's rows, and carries the counts
// the statistics read into rollups, exactly once however often it runs.
func TestPurgeRemovesOldTimelineAndKeepsItsCounts(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		t0 := b.clock.Now()
		slot0 := t0.Truncate(store.RollupSlot).UnixMicro()

		// Old and settled: two messages, three attempts, a receipt, a
		// missing lead field.
		old := b.flow(t, b.a.ID, func(e *engine.Event) { e.Decision.MissingFields = []string{"lead.source"} })
		completeRun(t, b, old.run)
		email := b.message(t, old.run, old.step, engine.ChannelEmail, func(m *engine.Message) { m.Status = engine.MsgSent })
		wa := b.message(t, old.run, old.step, engine.ChannelWhatsApp, func(m *engine.Message) {
			m.Status, m.ErrorClass, m.Reason = engine.MsgFailed, "recipient", "not_on_whatsapp"
		})
		must(t, b.tx(func(tx *store.Tx) error {
			for _, a := range []*engine.Attempt{
				{TenantID: b.a.ID, MessageID: email.ID, Number: 1, Provider: "smtp", Outcome: "retry", ErrorClass: "transient"},
				{TenantID: b.a.ID, MessageID: email.ID, Number: 2, Provider: "smtp", Outcome: "sent"},
				{TenantID: b.a.ID, MessageID: wa.ID, Number: 1, Provider: "cloud_api", Outcome: "failed", ErrorClass: "recipient"},
			} {
				if err := tx.InsertAttempt(b.ctx, a); err != nil {
					return err
				}
			}
			return tx.InsertReceipt(b.ctx, &engine.Receipt{TenantID: b.a.ID, MessageID: wa.ID, ProviderMessageID: "wamid.old", Status: "failed"})
		}))
		dupOld := b.event(t, old.quote, duplicateOf(old.event))
		orphanOld := &engine.Receipt{TenantID: b.a.ID, ProviderMessageID: "wamid.nobody", Status: "sent"}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, orphanOld) }))

		// Old but still running: kept, however old.
		active := b.flow(t, b.a.ID)
		b.message(t, active.run, active.step, engine.ChannelEmail, func(m *engine.Message) { m.Status = engine.MsgSent })
		// The other tenant's old rows: another tenant's purge never touches them.
		other := b.flow(t, b.b.ID)
		completeRun(t, b, other.run)
		b.message(t, other.run, other.step, engine.ChannelEmail)

		b.clock.Advance(10 * 24 * time.Hour)
		dupNew := b.event(t, old.quote, duplicateOf(old.event)) // goes with its original
		fresh := b.flow(t, b.a.ID)
		completeRun(t, b, fresh.run)
		b.message(t, fresh.run, fresh.step, engine.ChannelEmail, func(m *engine.Message) { m.Status = engine.MsgSent })
		orphanNew := &engine.Receipt{TenantID: b.a.ID, ProviderMessageID: "wamid.nobody2", Status: "sent"}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, orphanNew) }))

		cutoff := t0.Add(5 * 24 * time.Hour)
		before := map[string]int64{}
		for _, table := range []string{"trigger_events", "runs", "run_steps", "messages", "message_attempts", "receipts"} {
			before[table] = b.count(t, table, b.b.ID)
		}
		// A batch of one event: the purge needs several transactions.
		equal(t, "purged", purgeInBatchesOfOne(t, b, b.a.ID, cutoff), store.PurgeResult{Events: 1, Messages: 2, Attempts: 3, OrphanReceipts: 1})

		for _, gone := range []string{old.event.ID, dupOld.ID, dupNew.ID} {
			if n := b.rawCount(t, `SELECT count(*) FROM trigger_events WHERE id = ?`, gone); n != 0 {
				t.Errorf("event %s is still there", gone)
			}
		}
		equal(t, "A's events left", b.count(t, "trigger_events", b.a.ID), int64(2)) // active and fresh
		equal(t, "A's runs left", b.count(t, "runs", b.a.ID), int64(2))
		equal(t, "A's run steps left", b.count(t, "run_steps", b.a.ID), int64(2))
		equal(t, "A's messages left", b.count(t, "messages", b.a.ID), int64(2))
		equal(t, "A's attempts left", b.count(t, "message_attempts", b.a.ID), int64(0))
		equal(t, "A's receipts left", b.rawCount(t, `SELECT count(*) FROM receipts WHERE tenant_id = ? AND id = ?`, b.a.ID, orphanNew.ID), int64(1))
		equal(t, "A's receipts", b.count(t, "receipts", b.a.ID), int64(1))
		for table, n := range before {
			equal(t, "B's "+table, b.count(t, table, b.b.ID), n)
		}

		// The rollups hold exactly what went.
		rollups := func() map[string]int64 {
			return map[string]int64{
				"email sent":        b.rawCount(t, `SELECT COALESCE(SUM(messages), 0) FROM stats_message_rollups WHERE tenant_id = ? AND slot = ? AND trigger = 'quote.sent' AND channel = 'email' AND status = 'sent' AND reason = '' AND error_class = '' AND workflow_id = ?`, b.a.ID, slot0, old.wf.ID),
				"whatsapp failed":   b.rawCount(t, `SELECT COALESCE(SUM(messages), 0) FROM stats_message_rollups WHERE tenant_id = ? AND slot = ? AND channel = 'whatsapp' AND status = 'failed' AND reason = 'not_on_whatsapp' AND error_class = 'recipient'`, b.a.ID, slot0),
				"messages":          b.rawCount(t, `SELECT COALESCE(SUM(messages), 0) FROM stats_message_rollups WHERE tenant_id = ?`, b.a.ID),
				"smtp first":        b.rawCount(t, `SELECT COALESCE(SUM(attempts), 0) FROM stats_attempt_rollups WHERE tenant_id = ? AND provider = 'smtp' AND retry = 0 AND error_class = 'transient' AND channel = 'email'`, b.a.ID),
				"smtp retry":        b.rawCount(t, `SELECT COALESCE(SUM(attempts), 0) FROM stats_attempt_rollups WHERE tenant_id = ? AND provider = 'smtp' AND retry = 1 AND error_class = ''`, b.a.ID),
				"wa attempt":        b.rawCount(t, `SELECT COALESCE(SUM(attempts), 0) FROM stats_attempt_rollups WHERE tenant_id = ? AND provider = 'cloud_api' AND retry = 0 AND error_class = 'recipient' AND status = 'failed'`, b.a.ID),
				"attempts":          b.rawCount(t, `SELECT COALESCE(SUM(attempts), 0) FROM stats_attempt_rollups WHERE tenant_id = ?`, b.a.ID),
				"decision workflow": b.rawCount(t, `SELECT COALESCE(SUM(events), 0) FROM stats_decision_rollups WHERE tenant_id = ? AND slot = ? AND trigger = 'quote.sent' AND outcome = 'workflow' AND reason = 'rule_matched'`, b.a.ID, slot0),
				"duplicates":        b.rawCount(t, `SELECT COALESCE(SUM(events), 0) FROM stats_decision_rollups WHERE tenant_id = ? AND outcome = 'none' AND reason = 'duplicate_event'`, b.a.ID),
				"decisions":         b.rawCount(t, `SELECT COALESCE(SUM(events), 0) FROM stats_decision_rollups WHERE tenant_id = ?`, b.a.ID),
				"missing source":    b.rawCount(t, `SELECT COALESCE(SUM(events), 0) FROM stats_missing_rollups WHERE tenant_id = ? AND slot = ? AND trigger = 'quote.sent' AND field = 'lead.source'`, b.a.ID, slot0),
				"B":                 b.rawCount(t, `SELECT (SELECT count(*) FROM stats_message_rollups WHERE tenant_id = ?) + (SELECT count(*) FROM stats_decision_rollups WHERE tenant_id = ?)`, b.b.ID, b.b.ID),
			}
		}
		want := map[string]int64{"email sent": 1, "whatsapp failed": 1, "messages": 2, "smtp first": 1, "smtp retry": 1,
			"wa attempt": 1, "attempts": 3, "decision workflow": 1, "duplicates": 2, "decisions": 3, "missing source": 1, "B": 0}
		equal(t, "rollups", rollups(), want)
		purged, err := b.db.PurgedBefore(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "purged before", purged, cutoff.UTC().Truncate(time.Microsecond))

		// Again: nothing more to purge, nothing counted twice.
		res, err := b.db.PurgeBatch(b.ctx, b.a.ID, cutoff, 100)
		must(t, err)
		equal(t, "second purge", res, store.PurgeResult{})
		equal(t, "rollups after a second purge", rollups(), want)

		// The active run ends; the next purge takes it, adding to the same
		// slot's rollups rather than replacing them.
		completeRun(t, b, active.run)
		res, err = b.db.PurgeBatch(b.ctx, b.a.ID, cutoff, 100)
		must(t, err)
		equal(t, "purge of the settled run", res, store.PurgeResult{Events: 1, Messages: 1})
		want["messages"], want["decisions"], want["decision workflow"] = 3, 4, 2
		got := rollups()
		equal(t, "rollups after the settled run", got, want)
	})
}

// purgeInBatchesOfOne purges the tenant's timeline before cutoff one row
// of each kind per transaction, as many transactions as it takes, and
// returns what all of them removed.
func purgeInBatchesOfOne(t *testing.T, b *bundle, tenantID string, cutoff time.Time) store.PurgeResult {
	t.Helper()
	var total store.PurgeResult
	for i := 0; ; i++ {
		res, err := b.db.PurgeBatch(b.ctx, tenantID, cutoff, 1)
		must(t, err)
		total.Events += res.Events
		total.Messages += res.Messages
		total.Attempts += res.Attempts
		total.OrphanReceipts += res.OrphanReceipts
		total.Alerts += res.Alerts
		total.AlertEmails += res.AlertEmails
		if !res.Full(1) {
			return total
		}
		if i > 20 {
			t.Fatal("the purge does not come to an end")
		}
	}
}

func completeRun(t *testing.T, b *bundle, r *engine.Run) {
	t.Helper()
	must(t, b.db.RawExec(b.ctx, `UPDATE runs SET status = 'completed' WHERE tenant_id = ? AND id = ?`, r.TenantID, r.ID))
	r.Status = engine.RunCompleted
}

func duplicateOf(e *engine.Event) func(*engine.Event) {
	return func(d *engine.Event) {
		d.Duplicate, d.DuplicateOf = true, e.ID
		d.Decision = engine.Decision{Outcome: engine.OutcomeNone, Source: engine.SourceFallback, Reason: "duplicate_event"}
	}
}

func (b *bundle) rawCount(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	n, err := b.db.RawInt(b.ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestPurgeRemovesOldAlertsAndTheirEmails: the purge takes the tenant's
// alerts resolved before the cutoff and its settled alert emails queued
// before it, batch by batch; it keeps open alerts however old, alerts
// resolved since, emails still queued, emails an alert left names, and
// every row of another tenant.
func TestPurgeRemovesOldAlertsAndTheirEmails(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		t0 := b.clock.Now()
		finding := func(subject string) engine.Alert {
			return engine.Alert{Kind: engine.AlertMessageFailed, Subject: subject, Summary: "failed", Action: "look"}
		}
		sync := func(tenantID string, subjects ...string) {
			t.Helper()
			var fs []engine.Alert
			for _, s := range subjects {
				fs = append(fs, finding(s))
			}
			_, _, err := b.db.SyncAlerts(b.ctx, tenantID, fs)
			must(t, err)
		}
		email := func(tenantID, status string, alerts ...string) *store.AlertEmail {
			t.Helper()
			e := &store.AlertEmail{TenantID: tenantID, To: "ops@example.com", Subject: "Alerts", Body: "…", Alerts: len(alerts)}
			ids := alertIDs(t, b, tenantID, alerts...)
			must(t, b.tx(func(tx *store.Tx) error { return tx.QueueAlertEmail(b.ctx, e, ids) }))
			if status != store.AlertEmailQueued {
				e.Status, e.NextAt = status, b.clock.Now()
				must(t, b.db.RecordAlertEmail(b.ctx, e))
			}
			return e
		}

		// Day 0: "old" and "still-open" open, and "old" is emailed with an
		// email of its own; another email is still queued.
		sync(b.a.ID, "old", "still-open")
		sync(b.b.ID, "b-old")
		email(b.a.ID, store.AlertEmailSent, "old") // purged with "old"
		openEmail := email(b.a.ID, store.AlertEmailFailed, "still-open")
		queued := email(b.a.ID, store.AlertEmailQueued)
		// Day 1: "old" and B's alert resolve.
		b.clock.Advance(24 * time.Hour)
		sync(b.a.ID, "still-open")
		sync(b.b.ID)
		// Day 10: "recent" opens and resolves, after the cutoff.
		b.clock.Advance(9 * 24 * time.Hour)
		sync(b.a.ID, "still-open", "recent")
		sync(b.a.ID, "still-open")
		recentEmail := email(b.a.ID, store.AlertEmailSent)

		cutoff := t0.Add(5 * 24 * time.Hour)
		equal(t, "purged", purgeInBatchesOfOne(t, b, b.a.ID, cutoff), store.PurgeResult{Alerts: 1, AlertEmails: 1})

		subjects := map[string]string{}
		for _, tenant := range []string{b.a.ID, b.b.ID} {
			alerts, _, err := b.db.ListAlerts(b.ctx, tenant, engine.AlertFilter{}, engine.Page{Limit: 100})
			must(t, err)
			for _, a := range alerts {
				subjects[a.Subject] = string(a.State)
			}
		}
		equal(t, "alerts left", subjects, map[string]string{"still-open": "open", "recent": "resolved", "b-old": "resolved"})
		emails, err := b.db.ListAlertEmails(b.ctx, b.a.ID)
		must(t, err)
		var left []string
		for _, e := range emails {
			left = append(left, e.ID)
		}
		equal(t, "alert emails left", left, []string{openEmail.ID, queued.ID, recentEmail.ID})
	})
}

// alertIDs returns the ids of the tenant's open alerts with these subjects.
func alertIDs(t *testing.T, b *bundle, tenantID string, subjects ...string) []string {
	t.Helper()
	open, err := b.db.OpenAlerts(b.ctx, tenantID)
	must(t, err)
	var ids []string
	for _, s := range subjects {
		for _, a := range open {
			if a.Subject == s {
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) != len(subjects) {
		t.Fatalf("open alerts %v: not all of %v", open, subjects)
	}
	return ids
}
