// Package store keeps quoteflow's state in SQLite or PostgreSQL, with one
// implementation over database/sql for both.
//
// # One implementation, two databases
//
// SQL is written once with ? placeholders; on PostgreSQL they are rebound to
// $1..$n (and cached). Only the DDL differs, in one numbered file per
// dialect under migrations/. To keep the Go side identical:
//
//   - times are BIGINT Unix microseconds in UTC, never driver time types:
//     scanning is the same code everywhere, and time buckets (outbox
//     statistics) are integer arithmetic. Go values are truncated to
//     microseconds, and the Create and Update methods store the normalised
//     value back on the struct, so a struct equals what a later Get returns;
//   - JSON is TEXT on SQLite and JSONB on PostgreSQL, written as a string and
//     scanned as bytes. A nil Go slice, map or pointer is SQL NULL, so nil
//     and empty survive a round trip (Lead.Tags nil vs []). Raw JSON
//     (conditions) is returned compacted; JSONB also reorders object keys,
//     so raw JSON is equal in meaning across databases, not byte for byte;
//   - booleans are INTEGER 0/1 on SQLite (tables are STRICT) and BOOLEAN on
//     PostgreSQL; database/sql converts both to bool;
//   - ids are TEXT UUIDv7 strings, so text order is creation order: lists
//     are ordered by id and engine.Page.After is simply the last id seen.
//
// # Tenancy and integrity
//
// Every row carries tenant_id, every query is scoped by it, and foreign keys
// are composite (tenant_id, id), so no row can point at another tenant's.
// Another tenant's id is ENOTFOUND, exactly like an unknown one. The store
// enforces tenant scoping, optimistic versions and referential integrity;
// business rules (what a valid workflow is, which status may follow which)
// live in Go above it, never in SQL: no triggers, no procedures.
//
// Driver errors are translated in one place (errors.go): unique violations
// become ECONFLICT and foreign key violations EINVALID, each naming the
// request field the call site says the column came from, because SQLite
// does not say which foreign key failed. References that a foreign key
// cannot judge (a soft-deleted workflow, a lead named in the URL) are
// checked explicitly in the same transaction first.
//
// # Transactions
//
// Every exported method that writes runs in one transaction. The methods
// of DB are thin wrappers that open it with DB.Tx and call the method of the
// same name on *Tx, so that a use case that must commit several writes
// together opens the transaction itself and calls the *Tx methods inside
// it. It has two ways to: DB.Tx, one transaction for one caller (admin
// retries, receipts); and DB.GroupTx, for the hot paths (a quote action:
// status, trigger event, decision, run, first job; a queue's step, claim and
// outcome), which may run the functions of several concurrent callers back
// to back in one transaction and commit them together (Batcher, a group
// commit). A function given to GroupTx may run twice, the first time rolled
// back, when another in its batch fails, so it must be safe to run again.
// Either way the caller returns only after its writes committed. A *Tx
// carries the time, read once from DB.Now, that all its writes use (in a
// group, every function's). After a *Tx method returns an error the
// transaction must be abandoned (return the error): on PostgreSQL a failed
// statement aborts the transaction.
//
// Transactions that must not race take a row lock before they read: every
// configuration write (workflows, rules, overrides, legacy settings, the
// tenant) first increments tenants.config_version, which serialises them
// per tenant on PostgreSQL (READ COMMITTED) and moves the key under which
// the resolver caches its compiled inputs. Updates compare versions in
// their WHERE clause. ReadTx gives a consistent snapshot (REPEATABLE READ,
// read only) for reads of several tables, such as ResolverInputs.
//
// River inserts jobs only through its own driver's transaction type: on
// SQLite Tx.SQLTx returns the *sql.Tx (riversqlite), on PostgreSQL Tx.BegunPgxTx
// returns a pgx.Tx (riverpgxv5). So on PostgreSQL a transaction holds a
// connection of the pgx pool and every statement of it goes through pgx:
// single rows and writes batched (pipeline.go), lists through Tx.each; no
// database/sql connection is involved. Statements outside a transaction
// (DB's reads of one statement) go through database/sql over the same pool.
//
// On PostgreSQL the hot transactions (a quote action, a step job, a
// delivery's outcome) send their statements in batches: reads known up
// front together (LoadQuoteAction, LoadRun), writes nothing reads before
// the commit queued (the Queue* methods) and sent with the next batch or
// with the COMMIT, the BEGIN with the first batch (pipeline.go,
// lazybegin.go). Any other read, list or write inside such a transaction
// goes through pgx in one batch after the queued writes, so a transaction
// always reads its own writes at the cost of one round trip; on SQLite the
// same statements run one by one, in the same order.
//
// # SQLite
//
// The file is opened with WAL, synchronous FULL (a committed quote action
// must survive a power loss), foreign keys on, a 5 s busy timeout and BEGIN
// IMMEDIATE (a writer takes the lock when it starts, instead of failing
// with SQLITE_BUSY when it first writes). The pool has one connection,
// which River's SQLite driver needs; readers therefore wait for writers, and
// code inside DB.Tx or DB.GroupTx must use the *Tx, never the *DB, or it
// waits for itself. A separate read-only pool is the obvious later
// optimisation.
//
// modernc's driver has no statement cache, so the store opens the database
// with sql.OpenDB through a connector (sqlitedriver.go) that wraps
// modernc's NewConnector, registering nothing process-wide, and keeps a
// prepared statement per query text on each connection, for every statement
// sent as text: the store's and River's alike. It holds at most 256 texts per
// connection; query texts are built from constants and filter column names,
// never from values. Scripts (several statements) and a query run again
// while its own rows are still open are sent as text.
//
// # PostgreSQL
//
// pgx caches prepared statements per connection, so the store sends query
// text. The pool has 16 connections unless the URL sets pool_max_conns:
// pgxpool's default, max(4, NumCPU), is too few for HTTP handlers and 50
// queue workers that each hold one for a whole transaction.
//
// # Schema
//
// Configuration: tenants (channel secrets included: the API hides them),
// api_keys (SHA-256 of the secret; revoked keys keep their row so ids are
// never reused), leads, quotes (public_token unique across tenants),
// workflows (an identity, current_version and deleted_at),
// workflow_versions and workflow_steps (immutable, one set of rows per
// version, so a run executes the version it started with even after the
// workflow is edited or deleted), assignment_rules, lead_overrides (one per
// lead and trigger), legacy_settings.
//
// Execution: trigger_events (idempotency key unique per tenant; dedupe_key
// = quote, action and revision; duplicate_of points at the first event of
// the business event; response is replayed for a repeated key; context
// and decision in a compact JSON form, eventjson.go), runs
// (trigger, shadow), run_steps (unique per run and step), messages (unique
// per run step and channel, so a retried step writes its message once; run
// columns are NULL for legacy sends; fallback_of points at the message a
// fallback replaces), message_attempts, receipts (message_id NULL when the
// provider's id is unknown), circuits (one row per tenant and provider
// that ever opened: open or half-open while closed_at is NULL, see
// circuits.go) and idempotency_keys for the HTTP layer. Everything
// a lead caused is deleted with the lead, by cascade. On PostgreSQL
// trigger_events, runs, run_steps and messages have no primary key on id
// alone (migration 13): every statement names the tenant, and UNIQUE
// (tenant_id, id) answers it (docs/ops/indexes.md lists each index with
// the query that needs it).
//
// # Execution
//
// A quote action locks its quote first (GetQuoteForUpdate,
// GetQuoteByTokenForUpdate: SELECT … FOR UPDATE on PostgreSQL; SQLite's
// single writer serialises anyway), and under that lock reads
// FindEventByDedupeKey and ListActiveRuns, so duplicates and supersession
// are judged one action at a time; the store does not enforce a unique
// dedupe key. GetMessageForUpdate does the same for a message that
// workers, webhooks and admins change. These locking reads belong in a
// transaction (DB.Tx or DB.GroupTx).
//
// InsertRunStep and InsertMessage are idempotent for retried jobs: on
// their unique key (run and step; run step and channel) they write nothing,
// load the row that exists into the caller's struct and report false.
// FinishRun only moves an active run, and reports whether it did;
// CancelRunSteps and CancelRunMessages touch only what has not started
// (scheduled steps; scheduled and queued messages). A repeated
// Idempotency-Key is ECONFLICT on header.Idempotency-Key; on PostgreSQL that
// aborts the transaction, so the caller reads the first event in a new one.
//
// Lists follow the package's convention: id order (oldest first), engine.Page.After
// the last id seen, filters on equality, and From/To on created_at as
// From <= created_at < To with zero bounds open. Lists of one parent's
// children are unpaginated: run steps by position, attempts by number,
// receipts by provider timestamp (or, without one, the time received), then
// received_at. ListQuotesToExpire is the one query across tenants.
//
// Optional references and strings (a message's run, HTML, provider message
// id; an event's keys) are NULL when empty, a 0 workflow version is NULL, a
// zero Receipt.ProviderTimestamp is NULL, and a nil Event.Context,
// Event.Response, Receipt.Payload or Message.Template is NULL, so nil and
// empty stay apart. Event.Decision is stored as its JSON (with outcome and
// reason copied to columns for filters and counts) and reads back as JSON
// decodes it: trace details rendered, any values as JSON types.
//
// Migrations are embedded, numbered files applied in order, each in its
// own transaction, recorded in schema_migrations; River's migrations
// follow. Concurrent Migrate calls are safe: on PostgreSQL an advisory lock
// keyed on the current schema serialises them.
package store
