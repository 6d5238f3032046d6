package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StatsDims are the message columns outbox statistics can group by, by the
// name the API gives them. Everything but error_class is read from the
// message; an attempt's error_class is its own (what that attempt got).
var StatsDims = []string{"trigger", "channel", "status", "reason", "error_class", "workflow"}

// statsMessageCol is the SQL for each dimension on messages m.
var statsMessageCol = map[string]string{
	"trigger": "m.trigger", "channel": "m.channel", "status": "m.status", "reason": "m.reason",
	"error_class": "m.error_class", "workflow": "COALESCE(CAST(m.workflow_id AS TEXT), '')",
}

// StatsQuery selects the rows of one tenant created in [From, To) and groups
// them by Slot, a whole number of seconds that divides every bucket
// boundary the caller will fold the slots into, and by GroupBy (StatsDims).
type StatsQuery struct {
	TenantID string
	From, To time.Time
	Slot     time.Duration
	GroupBy  []string
}

// StatsCount is one group's count in one slot; Slot is its start. Keys are
// in the query's GroupBy order.
type StatsCount struct {
	Slot  time.Time
	Keys  []string
	Count int64
}

// AttemptCount is a StatsCount of attempts, with the attempt's provider and
// whether it was a retry (an attempt after the message's first).
type AttemptCount struct {
	StatsCount
	Provider string
	Retry    bool
}

// LatencyPercentiles are the nearest-rank p50 and p95 of one group's
// durations: the smallest recorded durations such that at least 50 % and
// 95 % of them are less or equal. Count is how many durations there were.
type LatencyPercentiles struct {
	Keys     []string
	Count    int64
	P50, P95 time.Duration
}

// Latency kinds for Latencies.
const (
	// LatencyEventToSent is a message's sent_at (the provider accepted it)
	// less its trigger event's created_at (the quote action's commit time).
	LatencyEventToSent = "event_to_sent"
	// LatencySentToDelivered is a message's delivered_at (the receipt's time)
	// less its sent_at.
	LatencySentToDelivered = "sent_to_delivered"
)

func (q StatsQuery) slotExpr(col string) (string, error) {
	s := int64(q.Slot / time.Microsecond)
	if s <= 0 || q.Slot%time.Second != 0 {
		return "", fmt.Errorf("store: stats slot %v is not a whole number of seconds", q.Slot)
	}
	// Times are positive microseconds, so % floors.
	n := strconv.FormatInt(s, 10)
	return "(" + col + " - " + col + " % " + n + ")", nil
}

func (q StatsQuery) dimCols(override map[string]string) ([]string, error) {
	cols := make([]string, len(q.GroupBy))
	for i, d := range q.GroupBy {
		c, ok := override[d]
		if !ok {
			c, ok = statsMessageCol[d]
		}
		if !ok {
			return nil, fmt.Errorf("store: unknown stats dimension %q", d)
		}
		cols[i] = c
	}
	return cols, nil
}

// StatsSession prepares tx for the statistics queries. On PostgreSQL it
// turns JIT compilation off for the transaction: the planner's cost
// estimate for a week of a busy tenant's messages crosses jit_above_cost,
// and compiling took half a second of a query that runs in less
// (docs/ops/observability.md). It also gives the transaction's sorts 32 MB
// (the default is 4 MB): ranking a week's latencies and grouping a week's
// events by slot spilled to disk with less.
func (tx *Tx) StatsSession(ctx context.Context) error {
	if tx.db.dialect != DialectPostgres {
		return nil
	}
	_, err := tx.exec(ctx, `SET LOCAL jit = off`)
	if err == nil {
		_, err = tx.exec(ctx, `SET LOCAL work_mem = '32MB'`)
	}
	return translate(err, "stats session", onViolation{})
}

// MessageCounts counts the tenant's messages created in the window by slot
// of created_at and by q.GroupBy.
func (tx *Tx) MessageCounts(ctx context.Context, q StatsQuery) ([]StatsCount, error) {
	slot, err := q.slotExpr("m.created_at")
	if err != nil {
		return nil, err
	}
	cols, err := q.dimCols(nil)
	if err != nil {
		return nil, err
	}
	sel := strings.Join(append([]string{slot}, cols...), ", ")
	out, err := collectCounts(ctx, tx, len(cols), 0, `SELECT `+sel+`, COUNT(*) FROM messages m
		WHERE m.tenant_id = ? AND m.created_at >= ? AND m.created_at < ? GROUP BY `+sel,
		q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, translate(err, "message stats", onViolation{})
	}
	rcols, err := q.dimCols(rollupCols)
	if err != nil {
		return nil, err
	}
	out, err = tx.addRollups(ctx, q, out, "stats_message_rollups", rcols, nil, "messages", "")
	if err != nil {
		return nil, err
	}
	return plainCounts(out), nil
}

// AttemptCounts counts the tenant's delivery attempts started in the window
// by slot of started_at, by q.GroupBy (of the attempt's message, except
// error_class, the attempt's own), provider and whether each was a retry.
func (tx *Tx) AttemptCounts(ctx context.Context, q StatsQuery) ([]AttemptCount, error) {
	slot, err := q.slotExpr("a.started_at")
	if err != nil {
		return nil, err
	}
	cols, err := q.dimCols(map[string]string{"error_class": "a.error_class"})
	if err != nil {
		return nil, err
	}
	// The join is needed only for the message's own columns.
	join := ""
	for _, c := range cols {
		if strings.HasPrefix(c, "m.") || strings.Contains(c, "(m.") {
			join = ` JOIN messages m ON m.tenant_id = a.tenant_id AND m.id = a.message_id`
			break
		}
	}
	sel := strings.Join(append(append([]string{slot}, cols...), "a.provider", "CASE WHEN a.number > 1 THEN 1 ELSE 0 END"), ", ")
	out, err := collectCounts(ctx, tx, len(cols), 2, `SELECT `+sel+`, COUNT(*) FROM message_attempts a`+join+`
		WHERE a.tenant_id = ? AND a.started_at >= ? AND a.started_at < ? GROUP BY `+sel,
		q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, translate(err, "attempt stats", onViolation{})
	}
	rcols, err := q.dimCols(rollupCols)
	if err != nil {
		return nil, err
	}
	return tx.addRollups(ctx, q, out, "stats_attempt_rollups", rcols, []string{"r.provider", "r.retry"}, "attempts", "")
}

// DecisionCounts counts the tenant's trigger events created in the window
// by slot, trigger, outcome and reason (Keys in that order). Duplicate
// events count too, as outcome none with reason duplicate_event: they are
// stored decisions like any other.
func (tx *Tx) DecisionCounts(ctx context.Context, q StatsQuery) ([]StatsCount, error) {
	slot, err := q.slotExpr("e.created_at")
	if err != nil {
		return nil, err
	}
	sel := slot + ", e.trigger, e.outcome, e.reason"
	out, err := collectCounts(ctx, tx, 3, 0, `SELECT `+sel+`, COUNT(*) FROM trigger_events e
		WHERE e.tenant_id = ? AND e.created_at >= ? AND e.created_at < ? GROUP BY `+sel,
		q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, translate(err, "decision stats", onViolation{})
	}
	out, err = tx.addRollups(ctx, q, out, "stats_decision_rollups", []string{"r.trigger", "r.outcome", "r.reason"}, nil, "events", "")
	if err != nil {
		return nil, err
	}
	return plainCounts(out), nil
}

// MissingFieldCounts counts, by slot, trigger and field (Keys in that
// order), the tenant's trigger events created in the window whose decision
// names the field among its missing_fields: the lead context lacked it when
// a rule's condition read it. Duplicates are left out, since their decision
// is not the resolver's.
func (tx *Tx) MissingFieldCounts(ctx context.Context, q StatsQuery) ([]StatsCount, error) {
	slot, err := q.slotExpr("e.created_at")
	if err != nil {
		return nil, err
	}
	// A JSON null (no missing fields) would be one row of its own.
	fields := `json_each(CASE WHEN json_type(e.decision, '$.missing_fields') = 'array'
		THEN json_extract(e.decision, '$.missing_fields') ELSE '[]' END) AS f`
	if tx.db.dialect == DialectPostgres {
		fields = `LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.decision -> 'missing_fields') = 'array'
			THEN e.decision -> 'missing_fields' ELSE '[]'::jsonb END) AS f(value)`
	}
	sel := slot + ", e.trigger, f.value"
	out, err := collectCounts(ctx, tx, 2, 0, `SELECT `+sel+`, COUNT(*) FROM trigger_events e CROSS JOIN `+fields+`
		WHERE e.tenant_id = ? AND e.created_at >= ? AND e.created_at < ? AND e.duplicate = ? GROUP BY `+sel,
		q.TenantID, micros(q.From), micros(q.To), false)
	if err != nil {
		return nil, translate(err, "missing field stats", onViolation{})
	}
	out, err = tx.addRollups(ctx, q, out, "stats_missing_rollups", []string{"r.trigger", "r.field"}, nil, "events", "")
	if err != nil {
		return nil, err
	}
	return plainCounts(out), nil
}

// Latencies returns the nearest-rank p50 and p95 of kind (LatencyEventToSent
// or LatencySentToDelivered) over the tenant's messages created in the
// window that have both timestamps: per group of q.GroupBy, and over them
// all (one scan, two rankings). q.Slot is not used. The ranks are computed
// in the database with window functions, so only a few rows per group leave
// it: rank ⌈p·n⌉ of the ascending durations, (p·n + 99) / 100 in integers.
func (tx *Tx) Latencies(ctx context.Context, q StatsQuery, kind string) ([]LatencyPercentiles, LatencyPercentiles, error) {
	var all LatencyPercentiles
	cols, err := q.dimCols(nil)
	if err != nil {
		return nil, all, err
	}
	var d, from, cond string
	switch kind {
	case LatencyEventToSent:
		d, from, cond = "m.sent_at - m.event_at", ` FROM messages m`, ` AND m.sent_at IS NOT NULL AND m.event_at IS NOT NULL`
	case LatencySentToDelivered:
		d, from, cond = "m.delivered_at - m.sent_at", ` FROM messages m`, ` AND m.sent_at IS NOT NULL AND m.delivered_at IS NOT NULL`
	default:
		return nil, all, fmt.Errorf("store: unknown latency %q", kind)
	}
	inner := make([]string, len(cols))
	outer := make([]string, len(cols))
	for i, c := range cols {
		inner[i] = c + " AS k" + strconv.Itoa(i)
		outer[i] = "k" + strconv.Itoa(i)
	}
	base := `SELECT ` + strings.Join(append(inner, d+" AS d"), ", ") + from + `
		WHERE m.tenant_id = ? AND m.created_at >= ? AND m.created_at < ?` + cond
	if tx.db.dialect == DialectSQLite {
		return tx.latenciesInGo(ctx, q, len(cols), base)
	}
	// percentile_disc(p) is the first duration whose rank r has r/n >= p,
	// the nearest rank ceil(p*n): one sort per group, where the window
	// functions this replaced sorted twice and numbered every row
	// (docs/ops/observability.md). GROUPING SETS adds the overall figure
	// as the row whose keys are all grouped away.
	keys, groupBy, grouped := "", "", "0"
	if len(outer) > 0 {
		keys = strings.Join(outer, ", ") + ", "
		groupBy = ` GROUP BY GROUPING SETS ((` + strings.Join(outer, ", ") + `), ())`
		grouped = `GROUPING(` + strings.Join(outer, ", ") + `)`
	}
	query := `SELECT ` + keys + grouped + `, COUNT(*),
			percentile_disc(0.5) WITHIN GROUP (ORDER BY d), percentile_disc(0.95) WITHIN GROUP (ORDER BY d)
		FROM (` + base + `) x` + groupBy
	var out []LatencyPercentiles
	err = tx.each(ctx, func(rows scanner) error {
		ks := make([]sql.NullString, len(cols))
		var grouping, n int64
		var p50, p95 sql.NullInt64
		dest := make([]any, 0, len(cols)+4)
		for i := range ks {
			dest = append(dest, &ks[i])
		}
		if err := rows.Scan(append(dest, &grouping, &n, &p50, &p95)...); err != nil {
			return err
		}
		p := LatencyPercentiles{Count: n, P50: time.Duration(p50.Int64) * time.Microsecond,
			P95: time.Duration(p95.Int64) * time.Microsecond}
		if len(cols) == 0 || grouping != 0 {
			all = p
			return nil
		}
		p.Keys = make([]string, len(ks))
		for i := range ks {
			p.Keys[i] = ks[i].String
		}
		out = append(out, p)
		return nil
	}, query, q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, all, translate(err, "latency stats", onViolation{})
	}
	if len(cols) == 0 {
		if all.Count == 0 {
			return nil, all, nil
		}
		return []LatencyPercentiles{all}, all, nil
	}
	return out, all, nil
}

// latenciesInGo is Latencies for SQLite, whose window functions sort
// several times slower than reading the durations and sorting them here
// (0.8 s against 0.15 s of CPU for 150,000 messages): same ranks, same
// answer.
func (tx *Tx) latenciesInGo(ctx context.Context, q StatsQuery, nKeys int, query string) ([]LatencyPercentiles, LatencyPercentiles, error) {
	var all LatencyPercentiles
	rows, err := tx.query(ctx, query, q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, all, translate(err, "latency stats", onViolation{})
	}
	defer rows.Close()
	type group struct {
		keys []string
		ds   []int64
	}
	byKey := map[string]*group{}
	var order []*group
	var every []int64
	ks := make([]sql.NullString, nKeys)
	dest := make([]any, 0, nKeys+1)
	for i := range ks {
		dest = append(dest, &ks[i])
	}
	var dur int64
	dest = append(dest, &dur)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, all, translate(err, "latency stats", onViolation{})
		}
		every = append(every, dur)
		if nKeys == 0 {
			continue
		}
		key := make([]string, nKeys)
		for i := range ks {
			key[i] = ks[i].String
		}
		id := strings.Join(key, "\x00")
		g := byKey[id]
		if g == nil {
			g = &group{keys: key}
			byKey[id] = g
			order = append(order, g)
		}
		g.ds = append(g.ds, dur)
	}
	if err := rows.Err(); err != nil {
		return nil, all, translate(err, "latency stats", onViolation{})
	}
	ranked := func(keys []string, ds []int64) LatencyPercentiles {
		slices.Sort(ds)
		n := int64(len(ds))
		return LatencyPercentiles{Keys: keys, Count: n, P50: time.Duration(ds[(n*50+99)/100-1]) * time.Microsecond,
			P95: time.Duration(ds[(n*95+99)/100-1]) * time.Microsecond}
	}
	if len(every) == 0 {
		return nil, all, nil
	}
	all = ranked([]string{}, every)
	if nKeys == 0 {
		return []LatencyPercentiles{all}, all, nil
	}
	out := make([]LatencyPercentiles, len(order))
	for i, g := range order {
		out[i] = ranked(g.keys, g.ds)
	}
	return out, all, nil
}

// collectCounts scans rows of (slot, nKeys keys, [provider, retry], count).
// extra is 2 for the attempt form, else 0.
func collectCounts(ctx context.Context, tx *Tx, nKeys, extra int, query string, args ...any) ([]AttemptCount, error) {
	var out []AttemptCount
	err := tx.each(ctx, func(rows scanner) error {
		var slot, n, retry int64
		var provider sql.NullString
		ks := make([]sql.NullString, nKeys)
		dest := []any{&slot}
		for i := range ks {
			dest = append(dest, &ks[i])
		}
		if extra == 2 {
			dest = append(dest, &provider, &retry)
		}
		if err := rows.Scan(append(dest, &n)...); err != nil {
			return err
		}
		key := make([]string, nKeys)
		for i := range ks {
			key[i] = ks[i].String
		}
		out = append(out, AttemptCount{StatsCount: StatsCount{Slot: fromMicros(slot), Keys: key, Count: n},
			Provider: provider.String, Retry: retry == 1})
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
