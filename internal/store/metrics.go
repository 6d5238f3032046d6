package store

import (
	"context"
	"time"
)

// StatusCount is how many messages of one trigger and channel are in one
// status, across every tenant.
type StatusCount struct {
	Trigger, Channel, Status string
	Count                    int64
}

// inFlightCountsQuery is InFlightCounts' query. Its predicate is the
// partial index messages_in_flight's (migration 0014) word for word, so
// that the planner can prove the index holds every row it asks for.
const inFlightCountsQuery = `SELECT trigger, channel, status, count(*) FROM messages WHERE status IN ` + inFlightMessage + `
	GROUP BY trigger, channel, status`

// InFlightCounts counts the messages of every tenant still in flight
// (scheduled, queued or sending) by trigger, channel and status, for the
// metrics endpoint. Tenants are summed on purpose: a tenant id is not a
// metric label. Settled messages are left out: counting them meant reading
// the whole table at every scrape (docs/ops/observability.md says where
// their figures are), while these are the outbox's backlog, as many as the
// index messages_in_flight holds.
func (db *DB) InFlightCounts(ctx context.Context) ([]StatusCount, error) {
	out, err := collect(ctx, db.auto(), func(s scanner) (StatusCount, error) {
		var c StatusCount
		err := s.Scan(&c.Trigger, &c.Channel, &c.Status, &c.Count)
		return c, err
	}, inFlightCountsQuery)
	return out, translate(err, "count messages", onViolation{})
}

// OpenCircuitCounts counts, per provider, the tenants whose circuit is open
// at now.
func (db *DB) OpenCircuitCounts(ctx context.Context, now time.Time) (map[string]int64, error) {
	type row struct {
		provider string
		n        int64
	}
	rows, err := collect(ctx, db.auto(), func(s scanner) (row, error) {
		var r row
		err := s.Scan(&r.provider, &r.n)
		return r, err
	}, `SELECT provider, count(*) FROM circuits WHERE until > ? AND `+openCircuits+` GROUP BY provider`, micros(now))
	if err != nil {
		return nil, translate(err, "count circuits", onViolation{})
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.provider] = r.n
	}
	return out, nil
}
