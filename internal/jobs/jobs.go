// Package jobs runs quoteflow's durable work on River: the steps of runs,
// message deliveries and the periodic expiry of quotes. Jobs are inserted in
// the same transaction as the rows that cause them, so a crash leaves either
// both or neither. What a job does is one call of its Handler (the app);
// that work is idempotent rather than completed in its own transaction, so
// River's own completion after Work returns is enough.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"go.opentelemetry.io/otel/trace"

	"github.com/quoteflow/quoteflow/internal/store"
)

// Handler does the work of each kind of job, all of it: the queue only
// schedules, runs and retries the calls. An error makes River retry the
// job later.
type Handler interface {
	// RunStep runs step position of a run and delivers the message it
	// claimed, if any.
	RunStep(ctx context.Context, tenantID, runID string, position int) error
	// Deliver claims and delivers a deferred or retried message.
	Deliver(ctx context.Context, tenantID, messageID string) error
	// Sweep expires the quotes past their valid_until and forgets old
	// Idempotency-Keys.
	Sweep(ctx context.Context) error
	// Purge deletes every tenant's timeline entries older than its
	// retention, keeping their statistics.
	Purge(ctx context.Context) error
	// EvaluateAlerts opens, refreshes and resolves every tenant's alerts.
	EvaluateAlerts(ctx context.Context) error
}

// StepArgs is the job of one step of a run.
type StepArgs struct {
	TenantID string `json:"tenant_id"`
	RunID    string `json:"run_id"`
	Position int    `json:"position"`
}

// Kind implements river.JobArgs.
func (StepArgs) Kind() string { return "run_step" }

// DeliverArgs is the job of one delivery attempt of a message.
type DeliverArgs struct {
	TenantID  string `json:"tenant_id"`
	MessageID string `json:"message_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "deliver" }

// ExpireArgs is the periodic sweep that expires quotes past valid_until and
// forgets old idempotency keys.
type ExpireArgs struct{}

// Kind implements river.JobArgs.
func (ExpireArgs) Kind() string { return "expire_quotes" }

// PurgeArgs is the periodic purge of timelines past their retention.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "purge_timelines" }

// AlertsArgs is the periodic evaluation of alerts.
type AlertsArgs struct{}

// Kind implements river.JobArgs.
func (AlertsArgs) Kind() string { return "evaluate_alerts" }

// Config tunes the queue.
type Config struct {
	// Workers is how many jobs run at once in this process.
	Workers int
	// PollInterval is how often the queue looks for due jobs when nothing
	// told it of new ones; 0 is DefaultPollInterval of the database.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay running before another
	// process takes it over, e.g. after this one was killed.
	RescueAfter time.Duration
	// ExpireEvery is the period of the quote expiry sweep.
	ExpireEvery time.Duration
	// PurgeEvery is the period of the retention purge.
	PurgeEvery time.Duration
	// AlertsEvery is the period of the alert evaluation.
	AlertsEvery time.Duration
	// TracerProvider makes the spans of inserts and work; nil is
	// OpenTelemetry's global provider (a no-op unless one was installed).
	TracerProvider trace.TracerProvider
}

// DefaultPollInterval is the queue's poll interval on a dialect when none
// is configured. PostgreSQL wakes the queue with LISTEN/NOTIFY when a job is
// inserted, so polling only finds scheduled jobs come due. SQLite has no
// notifications, and River does not wake its producer for jobs inserted in
// a transaction (every step and delivery job), so each of them waits for
// the next poll: 100 ms keeps that wait short, and an empty poll is an
// empty transaction that writes nothing.
func DefaultPollInterval(dialect string) time.Duration {
	if dialect == store.DialectPostgres {
		return time.Second
	}
	return 100 * time.Millisecond
}

// FetchCooldown is the least time between two fetches of the queue. River's
// default of 100 ms caps a process at MaxWorkers jobs per 100 ms (500 jobs/s
// with 50 workers) whatever the machine; at 20 ms the cap is 2,500, and a
// busy PostgreSQL sees at most 50 fetches a second from each process.
func FetchCooldown(pollInterval time.Duration) time.Duration {
	return min(20*time.Millisecond, pollInterval)
}

// CompletedJobRetention is how long River keeps a completed job before its
// cleaner deletes it (River's default is 24 hours). Nothing of quoteflow
// reads a finished job: a step's or a delivery's outcome is in the run
// step, the message and its attempts, which the timeline keeps for the
// tenant's retention. A completed job is only River's record that the work
// was done, seen in River's UI while looking into a recent incident, and at
// one or more jobs per message sent its rows and their seven indexes are a
// table of a day's traffic (docs/DECISIONS.md, issue 14).
const CompletedJobRetention = time.Hour

func (c *Config) defaults(dialect string) {
	if c.Workers <= 0 {
		c.Workers = 50
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval(dialect)
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = 5 * time.Minute
	}
	if c.ExpireEvery <= 0 {
		c.ExpireEvery = time.Minute
	}
	if c.PurgeEvery <= 0 {
		c.PurgeEvery = time.Hour
	}
	if c.AlertsEvery <= 0 {
		c.AlertsEvery = time.Minute
	}
}

// Queue is the River client of this process, on the store's database. It
// enqueues jobs from the moment it is built, and works them once started.
type Queue struct {
	// h does the work; set by Start, before any job can run.
	h      Handler
	db     *store.DB
	sqlite *river.Client[*sql.Tx]
	pg     *river.Client[pgx.Tx]
}

// New builds the queue over db. Jobs can be enqueued at once (EnqueueStepTx,
// EnqueueDeliveryTx); Start begins working them.
func New(db *store.DB, cfg Config, log *slog.Logger) (*Queue, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.defaults(db.Dialect())
	q := &Queue{db: db}
	workers := river.NewWorkers()
	river.AddWorker(workers, &stepWorker{q: q})
	river.AddWorker(workers, &deliverWorker{q: q})
	river.AddWorker(workers, &expireWorker{q: q})
	river.AddWorker(workers, &purgeWorker{q: q})
	river.AddWorker(workers, &alertsWorker{q: q})
	// A job is rescued once it has been running for longer than RescueAfter;
	// JobTimeout must end a live job's work well before that.
	jobTimeout := min(2*time.Minute, cfg.RescueAfter/2)
	rc := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		Logger:               slog.New(levelFloor{log.Handler(), slog.LevelWarn}),
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        FetchCooldown(cfg.PollInterval),
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// Cancelled and discarded jobs keep River's longer defaults (a day,
		// a week): they are rare, and are what someone looks into.
		CompletedJobRetentionPeriod: CompletedJobRetention,
		ReindexerIndexNames:         reindexed(db.Dialect()),
		Middleware:                  tracing(cfg.TracerProvider),
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.ExpireEvery),
				func() (river.JobArgs, *river.InsertOpts) { return ExpireArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.PurgeEvery),
				func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.AlertsEvery),
				func() (river.JobArgs, *river.InsertOpts) { return AlertsArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		},
	}
	var err error
	if db.Dialect() == store.DialectPostgres {
		q.pg, err = river.NewClient(riverpgxv5.New(db.PgxPool()), rc)
	} else {
		q.sqlite, err = river.NewClient(riversqlite.New(db.SQL()), rc)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Start begins working jobs with h until ctx ends or Stop is called.
func (q *Queue) Start(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("jobs: Start needs a handler")
	}
	q.h = h
	if q.pg != nil {
		return q.pg.Start(ctx)
	}
	return q.sqlite.Start(ctx)
}

// Stop waits for running jobs to finish, then stops.
func (q *Queue) Stop(ctx context.Context) error {
	if q.pg != nil {
		return q.pg.Stop(ctx)
	}
	return q.sqlite.Stop(ctx)
}

// EnqueueStepTx schedules step position of a run at at (now when zero or
// past), in tx.
func (q *Queue) EnqueueStepTx(ctx context.Context, tx *store.Tx, tenantID, runID string, position int, at time.Time) error {
	return q.insertTx(ctx, tx, StepArgs{TenantID: tenantID, RunID: runID, Position: position}, at)
}

// EnqueueDeliveryTx schedules a delivery attempt of a message at at, in tx.
func (q *Queue) EnqueueDeliveryTx(ctx context.Context, tx *store.Tx, tenantID, messageID string, at time.Time) error {
	return q.insertTx(ctx, tx, DeliverArgs{TenantID: tenantID, MessageID: messageID}, at)
}

func (q *Queue) insertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, at time.Time) error {
	opts := &river.InsertOpts{Metadata: askerTrace(ctx)}
	if at.After(tx.Now()) {
		opts.ScheduledAt = at
	}
	// Held until just before the commit, then inserted with one statement
	// for the whole transaction: a group commit of many quote actions or
	// deliveries inserts all their jobs together. A job exists only if its
	// transaction commits, as with InsertTx.
	p := tx.OnCommit(q, func() (any, func(context.Context) error) {
		// The insert runs in the first asker's trace (its values, not its
		// cancellation: the commit serves every caller of a group).
		p, asker := &pendingJobs{}, context.WithoutCancel(ctx)
		return p, func(context.Context) error { return q.insertMany(asker, tx, p.params) }
	}).(*pendingJobs)
	p.params = append(p.params, river.InsertManyParams{Args: args, InsertOpts: opts})
	return nil
}

// pendingJobs are the jobs a transaction has asked for so far.
type pendingJobs struct{ params []river.InsertManyParams }

func (q *Queue) insertMany(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	var err error
	if q.pg != nil {
		var ptx pgx.Tx
		if ptx, err = tx.BegunPgxTx(ctx); err == nil {
			_, err = q.pg.InsertManyTx(ctx, ptx, params)
		}
	} else {
		_, err = q.sqlite.InsertManyTx(ctx, tx.SQLTx(), params)
	}
	if err != nil {
		return fmt.Errorf("jobs: insert %d jobs: %w", len(params), err)
	}
	return nil
}

type stepWorker struct {
	river.WorkerDefaults[StepArgs]
	q *Queue
}

// Work runs the step. River marks the job completed once Work returns: a
// step run again finds its record and does nothing twice.
func (w *stepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	return w.q.h.RunStep(ctx, job.Args.TenantID, job.Args.RunID, job.Args.Position)
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	q *Queue
}

// Work delivers a deferred or retried message.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.q.h.Deliver(ctx, job.Args.TenantID, job.Args.MessageID)
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	q *Queue
}

// Work sweeps.
func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	return w.q.h.Sweep(ctx)
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	q *Queue
}

// Work purges.
func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	return w.q.h.Purge(ctx)
}

type alertsWorker struct {
	river.WorkerDefaults[AlertsArgs]
	q *Queue
}

// Work evaluates alerts.
func (w *alertsWorker) Work(ctx context.Context, _ *river.Job[AlertsArgs]) error {
	return w.q.h.EvaluateAlerts(ctx)
}

// levelFloor drops records below a level; River reports every job at
// info, which would drown the service's own logs.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}

// droppedRiverIndexes are River's indexes that migration 0017 drops on
// PostgreSQL (River's SQLite schema never had them): GIN indexes of every
// job's args and metadata, which only job list filters nobody here uses
// would read.
var droppedRiverIndexes = []string{"river_job_args_index", "river_job_metadata_index"}

// reindexed is River's default list of indexes to rebuild daily, less
// those the dialect's schema does not have, which River would otherwise
// warn about each day as missing: the dropped ones, and on SQLite the
// primary key's, which is the table's rowid rather than an index.
func reindexed(dialect string) []string {
	var names []string
	for _, n := range river.ReindexerIndexNamesDefault() {
		if slices.Contains(droppedRiverIndexes, n) || dialect == store.DialectSQLite && n == "river_job_pkey" {
			continue
		}
		names = append(names, n)
	}
	return names
}
