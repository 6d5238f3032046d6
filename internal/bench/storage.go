package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/quoteflow/quoteflow/internal/store"
)

// Storage is what a scenario added to the database, divided by the
// messages it sent (issue 14: storage per sent quote message).
type Storage struct {
	// Source says how sizes were read: "pg_total_relation_size" (each
	// table with its indexes, TOAST and free-space maps), "sqlite_dbstat"
	// (the pages of each table's and index's b-tree) or
	// "sqlite_page_count" (the whole file, where dbstat is missing).
	Source string `json:"source"`
	// Messages is the divisor: the scenario's messages that reached sent.
	Messages        int64   `json:"messages"`
	TotalBytes      int64   `json:"total_bytes"`
	BytesPerMessage float64 `json:"bytes_per_message"`
	// KeptBytesPerMessage leaves out River's tables (river_*): the
	// completed jobs are deleted by River's cleaner after
	// jobs.CompletedJobRetention, while the rest stays for the tenant's
	// retention.
	KeptBytesPerMessage float64 `json:"kept_bytes_per_message"`
	// Tables are the tables whose size changed, largest growth first;
	// a table's indexes count as the table's.
	Tables []TableStorage `json:"tables"`
}

// TableStorage is one table's growth over a scenario.
type TableStorage struct {
	Table           string  `json:"table"`
	Bytes           int64   `json:"bytes"`
	BytesPerMessage float64 `json:"bytes_per_message"`
}

// storageSnapshot is the size in bytes of each table of the database.
type storageSnapshot struct {
	source string
	tables map[string]int64
}

// storageDelta is what after adds to before, per message sent. Tables are
// compared by name; one that appeared counts from zero. Tables whose size
// did not change are left out, so the list is what the scenario wrote.
func storageDelta(before, after storageSnapshot, messages int64) *Storage {
	s := &Storage{Source: after.source, Messages: messages, Tables: []TableStorage{}}
	for name, size := range after.tables {
		d := size - before.tables[name]
		if d == 0 {
			continue
		}
		s.TotalBytes += d
		s.Tables = append(s.Tables, TableStorage{Table: name, Bytes: d})
	}
	// A table that vanished (none does in a scenario) is a shrink too.
	for name, size := range before.tables {
		if _, ok := after.tables[name]; !ok && size != 0 {
			s.TotalBytes -= size
			s.Tables = append(s.Tables, TableStorage{Table: name, Bytes: -size})
		}
	}
	slices.SortFunc(s.Tables, func(a, b TableStorage) int {
		if a.Bytes != b.Bytes {
			if a.Bytes > b.Bytes {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Table, b.Table)
	})
	if messages > 0 {
		kept := s.TotalBytes
		for _, t := range s.Tables {
			if strings.HasPrefix(t.Table, "river_") {
				kept -= t.Bytes
			}
		}
		s.KeptBytesPerMessage = round1(float64(kept) / float64(messages))
		s.BytesPerMessage = round1(float64(s.TotalBytes) / float64(messages))
		for i := range s.Tables {
			s.Tables[i].BytesPerMessage = round1(float64(s.Tables[i].Bytes) / float64(messages))
		}
	}
	return s
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// readStorage measures every table of the bench database. It opens its
// own connection and closes it before returning, so that the commit
// counter, which waits for the bench's connections to be gone, is not held
// up; callers read it before the counter's first reading and after its
// second, so that its statements are not counted.
func readStorage(ctx context.Context, dialect, dsn string) (storageSnapshot, error) {
	if dialect == store.DialectPostgres {
		return readPostgresStorage(ctx, dsn)
	}
	return readSQLiteStorage(ctx, dsn)
}

// readPostgresStorage reads pg_total_relation_size of each ordinary and
// partitioned table of the schema quoteflow uses: heap, indexes, TOAST and
// the free-space and visibility maps, which is what the table costs on disk.
func readPostgresStorage(ctx context.Context, dsn string) (storageSnapshot, error) {
	snap := storageSnapshot{source: "pg_total_relation_size", tables: map[string]int64{}}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return snap, fmt.Errorf("bench: connect to read table sizes: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()`)
	if err != nil {
		return snap, fmt.Errorf("bench: read table sizes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			return snap, err
		}
		snap.tables[name] = size
	}
	return snap, rows.Err()
}

// readSQLiteStorage sums dbstat's pages per b-tree and gives each index's
// pages to its table. Without dbstat (a build of SQLite without it), the
// file's used pages are one entry, "(database file)".
func readSQLiteStorage(ctx context.Context, dsn string) (storageSnapshot, error) {
	snap := storageSnapshot{source: "sqlite_dbstat", tables: map[string]int64{}}
	db, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		return snap, err
	}
	defer db.Close()
	rows, err := db.SQL().QueryContext(ctx, `SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize)
		FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY 1`)
	if err != nil {
		// No dbstat: the whole file, less its free pages.
		var pages, free, size int64
		q := db.SQL().QueryRowContext(ctx, `SELECT p.page_count, f.freelist_count, s.page_size
			FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`)
		if err2 := q.Scan(&pages, &free, &size); err2 != nil {
			return snap, fmt.Errorf("bench: read sqlite size: %w (dbstat: %v)", err2, err)
		}
		snap.source = "sqlite_page_count"
		snap.tables["(database file)"] = (pages - free) * size
		return snap, nil
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			return snap, err
		}
		snap.tables[name] += size
	}
	return snap, rows.Err()
}

// writeTable writes the figure and its largest tables.
func (s *Storage) writeTable(b *strings.Builder, scenario string) {
	fmt.Fprintf(b, "\nstorage in %s: %.0f bytes per sent message, %.0f without River's jobs (%d bytes for %d messages, %s)\n",
		scenario, s.BytesPerMessage, s.KeptBytesPerMessage, s.TotalBytes, s.Messages, s.Source)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tbytes/message\tbytes\t")
	for _, t := range s.Tables {
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t\n", t.Table, t.BytesPerMessage, t.Bytes)
	}
	tw.Flush()
}
