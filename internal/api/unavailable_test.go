package api_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestDatabaseOutageIs503 closes the database under a running server: the
// client is told to come back (503 with Retry-After), not that the server is
// broken (500), and the answer carries no database text.
func TestDatabaseOutageIs503(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			a := app.New(db, nil, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}, log)
			srv := httptest.NewServer(api.New(a, log, api.Options{}))
			t.Cleanup(srv.Close)
			e := &env{t: t, srv: srv, app: a}
			key := e.tenant("Outage", nil)
			e.must(200, "GET", "/v1/leads", key, nil)

			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ method, path, token string }{
				{"GET", "/v1/leads", key},
				{"POST", "/v1/tenants", operatorToken},
			} {
				var body any
				if c.method == "POST" {
					body = map[string]any{"name": "B", "timezone": "Europe/Lisbon"}
				}
				r := e.call(c.method, c.path, c.token, body)
				e.problem(r, 503, "unavailable")
				if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 {
					t.Fatalf("%s %s: Retry-After %q", c.method, c.path, r.Header.Get("Retry-After"))
				}
				low := strings.ToLower(string(r.Raw))
				for _, leak := range []string{"sql", "pool", "database", "closed", "pgx", "postgres"} {
					if strings.Contains(low, leak) {
						t.Fatalf("%s %s: body names %q: %s", c.method, c.path, leak, r.Raw)
					}
				}
			}
		})
	}
}
