package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Statistics of purged periods live in the rollup tables (migration 0005,
// PurgeBatch): every purged row was added to a rollup in the transaction
// that deleted it, so the raw tables and the rollups never count one row
// twice, and a query reads both. Rollups have 5-minute slots (RollupSlot);
// the buckets the API offers are whole numbers of them in every time zone,
// so a rolled-up period is exact at bucket granularity. Latencies are not
// rolled up: percentiles of purged periods are gone with their rows.

// rollupCols maps the statistics dimensions to the rollup tables' columns.
var rollupCols = map[string]string{
	"trigger": "r.trigger", "channel": "r.channel", "status": "r.status", "reason": "r.reason",
	"error_class": "r.error_class", "workflow": "r.workflow_id",
}

// hasRollups reports whether any of the tenant's purged history falls in
// the window. Every purged event left a decision rollup, so that table
// answers for all four; its primary key makes this one index probe.
func (tx *Tx) hasRollups(ctx context.Context, q StatsQuery) (bool, error) {
	var one int
	err := tx.queryRow(ctx, `SELECT 1 FROM stats_decision_rollups WHERE tenant_id = ? AND slot >= ? AND slot < ? LIMIT 1`,
		q.TenantID, micros(q.From), micros(q.To)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, translate(err, "stats rollups", onViolation{})
}

// addRollups adds to counts (from the raw tables) the rollup rows of table
// in the window, selecting the slot, then cols, then extra columns, then
// the SUM of sum; equal keys are merged, so callers see one row per slot
// and group as before.
func (tx *Tx) addRollups(ctx context.Context, q StatsQuery, counts []AttemptCount, table string, cols, extra []string, sum string, cond string, args ...any) ([]AttemptCount, error) {
	ok, err := tx.hasRollups(ctx, q)
	if err != nil || !ok {
		return counts, err
	}
	slot, err := q.slotExpr("r.slot")
	if err != nil {
		return nil, err
	}
	group := strings.Join(append(append([]string{slot}, cols...), extra...), ", ")
	rolled, err := collectCounts(ctx, tx, len(cols), len(extra), `SELECT `+group+`, CAST(SUM(r.`+sum+`) AS BIGINT) FROM `+table+` r
		WHERE r.tenant_id = ? AND r.slot >= ? AND r.slot < ?`+cond+` GROUP BY `+group,
		append([]any{q.TenantID, micros(q.From), micros(q.To)}, args...)...)
	if err != nil {
		return nil, translate(err, "stats rollups", onViolation{})
	}
	index := map[string]int{}
	key := func(c AttemptCount) string {
		retry := "0"
		if c.Retry {
			retry = "1"
		}
		return c.Slot.String() + "\x00" + strings.Join(c.Keys, "\x00") + "\x00" + c.Provider + "\x00" + retry
	}
	for i, c := range counts {
		index[key(c)] = i
	}
	for _, c := range rolled {
		if i, ok := index[key(c)]; ok {
			counts[i].Count += c.Count
			continue
		}
		index[key(c)] = len(counts)
		counts = append(counts, c)
	}
	return counts, nil
}

func plainCounts(out []AttemptCount) []StatsCount {
	counts := make([]StatsCount, len(out))
	for i := range out {
		counts[i] = out[i].StatsCount
	}
	return counts
}
