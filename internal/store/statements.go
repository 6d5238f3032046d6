package store

import (
	"context"
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
}

// Statements and RoundTrips are the counts so far.
func (c *StatementCounter) Statements() int64 { return c.statements.Load() }

// RoundTrips is how many exchanges with the server the statements took.
func (c *StatementCounter) RoundTrips() int64 { return c.roundTrips.Load() }

// TraceQueryStart implements pgx.QueryTracer.
func (c *StatementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
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
func (c *StatementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.statements.Add(1)
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
}
