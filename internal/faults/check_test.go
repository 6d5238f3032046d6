//go:build faults

package faults

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/store"
)

// figures is one scenario's line of the summary table.
type figures struct {
	Scenario, DB string
	Faults       string // what was done to it
	Items        int    // items the clients started
	Sent2xx      int    // quote sends answered 200
	SendSteps    int    // WhatsApp run steps in the database
	Accepted     int    // messages the provider accepted (each counted once per run step)
	UnknownLeft  int    // unknown outcomes the provider never accepted: surfaced, never resent
	Retrying     int    // messages still waiting out a retry's backoff when the drain ended
	Exhausted    int    // messages failed after their last attempt, every attempt refused by the profile: honest failures
	Lost         int    // run steps whose message the provider never took and the outbox does not call unknown
	Duplicated   int    // run steps the provider accepted more than once, or runs beyond one per send
	Missing2xx   int    // 2xx answers the database does not hold
	DupCreates   int    // leads or quotes stored twice for one item (reported: the idem helper's defect)
	Refused      int    // definite non-2xx answers to a careful client
	Retries      int64  // requests the clients sent again
	Seconds      float64
}

var (
	summaryMu sync.Mutex
	summary   []figures
)

func record(f figures) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	summary = append(summary, f)
}

// writeSummary prints the table of every scenario that reached its check.
func writeSummary(w io.Writer) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	if len(summary) == 0 {
		return
	}
	sort.Slice(summary, func(i, j int) bool {
		return summary[i].Scenario+summary[i].DB < summary[j].Scenario+summary[j].DB
	})
	fmt.Fprintln(w, "\n== fault harness summary (per run step: lost and duplicated must be 0, every 2xx stored; the canary must find exactly what it planted)")
	fmt.Fprintf(w, "%-9s %-8s %6s %6s %6s %8s %7s %5s %9s %5s %5s %8s %7s %7s %8s %6s  %s\n", "scenario", "db", "items", "sent", "steps",
		"accepted", "unknown", "retry", "exhausted", "lost", "dup", "2xx-miss", "dup-new", "refused", "retries", "secs", "faults")
	for _, f := range summary {
		fmt.Fprintf(w, "%-9s %-8s %6d %6d %6d %8d %7d %5d %9d %5d %5d %8d %7d %7d %8d %6.1f  %s\n", f.Scenario, f.DB, f.Items, f.Sent2xx,
			f.SendSteps, f.Accepted, f.UnknownLeft, f.Retrying, f.Exhausted, f.Lost, f.Duplicated, f.Missing2xx, f.DupCreates, f.Refused,
			f.Retries, f.Seconds, f.Faults)
	}
}

// check reads the tenant's rows from the database at dbURL and compares
// them with what the clients were answered and what the provider accepted.
// It fills f and returns a description of every lost or duplicated
// delivery, every 2xx not stored, every run not completed, every request
// without an answer (the first 20).
func check(t *testing.T, dbURL, tenantID string, l *ledger, c *client, prov *provider, f *figures) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("check: open: %v", err)
	}
	defer db.Close()
	q := &querier{t: t, ctx: ctx, db: db.SQL(), pg: db.Dialect() == store.DialectPostgres, tenant: tenantID}

	leads := q.rows("SELECT id, phone FROM leads WHERE tenant_id = ?")
	quotes := q.rows("SELECT id, lead_id, status, number, created_at FROM quotes WHERE tenant_id = ?")
	runs := q.rows("SELECT id, COALESCE(CAST(quote_id AS TEXT), ''), status FROM runs WHERE tenant_id = ?")
	steps := q.rows("SELECT run_id, step_id, status FROM run_steps WHERE tenant_id = ? AND type = 'send_whatsapp'")
	msgs := q.rows(`SELECT id, COALESCE(CAST(run_id AS TEXT), ''), COALESCE(step_id, ''), status, reason, attempts FROM messages
		WHERE tenant_id = ? AND channel = 'whatsapp'`)
	attempts := q.rows("SELECT id, message_id FROM message_attempts WHERE tenant_id = ?")

	l.mu.Lock()
	defer l.mu.Unlock()
	f.Items, f.Sent2xx, f.Refused = int(l.started.Load()), len(l.sent), len(l.refused)
	problems := []string{}
	problem := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}

	// Every 2xx is in the database.
	leadByID, perPhone := map[string]bool{}, map[string]int{}
	for _, r := range leads {
		leadByID[r[0]] = true
		perPhone[r[1]]++
	}
	quoteStatus, perLead, quotesOf := map[string]string{}, map[string]int{}, map[string][]string{}
	for _, r := range quotes {
		quoteStatus[r[0]] = r[2]
		perLead[r[1]]++
		quotesOf[r[1]] = append(quotesOf[r[1]], fmt.Sprintf("%s number=%s status=%s created_at=%s", r[0], r[3], r[2], r[4]))
	}
	itemOfLead := map[string]int{}
	for i, id := range l.leads {
		itemOfLead[id] = i
	}
	runsPerQuote := map[string]int{}
	for _, r := range runs {
		runsPerQuote[r[1]]++
		if r[2] != "completed" {
			problem("run %s is %s, want completed", r[0], r[2])
			f.Lost++
		}
	}
	for i, id := range l.leads {
		if !leadByID[id] {
			f.Missing2xx++
			problem("item %d: lead %s was answered 201 and is not stored", i, id)
		}
	}
	for i, id := range l.quotes {
		if _, ok := quoteStatus[id]; !ok {
			f.Missing2xx++
			problem("item %d: quote %s was answered 201 and is not stored", i, id)
		}
	}
	for i, id := range l.sent {
		switch n := runsPerQuote[id]; {
		case quoteStatus[id] != "sent":
			f.Missing2xx++
			problem("item %d: quote %s was answered 200 to send and is %q", i, id, quoteStatus[id])
		case n == 0:
			f.Missing2xx++
			problem("item %d: quote %s was sent and has no run", i, id)
		case n > 1:
			f.Duplicated += n - 1
			problem("item %d: quote %s has %d runs for one send", i, id, n)
		}
	}
	// Stored twice for one item: reported, not failed here (the
	// idempotency helper's defect; see the notes).
	for ph, n := range perPhone {
		if n > 1 {
			f.DupCreates += n - 1
			var i int
			fmt.Sscanf(ph, "+3519100%05d", &i)
			t.Logf("REPORTED: %d leads stored for phone %s, which one client request created with one Idempotency-Key; attempts of lead-%d: %s",
				n, ph, i, strings.Join(c.trace(fmt.Sprintf("lead-%d", i)), "; "))
		}
	}
	for lead, n := range perLead {
		if n > 1 {
			f.DupCreates += n - 1
			i := itemOfLead[lead]
			t.Logf("REPORTED: %d quotes stored for lead %s (item %d), which one client request created with one Idempotency-Key:\n  stored: %s\n  attempts of quote-%d: %s",
				n, lead, i, strings.Join(quotesOf[lead], "; "), i, strings.Join(c.trace(fmt.Sprintf("quote-%d", i)), "; "))
		}
	}

	// Per run step: one message, accepted by the provider at most once,
	// and accepted unless its outcome is honestly unknown.
	accepted, _ := prov.accepted()
	msgOfAttempt := map[string]string{}
	attemptsOfMsg := map[string][]string{}
	for _, a := range attempts {
		msgOfAttempt[a[0]] = a[1]
		attemptsOfMsg[a[1]] = append(attemptsOfMsg[a[1]], a[0])
	}
	acceptedPerMsg := map[string]int{}
	for attempt, n := range accepted {
		m, ok := msgOfAttempt[attempt]
		if !ok {
			f.Duplicated += n
			problem("the provider accepted %d sends of attempt %q, which the database does not know", n, attempt)
			continue
		}
		acceptedPerMsg[m] += n
	}
	msgsOfStep := map[string][][]string{}
	for _, m := range msgs {
		msgsOfStep[m[1]+"/"+m[2]] = append(msgsOfStep[m[1]+"/"+m[2]], m)
	}
	f.SendSteps = len(steps)
	for _, s := range steps {
		ms := msgsOfStep[s[0]+"/"+s[1]]
		if len(ms) != 1 {
			f.Lost += max(0, 1-len(ms))
			f.Duplicated += max(0, len(ms)-1)
			problem("run %s step %s has %d messages, want 1", s[0], s[1], len(ms))
			continue
		}
		m := ms[0]
		switch n := acceptedPerMsg[m[0]]; {
		case n > 1:
			f.Duplicated += n - 1
			f.Accepted++
			problem("run %s step %s: the provider accepted message %s %d times", s[0], s[1], m[0], n)
		case n == 1:
			f.Accepted++
			if m[3] != "sent" && m[3] != "delivered" && m[3] != "read" {
				f.Lost++
				problem("run %s step %s: message %s was accepted and is %s (%s) after its receipt", s[0], s[1], m[0], m[3], m[4])
			}
		case m[3] == "unknown":
			f.UnknownLeft++
		case m[3] == "scheduled" && m[5] != "0":
			f.Retrying++
		case m[3] == "failed" && m[4] == "attempts_exhausted" && prov.refusedAll(attemptsOfMsg[m[0]]):
			// Retried to the channel's limit, and the profile refused every
			// attempt before the provider saw it: failed, visibly, as the
			// spec says; nothing was lost.
			f.Exhausted++
		default:
			f.Lost++
			problem("run %s step %s: message %s is %s (%s) and the provider never accepted it", s[0], s[1], m[0], m[3], m[4])
		}
	}
	if f.SendSteps != 2*len(l.sent) {
		problem("%d WhatsApp run steps for %d sends, want 2 each", f.SendSteps, len(l.sent))
		if f.SendSteps < 2*len(l.sent) {
			f.Lost += 2*len(l.sent) - f.SendSteps
		}
	}
	for _, g := range l.gaveUp {
		problem("gave up: %s", g)
	}
	for _, r := range l.refused {
		t.Logf("refused: %s", r)
	}
	if f.DupCreates > 0 {
		t.Logf("REPORTED: %d leads or quotes stored twice for one client item (a retried create after a fault)", f.DupCreates)
	}
	return problems
}

// querier reads one tenant's rows as strings.
type querier struct {
	t      *testing.T
	ctx    context.Context
	db     *sql.DB
	pg     bool
	tenant string
}

func (q *querier) rows(query string) [][]string {
	q.t.Helper()
	if q.pg {
		query = strings.Replace(query, "?", "$1", 1)
	}
	rows, err := q.db.QueryContext(q.ctx, query, q.tenant)
	if err != nil {
		q.t.Fatalf("check: %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			q.t.Fatalf("check: %s: %v", query, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		q.t.Fatalf("check: %s: %v", query, err)
	}
	return out
}
