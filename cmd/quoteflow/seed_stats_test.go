package main

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestSeedStatsCommand: the seed writes the history it is asked for, and
// the statistics over its days count every row of it.
func TestSeedStatsCommand(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.URL(t, d)
			var out strings.Builder
			err := run(ctx, []string{"seed-stats", "--db", url, "--messages", "3000", "--events", "700", "--days", "5", "--measure", "1"},
				func(string) string { return "" }, &out, io.Discard)
			if err != nil {
				t.Fatalf("seed-stats: %v\n%s", err, out.String())
			}
			m := regexp.MustCompile(`tenant (\S+)`).FindStringSubmatch(out.String())
			if m == nil || !strings.Contains(out.String(), "messages: 3000") || !strings.Contains(out.String(), "stats 7 d hourly") {
				t.Fatalf("output:\n%s", out.String())
			}
			db, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			a := app.New(db, nil, app.Config{}, nil)
			st, err := a.OutboxStats(ctx, m[1], app.StatsParams{From: time.Now().AddDate(0, 0, -6), Bucket: app.Bucket1d})
			if err != nil {
				t.Fatal(err)
			}
			if st.TotalMessages != 3000 || st.TotalDecisions != 700 || st.TotalAttempts < 2000 || st.TotalRetries == 0 ||
				len(st.MissingFields) == 0 || st.EventToSent.Count == 0 {
				t.Errorf("stats of the seed: %d messages, %d decisions, %d attempts, %d retries, %d missing-field series, %d sent",
					st.TotalMessages, st.TotalDecisions, st.TotalAttempts, st.TotalRetries, len(st.MissingFields), st.EventToSent.Count)
			}
		})
	}
}
