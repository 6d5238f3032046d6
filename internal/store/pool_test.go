package store_test

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestPoolConfigMaxConns checks the pool size Open gives PostgreSQL: 16
// unless the URL's pool_max_conns says otherwise. It needs no server.
func TestPoolConfigMaxConns(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]int32{
		"postgres://u@db.example/app":                                 16,
		"postgresql://u@db.example/app?sslmode=disable":               16,
		"postgres://u@db.example/app?pool_max_conns=3":                3,
		"postgres://u@db.example/app?pool_max_conns=4":                4,
		"postgres://u@db.example/app?search_path=x&pool_max_conns=40": 40,
	} {
		cfg, err := store.PoolConfig(dsn)
		must(t, err)
		if cfg.MaxConns != want {
			t.Errorf("%s: MaxConns %d, want %d", dsn, cfg.MaxConns, want)
		}
	}
	if _, err := store.PoolConfig("postgres://u@db.example/app?pool_max_conns=0"); err == nil {
		t.Error("pool_max_conns=0 was accepted")
	}
}

// TestOpenPostgresPoolSize opens real pools. It runs whenever
// TEST_DATABASE_URL is set, and an unreachable server fails it.
func TestOpenPostgresPoolSize(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skipf("PostgreSQL only: %s is not set", storetest.EnvURL)
	}
	ctx := context.Background()
	base := storetest.URL(t, store.DialectPostgres)
	withParam, err := url.Parse(base)
	must(t, err)
	q := withParam.Query()
	q.Set("pool_max_conns", "5")
	withParam.RawQuery = q.Encode()
	for dsn, want := range map[string]int32{base: 16, withParam.String(): 5} {
		db, err := store.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatalf("open %s: %v", store.DialectPostgres, err)
		}
		got := db.PgxPool().Config().MaxConns
		must(t, db.Close())
		if got != want {
			t.Errorf("MaxConns %d, want %d (pool_max_conns given: %v)", got, want, dsn != base)
		}
	}
}
