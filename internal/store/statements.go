package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// StatementCounter counts what the PostgreSQL pool sends: every statement
// (the store's, River's, the migrator's) and the round trips they took. It
// is a pgx tracer, so it sees the statements of everything that shares the
// pool, which is what a figure per quote action must include. Each plain
// query is one round trip; a batch is one round trip for all its
// statements; preparing a statement (pgx does it on a statement's first
// use on a connection) is one more.
type StatementCounter struct {
	statements, roundTrips atomic.Int64

	// ByText, when set before use, also counts each statement by its text,
	// for Top. It takes a lock per statement, so it is for diagnosis only.
	ByText bool
	mu     sync.Mutex
	texts  map[string]int64
}

// StatementCount is one statement's text (whitespace collapsed) and how
// many times it was sent.
type StatementCount struct {
	SQL   string `json:"sql"`
	Count int64  `json:"count"`
}

// Top is the n statements sent most often, most first; empty unless ByText.
func (c *StatementCounter) Top(n int) []StatementCount {
	c.mu.Lock()
	out := make([]StatementCount, 0, len(c.texts))
	for t, k := range c.texts {
		out = append(out, StatementCount{SQL: t, Count: k})
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b StatementCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.SQL, b.SQL))
	})
	return out[:min(n, len(out))]
}

func (c *StatementCounter) record(sql string) {
	if !c.ByText {
		return
	}
	sql = strings.Join(strings.Fields(sql), " ")
	c.mu.Lock()
	if c.texts == nil {
		c.texts = map[string]int64{}
	}
	c.texts[sql]++
	c.mu.Unlock()
}

// Statements and RoundTrips are the counts so far.
func (c *StatementCounter) Statements() int64 { return c.statements.Load() }

// RoundTrips is how many exchanges with the server the statements took.
func (c *StatementCounter) RoundTrips() int64 { return c.roundTrips.Load() }

// TraceQueryStart implements pgx.QueryTracer.
func (c *StatementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	c.record(d.SQL)
	c.roundTrips.Add(1)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *StatementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer: the batch travels together.
func (c *StatementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.roundTrips.Add(1)
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (c *StatementCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.statements.Add(1)
	c.record(d.SQL)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (c *StatementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TracePrepareStart implements pgx.PrepareTracer.
func (c *StatementCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.roundTrips.Add(1)
	return ctx
}

// TracePrepareEnd implements pgx.PrepareTracer.
func (c *StatementCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// TraceCopyFromStart implements pgx.CopyFromTracer: one statement, whose
// rows stream in one exchange.
func (c *StatementCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.statements.Add(1)
	c.roundTrips.Add(1)
	return ctx
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (c *StatementCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// OpenOptions are what OpenWith takes beyond Open's arguments.
type OpenOptions struct {
	// Statements, on PostgreSQL, counts every statement the pool sends
	// (quoteflow bench reports them per operation). Ignored on SQLite,
	// which runs in the process and has no round trips.
	Statements *StatementCounter
	// TenantCache is how many tenant rows quote actions and steps keep
	// between reads (tenantCache); 0 means DefaultTenantCache, less than
	// 0 none.
	TenantCache int
}
