package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered schema file.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order. Files are
// named NNNN_name.sql; a gap or a duplicate number is a build mistake and
// fails loudly.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must start with a positive number", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations of %s: expected version %d, found %s", dialect, i+1, m.name)
		}
	}
	return out, nil
}

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`

// Migrate applies the pending schema migrations, each in its own
// transaction, and then River's. Running it again is a no-op. Several
// processes may call it at once: on PostgreSQL an advisory lock (per
// schema) serialises them; on SQLite, BEGIN IMMEDIATE does.
func (db *DB) Migrate(ctx context.Context) error { return db.migrateUpTo(ctx, 0) }

// migrateUpTo is Migrate stopping after version last (0: none left out,
// and River's migrations run too, first), so that a test can write rows under an
// older schema and watch a migration convert them.
func (db *DB) migrateUpTo(ctx context.Context, last int) error {
	if db.dialect == DialectPostgres {
		unlock, err := db.lockMigrations(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	} else {
		// Another process migrating holds the write lock for as long as
		// its migrations take, which can exceed the usual 5 s busy
		// timeout; wait for it rather than fail. The pool's one connection
		// is the one this sets, and the deferred call restores it.
		if _, err := db.sql.ExecContext(ctx, "PRAGMA busy_timeout = 120000"); err != nil {
			return fmt.Errorf("store: set busy timeout: %w", err)
		}
		defer db.sql.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout = "+strconv.Itoa(sqliteBusyTimeoutMS))
	}
	all, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	if _, err := db.sql.ExecContext(ctx, createSchemaMigrations); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	// River's first: its tables are independent of ours, and a migration
	// of ours may change River's (0017 drops two of its indexes), which
	// on a new database must exist by then.
	if last == 0 {
		if err := db.migrateRiver(ctx); err != nil {
			return fmt.Errorf("store: river migrations: %w", err)
		}
	}
	for _, m := range all {
		if last > 0 && m.version > last {
			return nil
		}
		applied := false
		err := db.Tx(ctx, func(tx *Tx) error {
			// Checked inside the transaction: another process may have
			// applied it since we looked.
			done, err := tx.exists(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.version)
			if err != nil || done {
				return err
			}
			if err := tx.execScript(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, micros(tx.now)); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: apply migration %s: %w", m.name, err)
		}
		if applied {
			db.logger.InfoContext(ctx, "applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}

// lockMigrations takes a session advisory lock keyed on the current schema,
// so that processes migrating the same schema wait for each other while
// tests migrating their own schemas do not.
func (db *DB) lockMigrations(ctx context.Context) (unlock func(), err error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: acquire connection: %w", err)
	}
	const key = `hashtext('quoteflow.migrate.' || current_schema())`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: lock migrations: %w", err)
	}
	return func() {
		// Closing the session would release the lock too, but the
		// connection goes back to the pool, so unlock explicitly.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
		conn.Close()
	}, nil
}

func (db *DB) migrateRiver(ctx context.Context) error {
	cfg := &rivermigrate.Config{Logger: db.logger}
	if db.dialect == DialectPostgres {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), cfg)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(db.sql), cfg)
	if err != nil {
		return err
	}
	// River checks which versions exist and then applies the rest; two
	// processes could both see a version missing. Inside one BEGIN
	// IMMEDIATE transaction, the check and the changes hold the write lock
	// together. Migrate, which River recommends instead, makes the check
	// outside any transaction, and the second process then fails on a table
	// the first created (TestMigrateConcurrently). MigrateTx is deprecated
	// because some PostgreSQL migrations need a commit between them (an enum
	// value used in a function); River's SQLite migrations are plain DDL,
	// which SQLite runs in one transaction.
	return db.Tx(ctx, func(tx *Tx) error {
		//lint:ignore SA1019 only MigrateTx keeps River's check and apply atomic across processes on SQLite; see above.
		_, err := m.MigrateTx(ctx, tx.SQLTx(), rivermigrate.DirectionUp, nil)
		return err
	})
}

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Component string // "quoteflow" or "river"
	Version   int
	Name      string
	Applied   bool
	// AppliedAt is when it was applied; zero while pending, and for River's
	// migrations, whose times River does not report.
	AppliedAt time.Time
}

// MigrationStatus lists quoteflow's migrations and then River's, applied or
// pending, in version order, for `quoteflow migrate` to print.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	all, err := migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	applied := map[int]time.Time{}
	rows, err := db.sql.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
	switch {
	case err == nil:
		for rows.Next() {
			var v int
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read schema_migrations: %w", err)
			}
			applied[v] = fromMicros(at)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: read schema_migrations: %w", err)
		}
	case isMissingTable(err):
		// A database that was never migrated: everything is pending.
	default:
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	var out []MigrationState
	for _, m := range all {
		s := MigrationState{Component: "quoteflow", Version: m.version, Name: m.name}
		s.AppliedAt, s.Applied = applied[m.version]
		out = append(out, s)
	}

	river, err := db.riverStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: river migration status: %w", err)
	}
	return append(out, river...), nil
}

func (db *DB) riverStatus(ctx context.Context) ([]MigrationState, error) {
	var all, existing []rivermigrate.Migration
	if db.dialect == DialectPostgres {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Logger: db.logger})
		if err != nil {
			return nil, err
		}
		all = m.AllVersions()
		if existing, err = m.ExistingVersions(ctx); err != nil {
			return nil, err
		}
	} else {
		m, err := rivermigrate.New(riversqlite.New(db.sql), &rivermigrate.Config{Logger: db.logger})
		if err != nil {
			return nil, err
		}
		all = m.AllVersions()
		if existing, err = m.ExistingVersions(ctx); err != nil {
			return nil, err
		}
	}
	done := map[int]bool{}
	for _, m := range existing {
		done[m.Version] = true
	}
	out := make([]MigrationState, 0, len(all))
	for _, m := range all {
		out = append(out, MigrationState{Component: "river", Version: m.Version, Name: m.Name, Applied: done[m.Version]})
	}
	return out, nil
}

// isMissingTable reports whether err says a table does not exist.
func isMissingTable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "42P01" // undefined_table
	}
	return err != nil && strings.Contains(err.Error(), "no such table")
}
