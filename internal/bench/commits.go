package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"modernc.org/sqlite"
)

// Commits is what a scenario cost the database in transactions.
type Commits struct {
	// Source says what was counted: "pg_stat_database.xact_commit" or
	// "sqlite_commit_hook" (see docs/PERFORMANCE.md).
	Source string `json:"source"`
	// Total is the count over the scenario: from just before its server
	// and queue were started to just after they were stopped.
	Total int64 `json:"total"`
	// PerAction and PerMessage are Total divided by the quote actions
	// answered and by the messages that reached sent; 0 when there were
	// none. In mixed both divide the same total.
	PerAction  float64 `json:"per_action,omitempty"`
	PerMessage float64 `json:"per_message,omitempty"`
	// PerOp is Total divided by the operations of a ceiling.
	PerOp float64 `json:"per_op,omitempty"`
	// Rollbacks are xact_rollback on PostgreSQL and rolled back write
	// transactions on SQLite.
	Rollbacks int64 `json:"rollbacks"`
	// SQLite only: of Total, the commits that changed no row (a write
	// transaction that only read, a fetch that found no job), and the rows
	// inserted, updated or deleted.
	EmptyCommits *int64 `json:"empty_commits,omitempty"`
	RowsChanged  *int64 `json:"rows_changed,omitempty"`
}

// commitCount is a reading of a database's counters.
type commitCount struct {
	commits, rollbacks, empty, rows int64
}

func (c commitCount) sub(o commitCount) commitCount {
	return commitCount{c.commits - o.commits, c.rollbacks - o.rollbacks, c.empty - o.empty, c.rows - o.rows}
}

// counter reads the commits of the bench database.
type counter interface {
	// read returns the counters including everything committed by
	// connections that were closed before the call.
	read(ctx context.Context) (commitCount, error)
	source() string
}

func (c commitCount) report(src counter) *Commits {
	out := &Commits{Source: src.source(), Total: c.commits, Rollbacks: c.rollbacks}
	if _, ok := src.(*sqliteCounter); ok {
		empty, rows := c.empty, c.rows
		out.EmptyCommits, out.RowsChanged = &empty, &rows
	}
	return out
}

// SQLite: every connection the "sqlite" driver opens to a registered file
// gets a commit hook, a rollback hook and a pre-update hook. SQLite calls
// the commit hook for every transaction that commits holding the write lock:
// each BEGIN IMMEDIATE ... COMMIT (the store begins every read-write
// transaction that way), and each statement that writes outside a
// transaction. Read-only transactions and reads outside a transaction take
// no write lock and are not counted. The pre-update hook marks the
// connection's transaction as having changed a row, so that commits that
// changed nothing (and so wrote nothing to the WAL) are counted apart.

// sqliteCounter counts the commits of one database file.
type sqliteCounter struct {
	path                            string
	commits, empty, rollbacks, rows atomic.Int64
}

var sqliteHooks struct {
	once  sync.Once
	mu    sync.Mutex
	files map[string]*sqliteCounter
}

// countSQLite starts counting the commits of the database file at path on
// every connection opened from now on, until stop is called.
func countSQLite(path string) (c *sqliteCounter, stop func()) {
	sqliteHooks.once.Do(func() {
		sqliteHooks.files = map[string]*sqliteCounter{}
		sqlite.RegisterConnectionHook(hookConnection)
	})
	path = filepath.Clean(path)
	c = &sqliteCounter{path: path}
	sqliteHooks.mu.Lock()
	sqliteHooks.files[path] = c
	sqliteHooks.mu.Unlock()
	return c, func() {
		sqliteHooks.mu.Lock()
		if sqliteHooks.files[path] == c {
			delete(sqliteHooks.files, path)
		}
		sqliteHooks.mu.Unlock()
	}
}

// hookConnection is the driver's connection hook. dsn is what sql.Open was
// given: the file path, then the parameters after "?".
func hookConnection(conn sqlite.ExecQuerierContext, dsn string) error {
	path, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(dsn, "file:"), "sqlite:"), "?")
	sqliteHooks.mu.Lock()
	c := sqliteHooks.files[filepath.Clean(path)]
	sqliteHooks.mu.Unlock()
	if c == nil {
		return nil
	}
	h, ok := conn.(sqlite.HookRegisterer)
	if !ok {
		return fmt.Errorf("bench: the sqlite driver's connection %T cannot register hooks", conn)
	}
	// A connection runs one statement at a time, but the flag is read and
	// written from whichever goroutine uses the connection.
	var dirty atomic.Bool
	h.RegisterPreUpdateHook(func(sqlite.SQLitePreUpdateData) {
		dirty.Store(true)
		c.rows.Add(1)
	})
	h.RegisterCommitHook(func() int32 {
		c.commits.Add(1)
		if !dirty.Swap(false) {
			c.empty.Add(1)
		}
		return 0 // 0 lets the commit proceed
	})
	h.RegisterRollbackHook(func() {
		dirty.Store(false)
		c.rollbacks.Add(1)
	})
	return nil
}

func (c *sqliteCounter) read(context.Context) (commitCount, error) {
	return commitCount{c.commits.Load(), c.rollbacks.Load(), c.empty.Load(), c.rows.Load()}, nil
}

func (c *sqliteCounter) source() string { return "sqlite_commit_hook" }

// PostgreSQL: pg_stat_database.xact_commit of the bench database counts
// every transaction committed in it, read-only ones and single statements
// outside a transaction included. A backend reports its counts to the
// statistics system at most once a second while busy and up to ten seconds
// late while idle, but always when it exits. So a reading is taken when the
// connections of the process have been closed and their backends are gone,
// which read waits for: every connection the bench opens to its database
// carries an application_name of its own.

type pgCounter struct {
	adminURL string // a database other than the measured one, when possible
	datname  string
	appName  string
}

func (p *pgCounter) source() string { return "pg_stat_database.xact_commit" }

func (p *pgCounter) read(ctx context.Context) (commitCount, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.adminURL)
	if err != nil {
		return commitCount{}, fmt.Errorf("bench: connect to read pg_stat_database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, p.appName).Scan(&n); err != nil {
			return commitCount{}, fmt.Errorf("bench: pg_stat_activity: %w", err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return commitCount{}, fmt.Errorf("bench: %d connections of the bench still open: %w", n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	var c commitCount
	// Each statement outside a transaction sees fresh statistics.
	err = conn.QueryRow(ctx, `SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1`, p.datname).
		Scan(&c.commits, &c.rollbacks)
	if err != nil {
		return commitCount{}, fmt.Errorf("bench: pg_stat_database: %w", err)
	}
	return c, nil
}
