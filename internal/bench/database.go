package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quoteflow/quoteflow/internal/store"
)

// database is the bench's own database, fresh and migrated.
type database struct {
	Dialect string
	// URL opens it with store.Open. On PostgreSQL it carries the bench's
	// application_name, by which the commit counter waits for its
	// connections to be gone.
	URL string
	// Display names it without credentials.
	Display string
	// Server is the database's version.
	Server  string
	Counter counter
	// PoolMaxConns is the PostgreSQL pool's size as store.Open sizes it
	// (pool_max_conns in the URL, else pgx's default); 1 on SQLite.
	PoolMaxConns int
	drop         func(context.Context) error
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// createDatabase makes a fresh database: a SQLite file in a new temporary
// directory when dbURL is empty, else a new database (CREATE DATABASE
// qf_bench_<random>) on the PostgreSQL server dbURL points at. It is
// migrated; Close drops it.
func createDatabase(ctx context.Context, dbURL string) (*database, error) {
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "quoteflow-bench-")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "bench.db")
		c, stop := countSQLite(path)
		d := &database{Dialect: store.DialectSQLite, URL: "sqlite:" + path, Display: path, Counter: c, PoolMaxConns: 1,
			drop: func(context.Context) error { stop(); return os.RemoveAll(dir) }}
		if err := d.migrate(ctx); err != nil {
			d.Close()
			return nil, err
		}
		return d, nil
	}
	if !isPostgres(dbURL) {
		return nil, fmt.Errorf("--db: want a postgres:// URL (the default is a SQLite file in a temporary directory)")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	adminURL := adminURL(u)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactURL(u), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	name := "qf_bench_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	bu := *u
	bu.Path = "/" + name
	appName := "qfbench_" + randomHex(6)
	q := bu.Query()
	q.Set("application_name", appName)
	bu.RawQuery = q.Encode()
	d := &database{Dialect: store.DialectPostgres, URL: bu.String(), Display: redactURL(&bu),
		Counter: &pgCounter{adminURL: adminURL, datname: name, appName: appName},
		drop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, adminURL)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			return err
		}}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// migrate applies the schema and reads what the report shows of the
// database.
func (d *database) migrate(ctx context.Context) error {
	db, err := store.Open(ctx, d.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate the bench database: %w", err)
	}
	if d.Dialect == store.DialectPostgres {
		var v string
		if err := db.SQL().QueryRowContext(ctx, "SHOW server_version").Scan(&v); err == nil {
			d.Server = "PostgreSQL " + v
		}
		d.PoolMaxConns = int(db.PgxPool().Config().MaxConns)
		return nil
	}
	var v string
	if err := db.SQL().QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err == nil {
		d.Server = "SQLite " + v + " (modernc.org/sqlite)"
	}
	return nil
}

// Close drops the database.
func (d *database) Close() error {
	if d.drop == nil {
		return nil
	}
	err := d.drop(context.Background())
	d.drop = nil
	return err
}

// adminURL is u without the pool_ parameters that pgxpool reads and a
// single connection rejects.
func adminURL(u *url.URL) string {
	c := *u
	q := c.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// redactURL hides a password.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	return c.String()
}
