// Package jobs runs quoteflow's durable work on River: the steps of runs,
// message deliveries and the periodic expiry of quotes. Jobs are inserted in
// the same transaction as the rows that cause them, so a crash leaves either
// both or neither. Work is idempotent rather than completed in its own
// transaction: a job run again after a crash finds what its first try
// wrote (the unique run step and message, the message's status) and does
// nothing twice, so River's own completion after Work returns is enough.
package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/store"
)

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
	// Registry receives the queue's metrics; nil registers none.
	Registry prometheus.Registerer
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
}

// Queue is the River client of this process, on the store's database.
type Queue struct {
	deliveries *prometheus.CounterVec
	db         *store.DB
	app        *app.App
	log        *slog.Logger
	sqlite     *river.Client[*sql.Tx]
	pg         *river.Client[pgx.Tx]
}

// New builds the queue; Start begins working jobs. It also becomes the
// app's Enqueuer.
func New(db *store.DB, a *app.App, cfg Config, log *slog.Logger) (*Queue, error) {
	cfg.defaults(db.Dialect())
	q := &Queue{db: db, app: a, log: log}
	q.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quoteflow_deliveries_total",
		Help: "Delivery attempts finished by this process, by channel, provider and outcome (sent, or the error class).",
	}, []string{"channel", "provider", "outcome"})
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(q.deliveries); err != nil {
			return nil, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &stepWorker{q: q})
	river.AddWorker(workers, &deliverWorker{q: q})
	river.AddWorker(workers, &expireWorker{q: q})
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
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.ExpireEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ExpireArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})},
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
	a.Jobs = q
	return q, nil
}

// Start begins working jobs until ctx ends or Stop is called.
func (q *Queue) Start(ctx context.Context) error {
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

// EnqueueStepTx implements app.Enqueuer.
func (q *Queue) EnqueueStepTx(ctx context.Context, tx *store.Tx, tenantID, runID string, position int, at time.Time) error {
	return q.insertTx(ctx, tx, StepArgs{TenantID: tenantID, RunID: runID, Position: position}, at)
}

// EnqueueDeliveryTx implements app.Enqueuer.
func (q *Queue) EnqueueDeliveryTx(ctx context.Context, tx *store.Tx, tenantID, messageID string, at time.Time) error {
	return q.insertTx(ctx, tx, DeliverArgs{TenantID: tenantID, MessageID: messageID}, at)
}

func (q *Queue) insertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, at time.Time) error {
	var opts *river.InsertOpts
	if at.After(tx.Now()) {
		opts = &river.InsertOpts{ScheduledAt: at}
	}
	var err error
	if q.pg != nil {
		_, err = q.pg.InsertTx(ctx, tx.PgxTx(), args, opts)
	} else {
		_, err = q.sqlite.InsertTx(ctx, tx.SQLTx(), args, opts)
	}
	return err
}

type stepWorker struct {
	river.WorkerDefaults[StepArgs]
	q *Queue
}

// Work runs the step in one transaction and, when the step claimed a
// message due now, sends it after the commit. River marks the job completed
// once Work returns: a step run again finds its record and does nothing
// twice (see app.ExecuteStep).
func (w *stepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	var d *app.Delivery
	err := w.q.db.GroupTx(ctx, func(tx *store.Tx) error {
		var err error
		d, err = w.q.app.ExecuteStep(ctx, tx, job.Args.TenantID, job.Args.RunID, job.Args.Position)
		return err
	})
	if err != nil || d == nil {
		return err
	}
	return w.q.deliver(ctx, d)
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	q *Queue
}

// Work claims a deferred or retried message (one commit), then sends it.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	var d *app.Delivery
	err := w.q.db.GroupTx(ctx, func(tx *store.Tx) error {
		var err error
		d, err = w.q.app.BeginDelivery(ctx, tx, job.Args.TenantID, job.Args.MessageID)
		return err
	})
	if err != nil || d == nil {
		return err
	}
	return w.q.deliver(ctx, d)
}

// deliver calls the provider for a claimed message, outside any
// transaction, and records the outcome (one commit).
func (q *Queue) deliver(ctx context.Context, d *app.Delivery) error {
	res, sendErr := q.app.Send(ctx, d)
	outcome := "sent"
	if sendErr != nil {
		outcome = string(channel.ClassOf(sendErr))
	}
	q.deliveries.WithLabelValues(d.Message.Channel, d.Message.Provider, outcome).Inc()
	// The outcome is recorded even if this job's context has ended: the
	// provider has answered, and losing that answer would leave the
	// message sending until it is settled as unknown.
	rctx := context.WithoutCancel(ctx)
	return q.db.GroupTx(rctx, func(tx *store.Tx) error {
		return q.app.FinishDelivery(rctx, tx, d, res, sendErr)
	})
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	q *Queue
}

// idempotencyRetention is how long an Idempotency-Key answers with its
// first response.
const idempotencyRetention = 24 * time.Hour

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	if _, err := w.q.db.PurgeIdempotencyKeys(ctx, w.q.app.Now().Add(-idempotencyRetention)); err != nil {
		return err
	}
	for {
		n, err := w.q.app.ExpireDueQuotes(ctx, 100)
		if err != nil || n < 100 {
			if n > 0 {
				w.q.log.InfoContext(ctx, "expired quotes", "count", n)
			}
			return err
		}
	}
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

var _ app.Enqueuer = (*Queue)(nil)
