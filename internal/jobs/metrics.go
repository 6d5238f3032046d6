package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quoteflow/quoteflow/internal/store"
)

// queueStates are the states of a job not yet finished; finished jobs
// (completed, cancelled, discarded) are history, not depth. River's
// (state, queue, priority, scheduled_at, id) index serves the filter, so a
// scrape reads only unfinished jobs however long the history is.
const queueStates = `('available', 'pending', 'retryable', 'running', 'scheduled')`

// scrapeTimeout bounds one scrape's query: a slow database leaves the
// series out of that scrape instead of hanging /metrics.
const scrapeTimeout = 2 * time.Second

var (
	depthDesc = prometheus.NewDesc("quoteflow_queue_jobs",
		"Unfinished jobs in River's table by kind and state (available, pending, retryable, running, scheduled), across processes.",
		[]string{"kind", "state"}, nil)
	oldestDesc = prometheus.NewDesc("quoteflow_queue_oldest_due_seconds",
		"Seconds the longest-waiting due job of the kind has been due and not started (0 when none is waiting): how far behind the queue is.",
		[]string{"kind"}, nil)
)

// kinds are the job kinds; each gets an oldest-due series even at zero.
var kinds = []string{StepArgs{}.Kind(), DeliverArgs{}.Kind(), ExpireArgs{}.Kind()}

// Collector returns the Prometheus collector of the queue's depth and lag,
// read from River's job table at each scrape.
func (q *Queue) Collector() prometheus.Collector { return &queueCollector{db: q.db, now: time.Now} }

type queueCollector struct {
	db  *store.DB
	now func() time.Time
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	groups, err := c.groups(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	now := c.now()
	oldest := map[string]float64{}
	for _, k := range kinds {
		oldest[k] = 0
	}
	for _, g := range groups {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(g.count), g.kind, g.state)
		// A running job is being worked; any other one whose time has come
		// is waiting for a worker (or for River's scheduler to make it
		// available).
		if g.state == "running" || g.earliest.After(now) {
			continue
		}
		oldest[g.kind] = max(oldest[g.kind], now.Sub(g.earliest).Seconds())
	}
	for k, s := range oldest {
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, s, k)
	}
}

type jobGroup struct {
	kind, state string
	count       int64
	earliest    time.Time
}

func (c *queueCollector) groups(ctx context.Context) ([]jobGroup, error) {
	const query = `SELECT kind, state, count(*), min(scheduled_at) FROM river_job WHERE state IN ` + queueStates + ` GROUP BY kind, state`
	var out []jobGroup
	if pool := c.db.PgxPool(); pool != nil {
		rows, err := pool.Query(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("jobs: queue depth: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var g jobGroup
			if err := rows.Scan(&g.kind, &g.state, &g.count, &g.earliest); err != nil {
				return nil, fmt.Errorf("jobs: queue depth: %w", err)
			}
			out = append(out, g)
		}
		return out, rows.Err()
	}
	rows, err := c.db.SQL().QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("jobs: queue depth: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g jobGroup
		var earliest any
		if err := rows.Scan(&g.kind, &g.state, &g.count, &earliest); err != nil {
			return nil, fmt.Errorf("jobs: queue depth: %w", err)
		}
		if g.earliest, err = sqliteTime(earliest); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// sqliteTimeLayouts are the forms River's SQLite driver leaves in a
// timestamp column: its own default (datetime('now', 'subsec')) and the
// text of a Go time it was given.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.RFC3339Nano,
}

// sqliteTime reads min(scheduled_at): an aggregate has no declared type, so
// the driver hands back the stored text (or a time, should it parse it).
func sqliteTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		for _, l := range sqliteTimeLayouts {
			if at, err := time.Parse(l, t); err == nil {
				return at, nil
			}
		}
		return time.Time{}, fmt.Errorf("jobs: queue depth: unreadable scheduled_at %q", t)
	case []byte:
		return sqliteTime(string(t))
	}
	return time.Time{}, fmt.Errorf("jobs: queue depth: unreadable scheduled_at %T", v)
}
