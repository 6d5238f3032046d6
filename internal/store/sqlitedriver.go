package store

import (
	"context"
	"database/sql/driver"
	"strings"

	"modernc.org/sqlite"
)

// maxConnStmts bounds a connection's cache; past it statements are parsed
// each time, as without the cache.
const maxConnStmts = 256

// sqliteConnector opens modernc's SQLite connections under a statement cache
// of their own, for every statement sent as text on a connection: River's as
// well as the store's. modernc's driver parses and plans each such
// statement anew; in the deliver benchmark River's job inserts and
// completions alone spent a quarter of the process's CPU in sqlite3Prepare.
//
// It wraps modernc's NewConnector rather than a driver registered under a
// name of our own, so nothing is registered process-wide, and the
// connections are still those of the driver modernc registers as "sqlite",
// the one its connection hooks (the bench's commit counter) are on.
type sqliteConnector struct{ base driver.Connector }

// newSQLiteConnector returns the connector for modernc's dsn, for sql.OpenDB.
func newSQLiteConnector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sqliteConnector{base: base}, nil
}

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{base: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c sqliteConnector) Driver() driver.Driver { return c.base.Driver() }

// cachingConn is a modernc connection whose ExecContext and QueryContext
// run cached prepared statements. database/sql never uses a driver
// connection from two goroutines at once, so it needs no lock.
type cachingConn struct {
	base  driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	driver.Stmt
	// busy is set while rows of the statement are open: SQLite runs a
	// statement one execution at a time, so a second use meanwhile (a
	// query run again while its rows are read) is sent as text.
	busy bool
}

// sqliteSpace is what SQLite's tokenizer skips as blank (sqlite3Isspace),
// form feed and vertical tab included.
const sqliteSpace = " \t\n\v\f\r"

// cacheable rejects scripts: a text with several statements runs as a
// script in modernc, which a migration wants once, not cached. A semicolon
// counts only outside quotes and comments (River's SQL has one in a
// comment), and only if a statement follows it.
func cacheable(query string) bool {
	seen := false // a statement has begun: a semicolon before one ends nothing
	for i := 0; i < len(query); i++ {
		switch c := query[i]; {
		case strings.IndexByte(sqliteSpace, c) >= 0:
		case c == '\'' || c == '"' || c == '`' || c == '[':
			seen = true
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(query[i+1:], end)
			if j < 0 {
				return false
			}
			i += j + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				return true
			}
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return false
			}
			i += j + 3
		case c == ';':
			if seen {
				return !hasStatement(query[i+1:])
			}
		default:
			seen = true
		}
	}
	return true
}

// hasStatement reports whether rest holds anything but blanks, semicolons
// and comments.
func hasStatement(rest string) bool {
	for {
		rest = strings.TrimLeft(rest, sqliteSpace+";")
		switch {
		case rest == "":
			return false
		case strings.HasPrefix(rest, "--"):
			j := strings.IndexByte(rest, '\n')
			if j < 0 {
				return false
			}
			rest = rest[j:]
		case strings.HasPrefix(rest, "/*"):
			j := strings.Index(rest, "*/")
			if j < 0 {
				return true
			}
			rest = rest[j+2:]
		default:
			return true
		}
	}
}

// stmt returns the cached statement for query, preparing it if needed, or
// nil when the text must be sent as it is.
func (c *cachingConn) stmt(ctx context.Context, query string) *cachedStmt {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil
		}
		return s
	}
	if len(c.stmts) >= maxConnStmts || !cacheable(query) {
		return nil
	}
	ds, err := c.base.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		// Sent as text, so that the error comes back the usual way.
		return nil
	}
	s := &cachedStmt{Stmt: ds}
	c.stmts[query] = s
	return s
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	}
	return c.base.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.stmt(ctx, query)
	if s == nil {
		return c.base.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	r.s.busy = false
	return r.Rows.Close()
}

func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		_ = s.Close()
	}
	c.stmts = nil
	return c.base.Close()
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.base.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

// Begin is required by driver.Conn; database/sql calls BeginTx.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.base.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.base.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.base.(driver.Validator).IsValid() }

// Unwrap lets modernc's functions that take a *sql.Conn (sqlite.Limit) reach
// the connection underneath.
func (c *cachingConn) Unwrap() driver.Conn { return c.base }

var (
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)
