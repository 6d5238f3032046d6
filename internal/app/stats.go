package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// Limits and defaults of outbox statistics.
const (
	// MaxStatsWindow is the longest window a statistics query covers, the
	// timeline's default retention.
	MaxStatsWindow = 400 * 24 * time.Hour
	// MaxStatsBuckets is the most buckets one answer has.
	MaxStatsBuckets = 10000
	// DefaultStatsWindow is the window when from is absent: the 7 days
	// before to (and to defaults to now).
	DefaultStatsWindow = 7 * 24 * time.Hour
)

// StatsParams is what an outbox statistics query asks for. Zero From and To
// default (to: now; from: DefaultStatsWindow before to); an empty Bucket is
// 1h. GroupBy names store.StatsDims.
type StatsParams struct {
	From, To time.Time
	Bucket   string
	GroupBy  []string
}

// StatsSeries is one group's counts, one per bucket, and their total.
type StatsSeries struct {
	Keys   []string
	Counts []int64
	Total  int64
}

// StatsLatency is a latency's nearest-rank percentiles over Count messages;
// zero durations when Count is 0.
type StatsLatency struct {
	Count    int64
	P50, P95 time.Duration
}

// MessageSeries is a group of messages: counts, and latencies over the
// whole window.
type MessageSeries struct {
	StatsSeries
	EventToSent, SentToDelivered StatsLatency
}

// AttemptSeries is a group's attempts and, of those, retries.
type AttemptSeries struct {
	Keys     []string
	Attempts StatsSeries
	Retries  StatsSeries
}

// OutboxStats is the answer of an outbox statistics query. Every series has
// one count per bucket. Decisions' Keys are trigger, outcome and reason;
// MissingFields' are trigger and field; RetriesByProvider's are the
// provider alone.
type OutboxStats struct {
	From, To time.Time
	Bucket   string
	Timezone string
	GroupBy  []string
	Buckets  []StatsBucket

	Messages           []MessageSeries
	Attempts           []AttemptSeries
	AttemptsByProvider []AttemptSeries
	Decisions          []StatsSeries
	MissingFields      []StatsSeries

	TotalMessages, TotalAttempts, TotalRetries, TotalDecisions int64
	EventToSent, SentToDelivered                               StatsLatency

	// Replies are customers' answers, by trigger and workflow
	// (stats_replies.go); the totals sum them.
	Replies                                       []ReplySeries
	TotalSent, TotalReplied                       int64
	TotalInbound, TotalOptOuts, TotalUnsubscribes int64
}

// OutboxStats counts the tenant's messages, attempts and decisions over a
// window in time buckets aligned to the tenant's timezone. Messages are
// placed by created_at (when the outbox row was written), attempts by
// started_at, decisions by their event's created_at; every count is a plain
// COUNT over the tables, so it equals what they hold.
func (a *App) OutboxStats(ctx context.Context, tenantID string, p StatsParams) (*OutboxStats, error) {
	to, from := p.To, p.From
	if to.IsZero() {
		to = a.Now()
		if !from.IsZero() && !from.Before(to) {
			return nil, engine.Invalid("query.from", "must be before to (now when to is absent)")
		}
	}
	if from.IsZero() {
		from = to.Add(-DefaultStatsWindow)
	}
	if !from.Before(to) {
		return nil, engine.Invalid("query.from", "must be before to")
	}
	if to.Sub(from) > MaxStatsWindow {
		return nil, engine.Invalid("query.to", "must be at most 400 days after from")
	}
	size := p.Bucket
	if size == "" {
		size = Bucket1h
	}
	if !slices.Contains(StatsBuckets, size) {
		return nil, engine.Invalid("query.bucket", "must be one of %s", strings.Join(StatsBuckets, ", "))
	}
	var groupBy []string
	for _, g := range p.GroupBy {
		for _, d := range strings.Split(g, ",") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			if !slices.Contains(store.StatsDims, d) {
				return nil, engine.Invalid("query.group_by", "unknown dimension %q: must be among %s", d, strings.Join(store.StatsDims, ", "))
			}
			if !slices.Contains(groupBy, d) {
				groupBy = append(groupBy, d)
			}
		}
	}
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	loc := a.zones.Of(nil, tenant)
	buckets, slot := statsBuckets(from, to, size, loc, MaxStatsBuckets)
	if len(buckets) > MaxStatsBuckets {
		return nil, engine.Invalid("query.bucket", "the window holds more than %d buckets of %s: choose a larger bucket or a shorter window",
			MaxStatsBuckets, size)
	}
	out := &OutboxStats{From: from, To: to, Bucket: size, Timezone: loc.String(), GroupBy: groupBy, Buckets: buckets}
	q := store.StatsQuery{TenantID: tenantID, From: from, To: to, Slot: slot, GroupBy: groupBy}
	// Independent scans (messages with their latencies, attempts,
	// decisions with their missing fields, replies), each filling its own
	// fields of out, on one snapshot.
	err = a.db.ReadParallel(ctx,
		func(tx *store.Tx) error { return out.fillMessages(ctx, tx, q) },
		func(tx *store.Tx) error { return out.fillAttempts(ctx, tx, q) },
		func(tx *store.Tx) error { return out.fillDecisions(ctx, tx, q) },
		func(tx *store.Tx) error { return out.fillReplies(ctx, tx, q) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// index is the bucket of a slot's start.
func (s *OutboxStats) index(slot time.Time) int {
	if slot.Before(s.From) {
		slot = s.From // the window's first slot starts before it
	}
	return bucketIndex(s.Buckets, slot)
}

// fillMessages counts messages and ranks their latencies, per group and
// over everything.
func (s *OutboxStats) fillMessages(ctx context.Context, tx *store.Tx, q store.StatsQuery) error {
	if err := tx.StatsSession(ctx); err != nil {
		return err
	}
	mc, err := tx.MessageCounts(ctx, q)
	if err != nil {
		return err
	}
	msgs := newSeriesSet(len(s.Buckets))
	for _, c := range mc {
		msgs.add(c.Keys, s.index(c.Slot), c.Count)
		s.TotalMessages += c.Count
	}
	lat := map[string]map[string]StatsLatency{}
	for _, kind := range []string{store.LatencyEventToSent, store.LatencySentToDelivered} {
		groups, all, err := tx.Latencies(ctx, q, kind)
		if err != nil {
			return err
		}
		lat[kind] = map[string]StatsLatency{}
		for _, p := range groups {
			lat[kind][seriesID(p.Keys)] = StatsLatency{Count: p.Count, P50: p.P50, P95: p.P95}
		}
		l := StatsLatency{Count: all.Count, P50: all.P50, P95: all.P95}
		if kind == store.LatencyEventToSent {
			s.EventToSent = l
		} else {
			s.SentToDelivered = l
		}
	}
	for _, ser := range msgs.list() {
		id := seriesID(ser.Keys)
		s.Messages = append(s.Messages, MessageSeries{StatsSeries: ser,
			EventToSent: lat[store.LatencyEventToSent][id], SentToDelivered: lat[store.LatencySentToDelivered][id]})
	}
	return nil
}

// fillAttempts counts attempts and retries, by group and by provider.
func (s *OutboxStats) fillAttempts(ctx context.Context, tx *store.Tx, q store.StatsQuery) error {
	if err := tx.StatsSession(ctx); err != nil {
		return err
	}
	ac, err := tx.AttemptCounts(ctx, q)
	if err != nil {
		return err
	}
	atts, rets := newSeriesSet(len(s.Buckets)), newSeriesSet(len(s.Buckets))
	patts, prets := newSeriesSet(len(s.Buckets)), newSeriesSet(len(s.Buckets))
	for _, c := range ac {
		i := s.index(c.Slot)
		atts.add(c.Keys, i, c.Count)
		patts.add([]string{c.Provider}, i, c.Count)
		s.TotalAttempts += c.Count
		if c.Retry {
			rets.add(c.Keys, i, c.Count)
			prets.add([]string{c.Provider}, i, c.Count)
			s.TotalRetries += c.Count
		} else {
			// A group with only first attempts still shows zero retries.
			rets.add(c.Keys, i, 0)
			prets.add([]string{c.Provider}, i, 0)
		}
	}
	s.Attempts = pairSeries(atts, rets)
	s.AttemptsByProvider = pairSeries(patts, prets)
	return nil
}

// fillDecisions counts decisions and the fields they lacked.
func (s *OutboxStats) fillDecisions(ctx context.Context, tx *store.Tx, q store.StatsQuery) error {
	if err := tx.StatsSession(ctx); err != nil {
		return err
	}
	dc, err := tx.DecisionCounts(ctx, q)
	if err != nil {
		return err
	}
	decs := newSeriesSet(len(s.Buckets))
	for _, c := range dc {
		decs.add(c.Keys, s.index(c.Slot), c.Count)
		s.TotalDecisions += c.Count
	}
	s.Decisions = decs.list()
	fc, err := tx.MissingFieldCounts(ctx, q)
	if err != nil {
		return err
	}
	fields := newSeriesSet(len(s.Buckets))
	for _, c := range fc {
		fields.add(c.Keys, s.index(c.Slot), c.Count)
	}
	s.MissingFields = fields.list()
	return nil
}

// seriesSet gathers series by their keys.
type seriesSet struct {
	n     int
	byKey map[string]*StatsSeries
}

func newSeriesSet(n int) *seriesSet { return &seriesSet{n: n, byKey: map[string]*StatsSeries{}} }

func seriesID(keys []string) string { return strings.Join(keys, "\x00") }

func (ss *seriesSet) add(keys []string, bucket int, n int64) {
	id := seriesID(keys)
	s := ss.byKey[id]
	if s == nil {
		s = &StatsSeries{Keys: keys, Counts: make([]int64, ss.n)}
		ss.byKey[id] = s
	}
	if bucket >= 0 {
		s.Counts[bucket] += n
		s.Total += n
	}
}

// list returns the series ordered by their keys, so answers are stable.
func (ss *seriesSet) list() []StatsSeries {
	out := make([]StatsSeries, 0, len(ss.byKey))
	for _, s := range ss.byKey {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b StatsSeries) int { return slices.Compare(a.Keys, b.Keys) })
	return out
}

func pairSeries(attempts, retries *seriesSet) []AttemptSeries {
	var out []AttemptSeries
	for _, a := range attempts.list() {
		out = append(out, AttemptSeries{Keys: a.Keys, Attempts: a, Retries: *retries.byKey[seriesID(a.Keys)]})
	}
	return out
}
