package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// testClock is a clock the test sets; the store and the app both read it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// statsEnv is the API over a database whose clock the test controls.
type statsEnv struct {
	*env
	db    *store.DB
	clock *testClock
}

func setupStats(t *testing.T, dialect string) *statsEnv {
	t.Helper()
	db := storetest.Open(t, dialect)
	clk := &testClock{now: time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC)}
	db.Now = clk.Now
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, nil, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}, log)
	a.Now = clk.Now
	srv := httptest.NewServer(api.New(a, log, api.Options{}))
	t.Cleanup(srv.Close)
	return &statsEnv{env: &env{t: t, srv: srv, app: a}, db: db, clock: clk}
}

// at is a UTC time on Lisbon's autumn clock-change day, 2026-10-25, when
// 02:00 WEST (01:00Z) goes back to 01:00 WET: local 01:00-02:00 happens
// twice, 00:00Z-01:00Z and 01:00Z-02:00Z.
func at(day, hour, min int) time.Time { return time.Date(2026, 10, day, hour, min, 0, 0, time.UTC) }

// statsHistory writes a history through the API (decisions) and the store
// (messages and their attempts, which the outbox writes as jobs run), each
// at a time the test sets.
func (x *statsEnv) statsHistory(key string) {
	t := x.t
	t.Helper()
	wf := x.must(201, "POST", "/v1/workflows", key, map[string]any{"name": "Viewed", "trigger": "quote.viewed", "enabled": true,
		"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "Hi", "text": "Hi"}}}})
	// A rule that reads a field no lead here has: every quote.viewed
	// decision names it missing.
	x.must(201, "POST", "/v1/assignment-rules", key, map[string]any{"name": "Tile roofs", "trigger": "quote.viewed", "priority": 1,
		"enabled": true, "workflow_id": wf["id"], "condition": map[string]any{"all": []any{
			map[string]any{"field": "lead.custom.roof_type", "op": "eq", "value": "tile"}}}})
	lead := func(name string) string {
		return str(x.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": name, "email": strings.ToLower(name) + "@example.com"})["id"])
	}
	ana, rui := lead("Ana"), lead("Rui")
	x.must(201, "POST", "/v1/leads/"+rui+"/overrides", key, map[string]any{"trigger": "*", "action": "suppress", "reason": "asked"})
	quote := func(leadID, number string) string {
		return str(x.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": leadID, "number": number, "amount": 100, "currency": "EUR"})["id"])
	}
	events := map[string]string{}
	act := func(name, quoteID, action string, when time.Time) {
		x.clock.set(when)
		out := x.must(200, "POST", "/v1/quotes/"+quoteID+"/"+action, key, map[string]any{})
		events[name] = str(out["event"].(map[string]any)["id"])
	}
	q1, q2, q3 := quote(ana, "Q-1"), quote(rui, "Q-2"), quote(ana, "Q-3")
	act("q3 send", q3, "send", at(24, 22, 30))    // before the window
	act("q1 send", q1, "send", at(24, 23, 30))    // 00:30 WEST
	act("q1 view", q1, "view", at(25, 0, 30))     // the first 01:30 (WEST)
	act("q2 send", q2, "send", at(25, 1, 10))     // the second 01:10 (WET), suppressed
	act("q1 reject", q1, "reject", at(25, 1, 30)) // the second 01:30
	act("q2 accept", q2, "accept", at(25, 12, 0))
	act("q3 view", q3, "view", at(26, 0, 10)) // after the window

	type attempt struct {
		n                        int
		started                  time.Time
		provider, class, outcome string
	}
	msg := func(event, quoteID, leadID, trigger, channel string, created time.Time, status engine.MessageStatus,
		mutate func(*engine.Message), atts ...attempt) {
		x.clock.set(created)
		m := &engine.Message{TenantID: "", EventID: events[event], LeadID: leadID, QuoteID: quoteID, Trigger: engine.Trigger(trigger),
			Channel: channel, Provider: map[string]string{"email": "smtp", "whatsapp": "cloud_api"}[channel], To: "ana@example.com", Status: status}
		ev, err := x.app.GetEvent(context.Background(), x.tenantOf(key), events[event])
		if err != nil {
			t.Fatal(err)
		}
		m.TenantID = ev.TenantID
		if mutate != nil {
			mutate(m)
		}
		err = x.db.Tx(context.Background(), func(tx *store.Tx) error {
			if _, err := tx.InsertMessage(context.Background(), m); err != nil {
				return err
			}
			for _, a := range atts {
				if err := tx.InsertAttempt(context.Background(), &engine.Attempt{TenantID: m.TenantID, MessageID: m.ID, Number: a.n,
					Provider: a.provider, StartedAt: a.started, Outcome: a.outcome, ErrorClass: a.class}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	times := func(sent, delivered time.Time) func(*engine.Message) {
		return func(m *engine.Message) {
			m.SentAt = &sent
			if !delivered.IsZero() {
				m.DeliveredAt = &delivered
			}
		}
	}
	msg("q3 send", q3, ana, "quote.sent", "email", at(24, 22, 40), engine.MsgSent, times(at(24, 22, 41), time.Time{}),
		attempt{1, at(24, 22, 40), "smtp", "", "sent"})
	msg("q1 send", q1, ana, "quote.sent", "email", at(24, 23, 31), engine.MsgDelivered, times(at(24, 23, 58), at(25, 0, 3)),
		attempt{1, at(24, 23, 32), "smtp", "transient", "retry"}, attempt{2, at(24, 23, 58), "smtp", "", "sent"})
	msg("q1 view", q1, ana, "quote.viewed", "whatsapp", at(25, 0, 40), engine.MsgFailed, func(m *engine.Message) {
		m.ErrorClass, m.Reason = "recipient", "provider_error"
	}, attempt{1, at(25, 0, 41), "cloud_api", "recipient", "failed"})
	msg("q1 view", q1, ana, "quote.viewed", "whatsapp", at(25, 1, 40), engine.MsgDelivered, times(at(25, 1, 47), at(25, 1, 48)),
		attempt{1, at(25, 1, 41), "cloud_api", "transient", "retry"}, attempt{2, at(25, 1, 43), "cloud_api", "transient", "retry"},
		attempt{3, at(25, 1, 47), "cloud_api", "", "sent"})
	msg("q2 send", q2, rui, "quote.sent", "email", at(25, 1, 15), engine.MsgSuppressed, func(m *engine.Message) { m.Reason = "no_address" })
	msg("q1 reject", q1, ana, "quote.rejected", "email", at(25, 22, 0), engine.MsgDelivered, times(at(25, 22, 10), at(25, 22, 11)),
		attempt{1, at(25, 22, 10), "smtp", "", "sent"})
	msg("q3 view", q3, ana, "quote.viewed", "email", at(26, 0, 20), engine.MsgQueued, nil)
}

func (x *statsEnv) tenantOf(key string) string {
	return str(x.must(200, "GET", "/v1/tenant", key, nil)["id"])
}

// expected computes, from what the tables hold (read back through the
// app's plain reads), every figure of an answer whose buckets are bs.
type expected struct {
	messages, attempts, retries, providers, decisions, missing map[string][]int64
	latency                                                    map[string]string
}

func (x *statsEnv) expect(tenantID string, out api.OutboxStatsOut) expected {
	x.t.Helper()
	ctx := context.Background()
	msgs, _, err := x.app.ListMessages(ctx, tenantID, engine.MessageFilter{}, engine.Page{Limit: 100})
	if err != nil {
		x.t.Fatal(err)
	}
	evs, _, err := x.app.ListEvents(ctx, tenantID, engine.EventFilter{}, engine.Page{Limit: 100})
	if err != nil {
		x.t.Fatal(err)
	}
	eventAt := map[string]time.Time{}
	for _, e := range evs {
		eventAt[e.ID] = e.CreatedAt
	}
	bucket := func(t time.Time) int {
		for i, b := range out.Buckets {
			if !t.Before(b.Start) && t.Before(b.End) {
				return i
			}
		}
		return -1
	}
	ex := expected{messages: map[string][]int64{}, attempts: map[string][]int64{}, retries: map[string][]int64{},
		providers: map[string][]int64{}, decisions: map[string][]int64{}, missing: map[string][]int64{}, latency: map[string]string{}}
	add := func(m map[string][]int64, key string, i int) {
		if m[key] == nil {
			m[key] = make([]int64, len(out.Buckets))
		}
		m[key][i]++
	}
	dim := func(m engine.Message, d, attemptClass string) string {
		switch d {
		case "trigger":
			return string(m.Trigger)
		case "channel":
			return m.Channel
		case "status":
			return string(m.Status)
		case "reason":
			return m.Reason
		case "error_class":
			if attemptClass != "-" {
				return attemptClass
			}
			return m.ErrorClass
		}
		return m.WorkflowID
	}
	key := func(m engine.Message, attemptClass string) string {
		var ks []string
		for _, d := range out.GroupBy {
			ks = append(ks, d+"="+dim(m, d, attemptClass))
		}
		return strings.Join(ks, ",")
	}
	e2s, s2d := map[string][]time.Duration{}, map[string][]time.Duration{}
	for _, m := range msgs {
		if i := bucket(m.CreatedAt); i >= 0 {
			add(ex.messages, key(m, "-"), i)
			if m.SentAt != nil {
				e2s[key(m, "-")] = append(e2s[key(m, "-")], m.SentAt.Sub(eventAt[m.EventID]))
				e2s["*"] = append(e2s["*"], m.SentAt.Sub(eventAt[m.EventID]))
				if m.DeliveredAt != nil {
					s2d[key(m, "-")] = append(s2d[key(m, "-")], m.DeliveredAt.Sub(*m.SentAt))
					s2d["*"] = append(s2d["*"], m.DeliveredAt.Sub(*m.SentAt))
				}
			}
		}
		atts, err := x.app.ListAttempts(ctx, tenantID, m.ID)
		if err != nil {
			x.t.Fatal(err)
		}
		for _, a := range atts {
			i := bucket(a.StartedAt)
			if i < 0 {
				continue
			}
			k := key(m, a.ErrorClass)
			add(ex.attempts, k, i)
			add(ex.providers, a.Provider, i)
			if ex.retries[k] == nil {
				ex.retries[k] = make([]int64, len(out.Buckets))
			}
			if ex.retries["provider="+a.Provider] == nil {
				ex.retries["provider="+a.Provider] = make([]int64, len(out.Buckets))
			}
			if a.Number > 1 {
				add(ex.retries, k, i)
				add(ex.retries, "provider="+a.Provider, i)
			}
		}
	}
	for _, e := range evs {
		i := bucket(e.CreatedAt)
		if i < 0 {
			continue
		}
		add(ex.decisions, fmt.Sprintf("%s %s %s", e.Trigger, e.Decision.Outcome, e.Decision.Reason), i)
		if !e.Duplicate {
			for _, f := range e.Decision.MissingFields {
				add(ex.missing, string(e.Trigger)+" "+f, i)
			}
		}
	}
	rank := func(ds []time.Duration, p int) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[(p*len(s)+99)/100-1].Seconds()
	}
	for name, set := range map[string]map[string][]time.Duration{"event_to_sent": e2s, "sent_to_delivered": s2d} {
		for k, ds := range set {
			ex.latency[name+" "+k] = fmt.Sprintf("n=%d p50=%v p95=%v", len(ds), rank(ds, 50), rank(ds, 95))
		}
	}
	return ex
}

func latencyString(l api.StatsLatencyOut) string {
	return fmt.Sprintf("n=%d p50=%v p95=%v", l.Count, l.P50Seconds, l.P95Seconds)
}

// compare checks every figure of out against ex.
func compare(t *testing.T, out api.OutboxStatsOut, ex expected) {
	t.Helper()
	keyOf := func(m map[string]string) string {
		var ks []string
		for _, d := range out.GroupBy {
			ks = append(ks, d+"="+m[d])
		}
		return strings.Join(ks, ",")
	}
	sum := func(xs []int64) (n int64) {
		for _, x := range xs {
			n += x
		}
		return n
	}
	check := func(what string, got, want map[string][]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d series %v, want %d %v", what, len(got), got, len(want), want)
		}
		for k, w := range want {
			if !slices.Equal(got[k], w) {
				t.Errorf("%s %q: counts %v, want %v", what, k, got[k], w)
			}
		}
	}
	gotM, gotA, gotR, gotP, gotD, gotF := map[string][]int64{}, map[string][]int64{}, map[string][]int64{}, map[string][]int64{},
		map[string][]int64{}, map[string][]int64{}
	gotL := map[string]string{"event_to_sent *": latencyString(out.Totals.EventToSent), "sent_to_delivered *": latencyString(out.Totals.SentToDelivered)}
	var totalM, totalA, totalR, totalD int64
	for _, s := range out.Messages {
		k := keyOf(s.Key)
		gotM[k] = s.Counts
		if s.Total != sum(s.Counts) {
			t.Errorf("messages %q: total %d, counts %v", k, s.Total, s.Counts)
		}
		totalM += s.Total
		if s.EventToSent.Count > 0 {
			gotL["event_to_sent "+k] = latencyString(s.EventToSent)
		}
		if s.SentToDelivered.Count > 0 {
			gotL["sent_to_delivered "+k] = latencyString(s.SentToDelivered)
		}
	}
	for _, s := range out.Attempts {
		k := keyOf(s.Key)
		gotA[k], gotR[k] = s.AttemptCounts, s.RetryCounts
		if s.Attempts != sum(s.AttemptCounts) || s.Retries != sum(s.RetryCounts) {
			t.Errorf("attempts %q: totals %d/%d, counts %v/%v", k, s.Attempts, s.Retries, s.AttemptCounts, s.RetryCounts)
		}
		totalA += s.Attempts
		totalR += s.Retries
	}
	var totalPA, totalPR int64
	for _, p := range out.RetriesByProvider {
		gotP[p.Provider], gotR["provider="+p.Provider] = p.AttemptCounts, p.RetryCounts
		if p.Attempts != sum(p.AttemptCounts) || p.Retries != sum(p.RetryCounts) {
			t.Errorf("provider %q: totals %d/%d, counts %v/%v", p.Provider, p.Attempts, p.Retries, p.AttemptCounts, p.RetryCounts)
		}
		totalPA += p.Attempts
		totalPR += p.Retries
	}
	for _, d := range out.Decisions {
		gotD[d.Trigger+" "+d.Outcome+" "+d.Reason] = d.Counts
		if d.Total != sum(d.Counts) {
			t.Errorf("decisions %v: total %d", d, d.Total)
		}
		totalD += d.Total
	}
	for _, f := range out.MissingFields {
		gotF[f.Trigger+" "+f.Field] = f.Counts
		if f.Total != sum(f.Counts) {
			t.Errorf("missing %v: total %d", f, f.Total)
		}
	}
	check("messages", gotM, ex.messages)
	check("attempts", gotA, ex.attempts)
	check("retries", gotR, ex.retries)
	check("provider attempts", gotP, ex.providers)
	check("decisions", gotD, ex.decisions)
	check("missing fields", gotF, ex.missing)
	if out.Totals.Messages != totalM || out.Totals.Attempts != totalA || out.Totals.Retries != totalR || out.Totals.Decisions != totalD ||
		totalPA != totalA || totalPR != totalR {
		t.Errorf("totals %+v; series sum to messages %d, attempts %d (%d by provider), retries %d (%d), decisions %d",
			out.Totals, totalM, totalA, totalPA, totalR, totalPR, totalD)
	}
	if ex.latency["event_to_sent *"] == "" {
		ex.latency["event_to_sent *"] = "n=0 p50=0 p95=0"
	}
	if ex.latency["sent_to_delivered *"] == "" {
		ex.latency["sent_to_delivered *"] = "n=0 p50=0 p95=0"
	}
	if len(gotL) != len(ex.latency) {
		t.Errorf("latencies %v, want %v", gotL, ex.latency)
	}
	for k, w := range ex.latency {
		if gotL[k] != w {
			t.Errorf("latency %s: %s, want %s", k, gotL[k], w)
		}
	}
}

func (x *statsEnv) stats(key string, q url.Values) api.OutboxStatsOut {
	x.t.Helper()
	r := x.call("GET", "/v1/stats/outbox?"+q.Encode(), key, nil)
	if r.Status != 200 {
		x.t.Fatalf("stats %s: %d %s", q.Encode(), r.Status, r.Raw)
	}
	var out api.OutboxStatsOut
	if err := json.Unmarshal(r.Raw, &out); err != nil {
		x.t.Fatal(err)
	}
	return out
}

// TestOutboxStatsEqualTheTables is the truth test: a history seeded with a
// clock the test controls, across Lisbon's autumn clock change, and every
// figure of the statistics compared with what the tables hold.
func TestOutboxStatsEqualTheTables(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			x := setupStats(t, d)
			key := x.tenant("Acme", map[string]any{"mode": "engine"})
			other := x.tenant("Other", map[string]any{"mode": "engine"})
			x.statsHistory(key)
			x.statsHistory(other) // the same history for another tenant, which must not count
			tenantID := x.tenantOf(key)
			x.clock.set(at(27, 12, 0))

			lisbon, _ := time.LoadLocation("Europe/Lisbon")
			day := url.Values{"from": {"2026-10-25T00:00:00+01:00"}, "to": {"2026-10-26T00:00:00Z"}}
			for _, tc := range []struct {
				bucket, from, to string
				groupBy          []string
				lengths          []time.Duration // every bucket's length, in order
			}{
				{"1h", day.Get("from"), day.Get("to"), []string{"trigger,channel"}, slices.Repeat([]time.Duration{time.Hour}, 25)},
				{"1h", day.Get("from"), day.Get("to"), []string{"status", "reason", "error_class"}, slices.Repeat([]time.Duration{time.Hour}, 25)},
				{"1d", day.Get("from"), day.Get("to"), []string{"workflow"}, []time.Duration{25 * time.Hour}},
				{"1d", "2026-10-24T00:00:00+01:00", "2026-10-27T00:00:00Z", nil, []time.Duration{24 * time.Hour, 25 * time.Hour, 24 * time.Hour}},
				{"5m", "2026-10-25T00:55:00Z", "2026-10-25T01:50:00Z", []string{"channel"}, slices.Repeat([]time.Duration{5 * time.Minute}, 11)},
				// A window that does not start on a bucket: the first bucket is clipped.
				{"1h", "2026-10-24T23:45:00Z", "2026-10-25T02:10:00Z", []string{"trigger"},
					[]time.Duration{15 * time.Minute, time.Hour, time.Hour, 10 * time.Minute}},
			} {
				t.Run(tc.bucket+" "+tc.from+" "+strings.Join(tc.groupBy, "+"), func(t *testing.T) {
					q := url.Values{"bucket": {tc.bucket}, "from": {tc.from}, "to": {tc.to}, "group_by": tc.groupBy}
					out := x.stats(key, q)
					if out.Timezone != "Europe/Lisbon" || out.Bucket != tc.bucket {
						t.Fatalf("timezone %q bucket %q", out.Timezone, out.Bucket)
					}
					if len(out.Buckets) != len(tc.lengths) {
						t.Fatalf("%d buckets, want %d: %v", len(out.Buckets), len(tc.lengths), out.Buckets)
					}
					from, _ := time.Parse(time.RFC3339, tc.from)
					for i, b := range out.Buckets {
						if got := b.End.Sub(b.Start); got != tc.lengths[i] {
							t.Errorf("bucket %d %v: %v long, want %v", i, b, got, tc.lengths[i])
						}
						if i == 0 && !b.Start.Equal(from) || i > 0 && !b.Start.Equal(out.Buckets[i-1].End) {
							t.Errorf("bucket %d starts at %v", i, b.Start)
						}
						// Aligned to Lisbon's wall clock (all but the clipped first).
						if l := b.Start.In(lisbon); i > 0 && (l.Minute()%5 != 0 || tc.bucket != "5m" && l.Minute() != 0 ||
							tc.bucket == "1d" && l.Hour() != 0) {
							t.Errorf("bucket %d starts at %v local", i, l)
						}
					}
					compare(t, out, x.expect(tenantID, out))
					if out.Totals.Messages == 0 || out.Totals.Decisions == 0 {
						t.Errorf("nothing counted: %+v", out.Totals)
					}
				})
			}

			// The repeated hour is two buckets: what happened at the first
			// 01:30 and at the second are apart.
			out := x.stats(key, url.Values{"bucket": {"1h"}, "from": day["from"], "to": day["to"], "group_by": {"trigger"}})
			if s := out.Buckets[1].Start.In(lisbon).Format("15:04 -07:00"); s != "01:00 +01:00" {
				t.Errorf("bucket 1 starts %s", s)
			}
			if s := out.Buckets[2].Start.In(lisbon).Format("15:04 -07:00"); s != "01:00 +00:00" {
				t.Errorf("bucket 2 starts %s", s)
			}
			found := map[string][]int64{}
			for _, d := range out.Decisions {
				found[d.Trigger+" "+d.Outcome] = d.Counts
			}
			if c := found["quote.viewed none"]; c == nil || c[1] != 1 {
				t.Errorf("quote.viewed none %v, want 1 in bucket 1", c)
			}
			if c := found["quote.sent suppressed"]; c == nil || c[2] != 1 {
				t.Errorf("quote.sent suppressed %v, want 1 in bucket 2", c)
			}
			if len(out.MissingFields) != 1 || out.MissingFields[0].Field != "lead.custom.roof_type" || out.MissingFields[0].Total != 1 {
				t.Errorf("missing fields %+v, want lead.custom.roof_type once", out.MissingFields)
			}
			if out.Totals.Retries != 3 || out.Totals.Attempts != 7 {
				t.Errorf("attempts %d retries %d, want 7 and 3", out.Totals.Attempts, out.Totals.Retries)
			}
		})
	}
}

// TestOutboxStatsBadInput: each bad parameter is a 422 naming it.
func TestOutboxStatsBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		for _, tc := range []struct{ query, location string }{
			{"from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", "query.from"},
			{"from=2026-10-01T00:00:00Z&to=2026-10-01T00:00:00Z", "query.from"},
			{"from=2025-01-01T00:00:00Z&to=2026-02-10T00:00:00Z", "query.to"},
			{"group_by=trigger,lead", "query.group_by"},
			{"group_by=trigger&group_by=tenant", "query.group_by"},
			{"bucket=1w", "query.bucket"},
			{"bucket=5m&from=2026-01-01T00:00:00Z&to=2026-02-05T00:00:00Z", "query.bucket"},
			{"from=yesterday", "query.from"},
			{"to=2026-13-01T00:00:00Z", "query.to"},
		} {
			r := e.call("GET", "/v1/stats/outbox?"+tc.query, key, nil)
			if loc := e.problem(r, 422, "validation"); loc != tc.location {
				t.Errorf("%s: location %q, want %s: %s", tc.query, loc, tc.location, r.Raw)
			}
		}
		// Defaults: the 7 days before now, hourly.
		out := e.must(200, "GET", "/v1/stats/outbox", key, nil)
		if len(out["buckets"].([]any)) < 168 || out["bucket"] != "1h" {
			t.Errorf("default answer: %d buckets of %v", len(out["buckets"].([]any)), out["bucket"])
		}
	})
}
