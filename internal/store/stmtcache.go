package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the SQLite statement cache. Query texts are
// constants or built from fixed filter columns (ListMessages' optional
// filters make the most combinations), never from values, so the working
// set is a few hundred texts; the bound only guards against a future query
// that builds its text from input. Texts past it are sent unprepared.
const maxCachedStmts = 512

// stmtCache keeps one prepared statement per query text for SQLite.
// modernc's driver has no statement cache of its own and database/sql
// prepares every Exec and Query anew, so without it SQLite parses and plans
// each statement every time it runs.
//
// A cached statement is prepared on the DB, not on a transaction, so that
// it outlives the transaction: a transaction uses it through
// Tx.StmtContext, whose copy is closed with the transaction and leaves the
// cached one open.
//
// SQLite runs a prepared statement one execution at a time: running a query
// again while rows of the same query are still open in the transaction
// fails with SQLITE_MISUSE ("bad parameter or other API misuse"). collect
// and every other reader close their rows before returning; outside a
// transaction the open rows hold the one connection, so a second query
// waits for them, as before.
type stmtCache struct {
	stmts sync.Map // query text → *sql.Stmt; read without the lock

	mu     sync.Mutex // serialises additions and close
	n      int        // entries in stmts
	closed bool
}

// get returns the cached statement for query, or nil.
func (c *stmtCache) get(query string) *sql.Stmt {
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	return nil
}

// prepare prepares query on db and caches it, and returns the cached
// statement. It returns nil when the cache is full or closed, or when the
// query does not prepare: nothing is cached then, so a query that fails
// (a syntax error, a table not there yet) is tried afresh next time.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	if s := c.get(query); s != nil {
		return s
	}
	c.mu.Lock()
	full := c.closed || c.n >= maxCachedStmts
	c.mu.Unlock()
	if full {
		return nil
	}
	// Prepared without the lock: it waits for the connection, which a
	// transaction may hold for a while. Two callers may then prepare the
	// same text; the second keeps the first's statement.
	s, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	prev, dup := c.stmts.Load(query)
	keep := !dup && !c.closed && c.n < maxCachedStmts
	if keep {
		c.stmts.Store(query, s)
		c.n++
	}
	c.mu.Unlock()
	if keep {
		return s
	}
	s.Close()
	if dup {
		return prev.(*sql.Stmt)
	}
	return nil
}

// close closes every cached statement and refuses new ones, before the
// database itself is closed.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	var stmts []*sql.Stmt
	c.stmts.Range(func(k, v any) bool {
		stmts = append(stmts, v.(*sql.Stmt))
		c.stmts.Delete(k)
		return true
	})
	c.n = 0
	c.mu.Unlock()
	for _, s := range stmts {
		s.Close()
	}
}

// size returns how many statements the cache holds.
func (c *stmtCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
