package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quoteflow/quoteflow/internal/store"
)

// The floors answer "how fast could this be at all?": the cheapest
// statements that write what quoteflow writes, timed alone on the same
// machine in the same run. They write copies of the real tables (CREATE
// TABLE … (LIKE … INCLUDING ALL): the same columns, defaults and indexes,
// no foreign keys), one row shaped like the last one the scenarios wrote,
// and send each transaction as one pgx batch: one round trip, BEGIN to
// COMMIT, with no reads but the quote's row lock. What they leave out
// (the reads that decide, the foreign-key checks, River's fetch query,
// the HTTP request and the rendering) is what quoteflow's own figures pay
// on top; a target the floor misses is out of reach of any change to
// quoteflow's statements.

// floorTables are the tables the floors write, in the order they are
// copied.
var floorTables = []string{"quotes", "trigger_events", "runs", "river_job", "run_steps", "messages", "message_attempts"}

// freshColumns are those a floor row gets a new value in, so that it is
// unique where the real tables' unique indexes ask it to be.
var freshColumns = []string{"id", "event_id", "run_id", "run_step_id", "message_id", "idempotency_key", "dedupe_key",
	"provider_message_id", "public_token", "unique_key"}

// floorRow is one table's insert: the statement, and its template values
// with the places of the fresh ones.
type floorRow struct {
	insert string
	names  []string // the insert's columns
	values []any
	fresh  []int
	// serial is set when the table's id is a sequence's (river_job): the
	// insert leaves it out and returns it.
	serial bool
}

// args returns the template's values with fresh ones where they belong;
// ids maps a fresh column to the value it got, so that the rows of one
// operation refer to each other.
func (f *floorRow) args(ids map[int]string) []any {
	out := slices.Clone(f.values)
	for _, i := range f.fresh {
		if v, ok := ids[i]; ok {
			out[i] = v
			continue
		}
		out[i] = newFloorID()
	}
	return out
}

func newFloorID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// floors measures FloorAction and FloorMessage on PostgreSQL, after the
// scenarios, from the rows they wrote. It does nothing on SQLite, where
// the targets are met, or when no scenario wrote a delivered message.
//
// It returns why it measured nothing, if it did not.
func (r *runner) floors(ctx context.Context) (string, error) {
	if r.db.Dialect != store.DialectPostgres {
		return "", nil
	}
	db, err := store.Open(ctx, r.db.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer db.Close()
	pool := db.PgxPool()
	rows := map[string]*floorRow{}
	for _, t := range floorTables {
		row, err := floorTable(ctx, pool, t)
		if err != nil {
			return "", fmt.Errorf("floor table %s: %w", t, err)
		}
		if row == nil {
			return fmt.Sprintf("floors not measured: no %s row to copy (they copy the rows deliver writes)", t), nil
		}
		rows[t] = row
	}
	// A new job is available, as quoteflow inserts it; River's checks
	// want a finished job's state and finalized_at together.
	rows["river_job"].set("state", "available")
	rows["river_job"].set("finalized_at", nil)
	rows["river_job"].set("attempt", "0")
	// The copies start with the real tables' rows, analysed: a statement
	// planned on an empty table scans it, and keeps doing so as it grows.
	for _, t := range floorTables {
		if _, err := pool.Exec(ctx, `INSERT INTO floor_`+t+` SELECT * FROM `+t); err != nil {
			return "", fmt.Errorf("floor table %s: %w", t, err)
		}
		if _, err := pool.Exec(ctx, `ANALYZE floor_`+t); err != nil {
			return "", err
		}
	}
	// Quotes of the tenant the rows belong to, to lock and update, one per
	// client at a time.
	var quotes []string
	qr, err := pool.Query(ctx, `SELECT id FROM floor_quotes WHERE tenant_id = $1 ORDER BY id LIMIT 2000`, rows["runs"].value("tenant_id"))
	if err != nil {
		return "", err
	}
	if quotes, err = pgx.CollectRows(qr, pgx.RowTo[string]); err != nil {
		return "", err
	}
	if r.ceilings.FloorAction, err = r.floor(ctx, pool, "floor-action", quotes, func(ctx context.Context, c *pgxpool.Conn, quote string) error {
		_, _, err := floorAction(ctx, c, rows, quote)
		return err
	}); err != nil {
		return "", err
	}
	r.ceilings.FloorMessage, err = r.floor(ctx, pool, "floor-message", quotes, func(ctx context.Context, c *pgxpool.Conn, quote string) error {
		return floorMessage(ctx, c, rows, quote)
	})
	return "", err
}

// floorTable creates floor_<table> as a copy of table and returns its
// insert, with the newest row of table as its template; nil when table
// is empty.
func floorTable(ctx context.Context, pool *pgxpool.Pool, table string) (*floorRow, error) {
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS floor_`+table); err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE floor_`+table+` (LIKE `+table+` INCLUDING ALL)`); err != nil {
		return nil, err
	}
	cr, err := pool.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, table)
	if err != nil {
		return nil, err
	}
	type column struct{ name, typ string }
	cols, err := pgx.CollectRows(cr, func(row pgx.CollectableRow) (column, error) {
		var c column
		err := row.Scan(&c.name, &c.typ)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	f := &floorRow{}
	var names, casts, texts []string
	for _, c := range cols {
		if c.name == "id" && (c.typ == "bigint" || c.typ == "integer") {
			f.serial = true // the sequence's default gives it
			continue
		}
		texts = append(texts, quoteIdent(c.name)+`::text`)
		names = append(names, quoteIdent(c.name))
		f.names = append(f.names, c.name)
		casts = append(casts, fmt.Sprintf("$%d::%s", len(names), c.typ))
		if slices.Contains(freshColumns, c.name) {
			f.fresh = append(f.fresh, len(names)-1)
		}
	}
	order := "created_at DESC"
	switch table {
	case "quotes":
		order = "id"
	case "message_attempts":
		order = "started_at DESC"
	}
	tr, err := pool.Query(ctx, `SELECT `+strings.Join(texts, ", ")+` FROM `+table+` ORDER BY `+order+` LIMIT 1`)
	if err != nil {
		return nil, err
	}
	vals, err := pgx.CollectRows(tr, func(row pgx.CollectableRow) ([]any, error) {
		dest := make([]*string, len(names))
		ptrs := make([]any, len(names))
		for i := range dest {
			ptrs[i] = &dest[i]
		}
		if err := row.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(dest))
		for i, d := range dest {
			if d != nil {
				out[i] = *d
			}
		}
		return out, nil
	})
	if err != nil || len(vals) == 0 {
		return nil, err
	}
	f.values = vals[0]
	// A NULL template value stays NULL: nothing unique to keep apart.
	f.fresh = slices.DeleteFunc(f.fresh, func(i int) bool { return f.values[i] == nil })
	f.insert = `INSERT INTO floor_` + table + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(casts, ", ") + `)`
	if f.serial {
		f.insert += ` RETURNING id`
	}
	return f, nil
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// floorAction writes a quote action's rows in one round trip: the quote
// locked and updated, its event, its run and its step job. It returns the
// job's id and the run's.
func floorAction(ctx context.Context, c *pgxpool.Conn, rows map[string]*floorRow, quote string) (job int64, run string, err error) {
	now := time.Now().UnixMicro()
	event := newFloorID()
	run = newFloorID()
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	// Every statement names the tenant with the id, as quoteflow's do: the
	// tables' unique (tenant_id, id) indexes are what they look rows up by.
	tenant := rows["runs"].value("tenant_id")
	b.Queue(`SELECT id, status, version FROM floor_quotes WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenant, quote)
	b.Queue(rows["trigger_events"].insert, rows["trigger_events"].args(idsOf(rows["trigger_events"], "id", event))...)
	b.Queue(rows["runs"].insert, rows["runs"].args(idsOf(rows["runs"], "id", run, "event_id", event))...)
	b.Queue(`UPDATE floor_quotes SET status = 'sent', version = version + 1, updated_at = $3 WHERE tenant_id = $1 AND id = $2`, tenant, quote, now)
	b.Queue(rows["river_job"].insert, rows["river_job"].args(nil)...).QueryRow(func(row pgx.Row) error { return row.Scan(&job) })
	b.Queue(`COMMIT`)
	return job, run, c.SendBatch(ctx, b).Close()
}

// floorMessage writes a delivered message's rows: the action's, then the
// step's transaction (its job taken, the run step, the message claimed
// with its attempt, the run finished), then the outcome's (attempt and
// message sent, the job completed): three transactions of one round trip
// each, as the outbox needs a commit before the provider call and one
// after it.
func floorMessage(ctx context.Context, c *pgxpool.Conn, rows map[string]*floorRow, quote string) error {
	job, run, err := floorAction(ctx, c, rows, quote)
	if err != nil {
		return err
	}
	now := time.Now().UnixMicro()
	tenant := rows["runs"].value("tenant_id")
	step, message, attempt := newFloorID(), newFloorID(), newFloorID()
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`UPDATE floor_river_job SET state = 'running', attempt = attempt + 1, attempted_at = now() WHERE id = $1`, job)
	b.Queue(rows["run_steps"].insert, rows["run_steps"].args(idsOf(rows["run_steps"], "id", step, "run_id", run))...)
	b.Queue(rows["messages"].insert, rows["messages"].args(idsOf(rows["messages"], "id", message, "run_id", run, "run_step_id", step))...)
	b.Queue(rows["message_attempts"].insert, rows["message_attempts"].args(idsOf(rows["message_attempts"], "id", attempt, "message_id", message))...)
	b.Queue(`UPDATE floor_runs SET status = 'completed', finished_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2`, tenant, run, now)
	b.Queue(`COMMIT`)
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	b = &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`UPDATE floor_message_attempts SET outcome = 'sent', finished_at = $3, provider_message_id = $4 WHERE tenant_id = $1 AND id = $2`,
		tenant, attempt, now, newFloorID())
	b.Queue(`UPDATE floor_messages SET status = 'sent', sent_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2`, tenant, message, now)
	b.Queue(`UPDATE floor_river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, job)
	b.Queue(`COMMIT`)
	return c.SendBatch(ctx, b).Close()
}

// idsOf maps the places of f's named fresh columns to the values given,
// in pairs: name, value.
func idsOf(f *floorRow, pairs ...string) map[int]string {
	ids := map[int]string{}
	for _, i := range f.fresh {
		for p := 0; p+1 < len(pairs); p += 2 {
			if f.columnAt(i) == pairs[p] {
				ids[i] = pairs[p+1]
			}
		}
	}
	return ids
}

// columnAt is the name of the insert's i-th column.
func (f *floorRow) columnAt(i int) string { return f.names[i] }

// value is the template's value of column name, "" if NULL or absent.
func (f *floorRow) value(name string) string {
	if i := slices.Index(f.names, name); i >= 0 {
		if v, ok := f.values[i].(string); ok {
			return v
		}
	}
	return ""
}

// set gives the template's column name the value v (nil is NULL).
func (f *floorRow) set(name string, v any) {
	if i := slices.Index(f.names, name); i >= 0 {
		f.values[i] = v
	}
}

// floor runs op by Concurrency clients, each on a connection of its own
// and its own quotes, for the measured window.
func (r *runner) floor(ctx context.Context, pool *pgxpool.Pool, phase string, quotes []string,
	op func(ctx context.Context, c *pgxpool.Conn, quote string) error) (*Ceiling, error) {
	// Commits are not counted (counting waits for the pool's connections
	// to close): an action is one transaction, a message three.
	var firstErr atomic.Value
	w, cpu, rec, err := r.closedLoop(ctx, phase, "operations", func(ctx context.Context, _ int) (func(context.Context, int) error, func(), error) {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, i int) error {
			err := op(ctx, c, quotes[i%len(quotes)])
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				// A failed batch may leave the session in an aborted
				// transaction.
				_, _ = c.Exec(ctx, `ROLLBACK`)
			}
			return err
		}, c.Release, nil
	})
	if err != nil {
		return nil, err
	}
	ops, errs, lat := rec.result()
	if e, ok := firstErr.Load().(error); ok && ops == 0 {
		return nil, fmt.Errorf("%s: %w", phase, e)
	}
	return &Ceiling{PerSec: rate(ops, w), Ops: ops, Seconds: round3(w.seconds()), Concurrency: r.cfg.Concurrency,
		Latency: lat, CPU: cpu, Errors: errs}, nil
}
