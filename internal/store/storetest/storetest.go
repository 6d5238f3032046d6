// Package storetest gives tests their own migrated database, on SQLite
// always and on PostgreSQL when TEST_DATABASE_URL is set. A test asks for
// every dialect with Dialects and runs its body once per dialect, so one
// suite checks both databases.
//
// When TEST_DATABASE_URL is set the PostgreSQL runs are mandatory: an
// unreachable database fails the test, it never skips, so a green run with
// the variable set means PostgreSQL was exercised.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quoteflow/quoteflow/internal/secrets"
	"github.com/quoteflow/quoteflow/internal/store"
)

// EnvURL is the environment variable holding a PostgreSQL URL
// (postgres://...) that tests may create schemas in.
const EnvURL = "TEST_DATABASE_URL"

// Dialects returns the dialects to test: store.DialectSQLite, and
// store.DialectPostgres when TEST_DATABASE_URL is set.
func Dialects(t testing.TB) []string {
	t.Helper()
	ds := []string{store.DialectSQLite}
	if os.Getenv(EnvURL) != "" {
		ds = append(ds, store.DialectPostgres)
	}
	return ds
}

// Open returns a migrated database of dialect that belongs to t alone and
// is closed (and on PostgreSQL dropped) when t ends.
func Open(t testing.TB, dialect string) *store.DB {
	t.Helper()
	return openAt(t, dialect, fresh(t, dialect), store.OpenOptions{})
}

// OpenWith is Open with the store's options o, for tests and benchmarks
// that compare a store setting's two sides.
func OpenWith(t testing.TB, dialect string, o store.OpenOptions) *store.DB {
	t.Helper()
	return openAt(t, dialect, fresh(t, dialect), o)
}

// OpenPair returns two handles on one migrated database of dialect that
// belongs to t alone, as two processes sharing a database hold them: what
// one caches, the other's writes must not make wrong.
func OpenPair(t testing.TB, dialect string) (*store.DB, *store.DB) {
	t.Helper()
	dsn := fresh(t, dialect)
	return openAt(t, dialect, dsn, store.OpenOptions{}), openAt(t, dialect, dsn, store.OpenOptions{})
}

// fresh returns the URL of a database of dialect for t alone, on SQLite
// already holding the migrated image.
func fresh(t testing.TB, dialect string) string {
	t.Helper()
	dsn := URL(t, dialect)
	if dialect == store.DialectSQLite {
		// Migrating costs most of a small test's time (under -race, most of
		// a second), so SQLite tests start from a copy of one database
		// migrated once per process. Migrate below then finds nothing to
		// do; the migrations themselves are tested on fresh databases.
		image, err := sqliteImage()
		if err != nil {
			t.Fatalf("storetest: migrated sqlite image: %v", err)
		}
		if err := os.WriteFile(strings.TrimPrefix(dsn, "sqlite:"), image, 0o600); err != nil {
			t.Fatalf("storetest: %v", err)
		}
	}
	return dsn
}

func openAt(t testing.TB, dialect, dsn string, o store.OpenOptions) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenWith(ctx, dsn, slog.New(slog.DiscardHandler), o)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", dialect, err)
	}
	// Registered after URL's cleanup, so it runs first: the pool is closed
	// before its schema is dropped.
	t.Cleanup(func() { db.Close() })
	// Every test database seals channel secrets, as production does, so
	// that every suite that saves a tenant exercises the encryption.
	db.UseSecretKeys(Keyring(t))
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s: %v", dialect, err)
	}
	return db
}

// URL returns the URL of an empty, unmigrated database of dialect for t
// alone, for tests that start the whole program with a database URL. On
// SQLite it is a file in t.TempDir(); on PostgreSQL a new schema on
// TEST_DATABASE_URL, selected with search_path (River's tables land in it
// too), dropped when t ends.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case store.DialectSQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "quoteflow.db")
	case store.DialectPostgres:
		return postgresURL(t)
	}
	t.Fatalf("storetest: unknown dialect %q", dialect)
	return ""
}

// sqliteImage is the content of a freshly migrated SQLite database.
var sqliteImage = sync.OnceValues(func() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "quoteflow-storetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "image.db")
	db, err := store.Open(ctx, "sqlite:"+path, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Everything into the main file, so that copying it is enough.
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

func postgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Fatalf("storetest: %s is not set", EnvURL)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("storetest: %s must be a postgres:// URL", EnvURL)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("storetest: random schema name: %v", err)
	}
	schema := "qf_" + hex.EncodeToString(b[:])

	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+schema+" CASCADE") })

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// admin runs one statement on a connection of its own.
func admin(t testing.TB, base, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("storetest: connect to %s: %v", EnvURL, redact(err, base))
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("storetest: %s: %v", stmt, err)
	}
}

// redact keeps a password in the URL out of test output.
func redact(err error, base string) string {
	msg := err.Error()
	if u, perr := url.Parse(base); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// SecretKey is the base64 key every test database seals channel secrets
// with, for tests that start the program (QUOTEFLOW_SECRET_KEY). It is
// fixed so that a database a test reopens still opens.
const SecretKey = "c3RvcmV0ZXN0LW9ubHktc2VjcmV0LWtleS0zMmJ5dGU="

// Keyring returns a Keyring holding SecretKey.
func Keyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	raw, err := secrets.ParseKey(SecretKey)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	r, err := secrets.NewKeyring(raw)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return r
}
