package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SeedOptions shape the synthetic history SeedStats writes.
type SeedOptions struct {
	Messages, Events int
	// Days is how far back the history goes from Now.
	Days int
	Now  time.Time
	// Seed makes the history reproducible.
	Seed uint64
	// Progress, when not nil, gets a line per table written.
	Progress io.Writer
}

// SeedStats writes a synthetic but realistic history into the tenant, for
// measuring the statistics and message-list queries at scale: leads,
// quotes, o.Events trigger events and o.Messages messages with their
// delivery attempts, over o.Days days before o.Now, busier in the tenant's
// working hours and on weekdays. PostgreSQL gets the rows by COPY
// (pgx CopyFrom), SQLite by multi-row prepared INSERTs in large
// transactions; both in time order, as a live system appends them, with
// UUIDv7 ids of their own creation time. It is a tool for benchmarks, not a
// use case: it bypasses every check and writes no jobs.
func (db *DB) SeedStats(ctx context.Context, tenantID string, o SeedOptions) error {
	if o.Days <= 0 || o.Events <= 0 || o.Messages < 0 {
		return fmt.Errorf("store: seed: days and events must be positive")
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	w := db.bulkWriter()
	now := o.Now.UTC().Truncate(time.Microsecond)
	start := now.AddDate(0, 0, -o.Days)
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}

	// Leads and quotes: about one lead per 10 events, two quotes each.
	nLeads := max(1, o.Events/10)
	leads := make([]string, nLeads)
	quotes := make([]string, 2*nLeads)
	var rows [][]any
	for i := range leads {
		at := start.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
		leads[i] = idAt(at, rng)
		rows = append(rows, []any{leads[i], tenantID, "Lead", fmt.Sprint(i), fmt.Sprintf("lead%d@example.com", i), "+351912345678",
			"pt", pick(rng, []string{"PT", "ES", "FR", ""}, []int{6, 2, 1, 1}), "", pick(rng, []string{"web", "phone", "referral"}, []int{5, 3, 2}),
			"new", `["roofing"]`, "joao", `{}`, false, true, 1, micros(at), micros(at)})
	}
	if err := w(ctx, "leads", []string{"id", "tenant_id", "first_name", "last_name", "email", "phone", "language", "country", "timezone",
		"source", "stage", "tags", "owner", "custom", "email_opt_out", "whatsapp_opt_in", "version", "created_at", "updated_at"}, rows); err != nil {
		return err
	}
	progress("leads: %d", len(leads))
	rows = rows[:0]
	for i := range quotes {
		at := start.Add(-time.Duration(rng.Int64N(int64(24 * time.Hour))))
		quotes[i] = idAt(at, rng)
		rows = append(rows, []any{quotes[i], tenantID, leads[i/2], fmt.Sprintf("S-%d", i), int64(10000 + rng.IntN(500000)), "EUR", "sent",
			nil, 1, idAt(at, rng), "", 1, micros(at), micros(at)})
	}
	if err := w(ctx, "quotes", []string{"id", "tenant_id", "lead_id", "number", "amount_minor", "currency", "status", "valid_until",
		"revision", "public_token", "rejection_reason", "version", "created_at", "updated_at"}, rows); err != nil {
		return err
	}
	progress("quotes: %d", len(quotes))

	// Events, in time order.
	type event struct {
		id      string
		at      time.Time
		quote   int
		trigger string
	}
	evTimes := make([]time.Time, o.Events)
	for i := range evTimes {
		evTimes[i] = busyTime(rng, start, now)
	}
	slices.SortFunc(evTimes, func(a, b time.Time) int { return a.Compare(b) })
	events := make([]event, o.Events)
	triggers := []string{"quote.sent", "quote.viewed", "quote.accepted", "quote.rejected", "quote.expired"}
	actions := map[string]string{"quote.sent": "send", "quote.viewed": "view", "quote.accepted": "accept", "quote.rejected": "reject", "quote.expired": "expire"}
	outcomes := []struct{ outcome, source, reason string }{
		{"workflow", "rule", "rule_matched"}, {"legacy", "fallback", "fallback_legacy"}, {"none", "fallback", "fallback_internal_signal"},
		{"none", "fallback", "fallback_none_by_design"}, {"none", "fallback", "fallback_legacy_disabled"}, {"suppressed", "override", "override_suppress"},
	}
	cols := []string{"id", "tenant_id", "lead_id", "quote_id", "trigger", "action", "idempotency_key", "dedupe_key", "duplicate",
		"duplicate_of", "context", "decision", "outcome", "reason", "response", "created_at"}
	for lo := 0; lo < len(events); lo += seedChunk {
		rows = rows[:0]
		for i := lo; i < min(lo+seedChunk, len(events)); i++ {
			q := rng.IntN(len(quotes))
			e := event{id: idAt(evTimes[i], rng), at: evTimes[i], quote: q, trigger: pick(rng, triggers, []int{45, 30, 10, 8, 7})}
			events[i] = e
			oc := outcomes[pickIndex(rng, []int{60, 15, 8, 5, 4, 8})]
			var missing []string
			if rng.IntN(100) < 15 {
				missing = append(missing, "lead.custom.roof_type")
				if rng.IntN(3) == 0 {
					missing = append(missing, "lead.country")
				}
			}
			dup := rng.IntN(100) < 2
			if dup {
				oc = struct{ outcome, source, reason string }{"none", "duplicate", "duplicate_event"}
				missing = nil
			}
			decision, err := json.Marshal(map[string]any{"outcome": oc.outcome, "source": oc.source, "reason": oc.reason,
				"missing_fields": missing, "trace": []any{}})
			if err != nil {
				return err
			}
			rows = append(rows, []any{e.id, tenantID, leads[q/2], quotes[q], e.trigger, actions[e.trigger], nil,
				fmt.Sprintf("%s:%s:%d", quotes[q], actions[e.trigger], i), dup, nil, `{"lead":{}}`, string(decision), oc.outcome, oc.reason, nil,
				micros(e.at)})
		}
		if err := w(ctx, "trigger_events", cols, rows); err != nil {
			return err
		}
	}
	progress("trigger_events: %d", len(events))

	// Messages, each of a random event and written a while after it (a
	// wait step), in time order; their attempts after them.
	type msgRef struct {
		event int
		at    time.Time
	}
	refs := make([]msgRef, o.Messages)
	for i := range refs {
		ev := rng.IntN(len(events))
		at := events[ev].at
		if rng.IntN(3) == 0 { // after a wait: minutes to days
			at = at.Add(time.Duration(rng.ExpFloat64() * float64(6*time.Hour)))
		} else {
			at = at.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		}
		if at.After(now) {
			at = now.Add(-time.Duration(rng.IntN(3600)) * time.Second)
		}
		if at.Before(events[ev].at) {
			at = events[ev].at
		}
		refs[i] = msgRef{ev, at}
	}
	slices.SortFunc(refs, func(a, b msgRef) int { return a.at.Compare(b.at) })
	mcols := []string{"id", "tenant_id", "event_id", "lead_id", "quote_id", "workflow_id", "workflow_version", "trigger", "channel",
		"provider", "recipient", "subject", "body", "status", "attempts", "last_error", "error_class", "reason", "sent_at", "delivered_at",
		"read_at", "created_at", "updated_at", "event_at"}
	acols := []string{"id", "tenant_id", "message_id", "number", "provider", "started_at", "finished_at", "outcome", "error", "error_class",
		"provider_message_id", "retry_at"}
	workflows := []string{idAt(start, rng), idAt(start, rng), idAt(start, rng), idAt(start, rng)}
	statuses := []string{"delivered", "sent", "read", "failed", "suppressed", "cancelled", "queued", "scheduled", "shadow", "unknown", "sending"}
	statusW := []int{45, 20, 8, 6, 6, 5, 3, 2, 3, 1, 1}
	var attempts int
	var arows [][]any
	for lo := 0; lo < len(refs); lo += seedChunk {
		rows, arows = rows[:0], arows[:0]
		for i := lo; i < min(lo+seedChunk, len(refs)); i++ {
			r := refs[i]
			e := events[r.event]
			id := idAt(r.at, rng)
			channel := pick(rng, []string{"email", "whatsapp"}, []int{65, 35})
			provider := map[string]string{"email": "smtp", "whatsapp": "cloud_api"}[channel]
			if rng.IntN(20) == 0 {
				provider = "log"
			}
			status := pick(rng, statuses, statusW)
			var wf, wfv any
			if rng.IntN(10) < 7 {
				wf, wfv = workflows[rng.IntN(len(workflows))], int64(1+rng.IntN(3))
			}
			errClass, reason, lastErr := "", "", ""
			switch status {
			case "failed":
				errClass = pick(rng, []string{"transient", "recipient", "request", "tenant"}, []int{4, 3, 2, 1})
				reason, lastErr = "provider_error", "550 mailbox unavailable"
			case "suppressed":
				reason = pick(rng, []string{"no_address", "email_opt_out", "no_whatsapp_opt_in"}, []int{3, 2, 5})
			case "cancelled":
				reason = "exit_on"
			case "unknown":
				errClass = "unknown"
			}
			var sent, delivered, read any
			nAtt := 0
			switch status {
			case "delivered", "sent", "read", "failed", "unknown", "sending":
				nAtt = 1
				for nAtt < 6 && rng.IntN(100) < 15 {
					nAtt++
				}
			}
			t := r.at
			for n := 1; n <= nAtt; n++ {
				t = t.Add(time.Duration(200+rng.IntN(2000)) * time.Millisecond)
				if n > 1 {
					t = t.Add(time.Duration(math.Pow(2, float64(n))) * 30 * time.Second)
				}
				aOutcome, aClass, aErr := "retry", "transient", "421 try again later"
				var retryAt any = micros(t.Add(time.Minute))
				if n == nAtt {
					aOutcome, aClass, aErr, retryAt = "sent", "", "", nil
					if status == "failed" {
						aOutcome, aClass, aErr = "failed", errClass, lastErr
					}
					if status == "unknown" {
						aOutcome, aClass, aErr = "unknown", "unknown", "timeout"
					}
				}
				if t.After(now) {
					t = now
				}
				arows = append(arows, []any{idAt(t, rng), tenantID, id, int64(n), provider, micros(t), micros(t.Add(300 * time.Millisecond)),
					aOutcome, aErr, aClass, nil, retryAt})
			}
			attempts += nAtt
			if status == "delivered" || status == "sent" || status == "read" {
				s := t.Add(300 * time.Millisecond)
				sent = micros(s)
				if status != "sent" {
					d := s.Add(time.Duration(500+rng.IntN(30000)) * time.Millisecond)
					delivered = micros(d)
					if status == "read" {
						read = micros(d.Add(time.Duration(rng.IntN(7200)) * time.Second))
					}
				}
			}
			rows = append(rows, []any{id, tenantID, e.id, leads[e.quote/2], quotes[e.quote], wf, wfv, e.trigger, channel, provider,
				"lead@example.com", "Your quote", "Hi, here is your quote.", status, int64(nAtt), lastErr, errClass, reason, sent, delivered,
				read, micros(r.at), micros(t), micros(e.at)})
		}
		if err := w(ctx, "messages", mcols, rows); err != nil {
			return err
		}
		if err := w(ctx, "message_attempts", acols, arows); err != nil {
			return err
		}
	}
	progress("messages: %d, message_attempts: %d", len(refs), attempts)
	// Statistics for the planner; on PostgreSQL also the visibility map, as
	// autovacuum would set it on settled rows, for index-only scans.
	analyze := "ANALYZE "
	if db.dialect == DialectPostgres {
		analyze = "VACUUM ANALYZE "
	}
	for _, table := range []string{"leads", "quotes", "trigger_events", "messages", "message_attempts"} {
		if _, err := db.sql.ExecContext(ctx, analyze+table); err != nil {
			return translate(err, "analyze", onViolation{})
		}
	}
	return nil
}

// seedChunk is how many rows one COPY or one SQLite transaction carries.
const seedChunk = 50000

// bulkWriter returns the fastest way the dialect has to append rows.
func (db *DB) bulkWriter() func(ctx context.Context, table string, cols []string, rows [][]any) error {
	if db.dialect == DialectPostgres {
		return func(ctx context.Context, table string, cols []string, rows [][]any) error {
			_, err := db.pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return translate(err, "copy "+table, onViolation{})
		}
	}
	return func(ctx context.Context, table string, cols []string, rows [][]any) error {
		const perStmt = 40 // rows per INSERT: ~900 parameters, under SQLite's limit
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return translate(err, "begin", onViolation{})
		}
		defer func() { _ = tx.Rollback() }()
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
		full, err := tx.PrepareContext(ctx, head+strings.TrimSuffix(strings.Repeat(one+", ", perStmt), ", "))
		if err != nil {
			return translate(err, "prepare "+table, onViolation{})
		}
		defer full.Close()
		args := make([]any, 0, perStmt*len(cols))
		for lo := 0; lo < len(rows); lo += perStmt {
			batch := rows[lo:min(lo+perStmt, len(rows))]
			args = args[:0]
			for _, r := range batch {
				args = append(args, r...)
			}
			if len(batch) == perStmt {
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, head+strings.TrimSuffix(strings.Repeat(one+", ", len(batch)), ", "), args...)
			}
			if err != nil {
				return translate(err, "insert "+table, onViolation{})
			}
		}
		return translate(tx.Commit(), "commit", onViolation{})
	}
}

// idAt is a UUIDv7 of time t: what newID would have made at t.
func idAt(t time.Time, rng *rand.Rand) string {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], rng.Uint64())
	binary.BigEndian.PutUint64(u[0:], uint64(t.UnixMilli())<<16|uint64(rng.Uint32()&0x0fff))
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

// busyTime draws a time in [start, end) weighted like a contractor's week:
// most in 08:00-20:00 UTC, weekdays three times as busy as weekends.
func busyTime(rng *rand.Rand, start, end time.Time) time.Time {
	for {
		t := start.Add(time.Duration(rng.Int64N(int64(end.Sub(start)))))
		w := 1.0
		if h := t.Hour(); h >= 8 && h < 20 {
			w *= 4
		}
		if d := t.Weekday(); d == time.Saturday || d == time.Sunday {
			w /= 3
		}
		if rng.Float64()*4 < w {
			return t
		}
	}
}

func pickIndex(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func pick(rng *rand.Rand, xs []string, weights []int) string { return xs[pickIndex(rng, weights)] }
