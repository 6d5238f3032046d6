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

// MessageStatusCounts counts the messages of every tenant by trigger,
// channel and status, for the metrics endpoint. Tenants are summed on
// purpose: a tenant id is not a metric label.
func (db *DB) MessageStatusCounts(ctx context.Context) ([]StatusCount, error) {
	out, err := collect(ctx, db.auto(), func(s scanner) (StatusCount, error) {
		var c StatusCount
		err := s.Scan(&c.Trigger, &c.Channel, &c.Status, &c.Count)
		return c, err
	}, `SELECT trigger, channel, status, count(*) FROM messages GROUP BY trigger, channel, status`)
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
