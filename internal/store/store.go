package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/secrets"
)

// The two dialects Open understands, as returned by (*DB).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DB is quoteflow's storage: one implementation over database/sql for SQLite
// and PostgreSQL. Its methods are safe for concurrent use.
type DB struct {
	// Now is the clock every write reads once per transaction. It defaults
	// to time.Now; tests replace it before use to control time. Its result is
	// truncated to microseconds, the precision of the schema.
	Now func() time.Time

	sql     *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only: River's riverpgxv5 driver needs it
	dialect string
	logger  *slog.Logger

	rebound sync.Map // query text → the same query with $n placeholders

	batchOnce sync.Once
	batcher   *Batcher // GroupTx's, started by its first call

	secrets     *secrets.Keyring // seals tenants' channel secrets; nil: none can be saved
	secretsPage int              // tenants per transaction of RotateSecrets; 0: secretsPage

	tenants *tenantCache // nil: no tenant row is cached
}

// postgresMaxConns is the pool size when the URL has no pool_max_conns.
// pgxpool's default, max(4, NumCPU), is sized for one goroutine per core,
// but HTTP handlers and 50 queue workers share the pool, and each holds a
// connection for a whole transaction, most of it waiting on the network or
// on a row lock rather than using a core: with 4, requests queue for a
// connection while the server idles. 16 keeps them moving and stays far
// below PostgreSQL's default max_connections (100) for a few replicas.
const postgresMaxConns = 16

// sqliteBusyTimeoutMS is how long a statement waits for another
// connection's lock before failing with SQLITE_BUSY.
const sqliteBusyTimeoutMS = 5000

// sqlitePragmas make every SQLite connection durable and strict: WAL for
// concurrent readers, synchronous FULL so a committed transaction survives a
// power loss (NORMAL could lose the last commits, and a quote action's
// decision must not vanish), foreign keys enforced, and BEGIN IMMEDIATE so a
// transaction takes the write lock up front instead of failing half-way with
// SQLITE_BUSY when it first writes.
var sqlitePragmas = url.Values{
	"_pragma": {"busy_timeout(" + strconv.Itoa(sqliteBusyTimeoutMS) + ")", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)"},
	"_txlock": {"immediate"},
}

// Open connects to the database named by dsn: a postgres:// or
// postgresql:// URL for PostgreSQL; anything else is SQLite ("sqlite:PATH",
// "sqlite://PATH" or a plain file path). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	return OpenWith(ctx, dsn, logger, OpenOptions{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, logger *slog.Logger, o OpenOptions) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{Now: time.Now, logger: logger, tenants: newTenantCache(o.TenantCache)}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		cfg, err := poolConfig(dsn)
		if err != nil {
			return nil, err
		}
		if o.Statements != nil {
			cfg.ConnConfig.Tracer = o.Statements
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
		db.pool = pool
		db.sql = stdlib.OpenDBFromPool(pool)
		db.dialect = DialectPostgres
		return db, nil
	}

	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if path == "" {
		return nil, errors.New("store: empty sqlite path")
	}
	params := url.Values{}
	if p, q, ok := strings.Cut(path, "?"); ok {
		path = p
		extra, err := url.ParseQuery(q)
		if err != nil {
			return nil, fmt.Errorf("store: parse sqlite parameters: %w", err)
		}
		params = extra
	}
	for k, v := range sqlitePragmas {
		params[k] = append(params[k], v...)
	}
	connector, err := newSQLiteConnector(path + "?" + params.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	sqlDB := sql.OpenDB(connector)
	// One connection: SQLite has a single writer anyway, and River's SQLite
	// driver fails with SQLITE_BUSY under parallel connections. The cost is
	// that readers wait for writers; a separate read-only pool is the
	// optimisation for later. A consequence for callers: inside Tx, use only
	// the *Tx, never the *DB, or the call waits for itself.
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	db.sql = sqlDB
	db.dialect = DialectSQLite
	return db, nil
}

// poolConfig parses a postgres:// URL into the pool's configuration, with
// postgresMaxConns unless the URL sets pool_max_conns.
func poolConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse postgres url: %w", err)
	}
	// ParseConfig removes pool_max_conns from what it returns and puts its
	// own default in MaxConns, so whether the URL chose the size can only be
	// read from the URL itself. ParseConfig accepted it, so url.Parse does.
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse postgres url: %w", err)
	}
	if !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = postgresMaxConns
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerIDCodec(conn.TypeMap())
		return nil
	}
	return cfg, nil
}

// Close closes the database and, on PostgreSQL, its pool.
func (db *DB) Close() error {
	db.batchOnce.Do(func() {}) // no runners start after this
	if db.batcher != nil {
		db.batcher.Close()
	}
	err := db.sql.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

// SQL returns the underlying database/sql handle, for River's SQLite driver
// and for health checks.
func (db *DB) SQL() *sql.DB { return db.sql }

// PgxPool returns the PostgreSQL pool for River's riverpgxv5 driver; nil on
// SQLite.
func (db *DB) PgxPool() *pgxpool.Pool { return db.pool }

// Dialect returns DialectSQLite or DialectPostgres.
func (db *DB) Dialect() string { return db.dialect }

// Logger returns the logger given to Open.
func (db *DB) Logger() *slog.Logger { return db.logger }

func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Microsecond)
}

// querier is what *sql.Tx, *sql.Conn and *sql.DB have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is one database transaction with the time taken once at its start.
// Its methods are the store's operations; the methods of DB with the same
// names open a transaction and call them, and callers that need several
// operations to commit together (a quote action) use DB.Tx and call them
// directly.
type Tx struct {
	db  *DB
	q   querier
	now time.Time

	sqlTx *sql.Tx // SQLite
	pgxTx pgx.Tx  // PostgreSQL

	// PostgreSQL, read-write: the connection, whose transaction begins
	// with its first statements (lazybegin.go); pgxTx is nil until then.
	pgConn *pgx.Conn

	pending []stmt       // PostgreSQL: writes queued for the next round trip (pipeline.go)
	hooks   []commitHook // run before the commit (OnCommit)
}

// Now is the transaction's clock reading, in UTC, truncated to microseconds.
func (tx *Tx) Now() time.Time { return tx.now }

// Dialect returns the dialect of the database the transaction runs on.
func (tx *Tx) Dialect() string { return tx.db.dialect }

// SQLTx returns the database/sql transaction on SQLite, for River's
// riversqlite driver to insert jobs in it; nil on PostgreSQL.
func (tx *Tx) SQLTx() *sql.Tx { return tx.sqlTx }

// Tx runs fn in a read-write transaction and commits it if fn returns nil;
// otherwise, or if fn panics, it rolls back. On PostgreSQL the isolation is
// READ COMMITTED: writes that must not race lock a row first (every
// configuration write updates its tenant's config_version first, which
// serialises them per tenant) and updates compare versions. On SQLite,
// transactions are serial.
func (db *DB) Tx(ctx context.Context, fn func(*Tx) error) error {
	return db.transact(ctx, false, fn)
}

// ReadTx runs fn in a read-only transaction that sees one snapshot (REPEATABLE
// READ on PostgreSQL), for reads that must be consistent with each other.
func (db *DB) ReadTx(ctx context.Context, fn func(*Tx) error) error {
	return db.transact(ctx, true, fn)
}

// ReadParallel runs each job in a read-only transaction and returns the
// first error. Every job sees the same snapshot. On PostgreSQL the jobs run
// at once, each on a connection of its own: the first transaction exports
// its snapshot and the others import it (SET TRANSACTION SNAPSHOT), so
// their answers are as consistent with each other as reads of one
// transaction, and a statistics answer made of several scans takes the
// time of the longest rather than of their sum. On SQLite, whose
// connection runs one statement at a time, they run one after the other
// in one transaction.
func (db *DB) ReadParallel(ctx context.Context, jobs ...func(*Tx) error) error {
	return db.transact(ctx, true, func(first *Tx) error {
		if db.dialect != DialectPostgres || len(jobs) < 2 {
			for _, job := range jobs {
				if err := job(first); err != nil {
					return err
				}
			}
			return nil
		}
		var snapshot string
		if err := first.queryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
			return translate(err, "export snapshot", onViolation{})
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for i, job := range jobs[1:] {
			wg.Go(func() {
				errs[i+1] = db.transactWith(ctx, txOptions{readOnly: true, snapshot: snapshot, now: first.now}, job)
				if errs[i+1] != nil {
					cancel()
				}
			})
		}
		errs[0] = jobs[0](first)
		if errs[0] != nil {
			cancel()
		}
		// The exporting transaction stays open until every importer has
		// finished: its snapshot lives only as long as it does.
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		}
		return errors.Join(errs...)
	})
}

func (db *DB) transact(ctx context.Context, readOnly bool, fn func(*Tx) error) error {
	return db.transactWith(ctx, txOptions{readOnly: readOnly, now: db.now()}, fn)
}

// txOptions are how transactWith begins a transaction.
type txOptions struct {
	readOnly bool
	// snapshot, on PostgreSQL, is a snapshot another open transaction
	// exported, for a read-only transaction to import before its first
	// read.
	snapshot string
	// now is the transaction's clock (Tx.Now).
	now time.Time
}

// importSnapshot makes ptx, just begun, see the snapshot another
// transaction exported. The statement takes no parameter, so the id
// (hex digits and dashes, as pg_export_snapshot makes them) is checked
// before it is quoted in.
func importSnapshot(ctx context.Context, ptx pgx.Tx, id string) error {
	for _, r := range id {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'F') {
			return fmt.Errorf("store: snapshot id %q is not one PostgreSQL exports", id)
		}
	}
	_, err := ptx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+id+`'`)
	return err
}

func (db *DB) transactWith(ctx context.Context, o txOptions, fn func(*Tx) error) error {
	readOnly := o.readOnly
	tx := &Tx{db: db, now: o.now}
	var commit, rollback func(context.Context) error
	if db.dialect == DialectPostgres {
		// River's riverpgxv5 driver inserts jobs only in a pgx.Tx, so a
		// transaction is pgx's, on a connection of the pool held until it
		// ends, and every statement of it goes through pgx (pipeline.go;
		// Tx.each for the reads of many rows). The connection comes from
		// pgxpool directly: through database/sql (stdlib's
		// OpenDBFromPool keeps no idle connections of its own) every
		// transaction also built a stdlib driver connection around it,
		// about 7 KB, for statements that never used it.
		pc, err := db.pool.Acquire(ctx)
		if err != nil {
			return translate(err, "acquire connection", onViolation{})
		}
		// The pool closes a connection left in a transaction (a rollback
		// that could not reach the server) rather than reuse it.
		defer pc.Release()
		if !readOnly {
			tx.pgConn = pc.Conn()
		} else {
			ptx, err := pc.Conn().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
			if err != nil {
				return translate(err, "begin", onViolation{})
			}
			tx.pgxTx = ptx
			if o.snapshot != "" {
				if err := importSnapshot(ctx, ptx, o.snapshot); err != nil {
					_ = ptx.Rollback(context.WithoutCancel(ctx))
					return translate(err, "begin", onViolation{})
				}
			}
		}
		commit, rollback = tx.commitPostgres, tx.rollbackOrNothing
	} else {
		stx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
		if err != nil {
			return translate(err, "begin", onViolation{})
		}
		tx.sqlTx, tx.q = stx, stx
		commit = func(ctx context.Context) error {
			if err := tx.beforeCommit(ctx); err != nil {
				return err
			}
			return stx.Commit()
		}
		rollback = func(context.Context) error { return stx.Rollback() }
	}

	done := false
	defer func() {
		if !done {
			// A cancelled ctx must not keep the rollback from reaching
			// the server and the connection from going back clean.
			_ = rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	if err := commit(ctx); err != nil {
		_ = rollback(context.WithoutCancel(ctx))
		if _, ok := errors.AsType[*pendingError](err); ok {
			return err
		}
		return translate(err, "commit", onViolation{})
	}
	return nil
}

// auto returns a Tx whose statements run outside any transaction, for
// reads that are a single statement and need no snapshot.
func (db *DB) auto() *Tx { return &Tx{db: db, q: db.sql, now: db.now()} }

// rebind turns the ? placeholders of query into $1..$n on PostgreSQL. Our
// SQL has no ? inside literals, but quoted text is skipped anyway.
func (db *DB) rebind(query string) string {
	if db.dialect != DialectPostgres {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, inQuote := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	q := b.String()
	db.rebound.Store(query, q)
	return q
}

// SQLite statements are prepared once per connection by the driver
// (sqlitedriver.go), PostgreSQL's by pgx's statement cache: the helpers
// send the text.

// Each helper first sends the writes the transaction has queued
// (pipeline.go), so that a statement sees them.

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.pipelined() {
		// With the queued writes, in one round trip through pgx.
		n, err := tx.batchCount(ctx, stmt{query: query, args: args, raw: true})
		if err != nil {
			return nil, err
		}
		return rowsAffected(n), nil
	}
	if err := tx.flushBegun(ctx); err != nil {
		return nil, err
	}
	return tx.q.ExecContext(ctx, tx.db.rebind(query), tx.db.bind(args)...)
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx.pipelined() {
		// A PostgreSQL transaction holds no database/sql connection.
		return nil, errors.New("store: a query of many rows in a PostgreSQL transaction goes through Tx.each")
	}
	if err := tx.flushBegun(ctx); err != nil {
		return nil, err
	}
	return tx.q.QueryContext(ctx, tx.db.rebind(query), tx.db.bind(args)...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) row {
	if tx.pipelined() {
		return row{tx: tx, ctx: ctx, query: query, args: args}
	}
	if err := tx.flushBegun(ctx); err != nil {
		return row{err: err}
	}
	return row{Row: tx.q.QueryRowContext(ctx, tx.db.rebind(query), tx.db.bind(args)...)}
}

// flushBegun sends the queued writes, and the BEGIN if it has not gone
// with them, before a statement sent alone.
func (tx *Tx) flushBegun(ctx context.Context) error {
	if err := tx.flush(ctx); err != nil {
		return err
	}
	return tx.ensureBegun(ctx)
}

// execOne runs a statement that must touch exactly one row and returns
// notFound when it touched none.
func (tx *Tx) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// exists reports whether query returns a row.
func (tx *Tx) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := tx.queryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row of query with scan.
func collect[T any](ctx context.Context, tx *Tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := tx.each(ctx, func(s scanner) error {
		v, err := scan(s)
		if err == nil {
			out = append(out, v)
		}
		return err
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each calls row with every row of query, in order; its error, or the
// database's untranslated, is the error. In a PostgreSQL transaction the
// query goes through pgx, with the queued writes in one round trip: a
// transaction there holds a pgx connection and no database/sql one
// (transactWith). row must not run statements of its own.
func (tx *Tx) each(ctx context.Context, row func(scanner) error, query string, args ...any) error {
	if tx.pipelined() {
		return tx.batch(ctx, stmt{query: query, args: args, raw: true, row: row})
	}
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// newID returns a UUIDv7: ordered by creation time, so ids double as
// pagination cursors and as a stable tie-break.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("store: new id: %w", err)
	}
	return id.String(), nil
}

// notFound is the error for an unknown id, or another tenant's.
func notFound(what string) error {
	return engine.Errorf(engine.ENOTFOUND, "%s not found", what)
}

// preconditionFailed is the error for an optimistic version mismatch.
func preconditionFailed(what string, want, have int64) error {
	return engine.Errorf(engine.EPRECONDITION, "%s is at version %d, not %d", what, have, want)
}

// forUpdate is the locking clause of a SELECT whose row the transaction is
// about to change: FOR UPDATE on PostgreSQL; nothing on SQLite, whose single
// writer (BEGIN IMMEDIATE) already serialises write transactions.
func (tx *Tx) forUpdate() string {
	if tx.db.dialect == DialectPostgres {
		return ` FOR UPDATE`
	}
	return ``
}
