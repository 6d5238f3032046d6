package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

func TestProcessesFlag(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil || c.Processes != 1 {
		t.Fatalf("default: %v %v, want one stack", c, err)
	}
	c, err = parse(t, nil, "--db", "postgres://u@h/db", "--processes", "3", "--scenario", "ingest,deliver")
	if err != nil || c.Processes != 3 {
		t.Fatalf("--processes 3 on PostgreSQL: %v %v", c, err)
	}
	if c, err := parse(t, nil, "--processes", "1"); err != nil || c.Processes != 1 {
		t.Fatalf("--processes 1 on SQLite is the ordinary run: %v %v", c, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--processes", "2"}, "needs PostgreSQL"},
		{[]string{"--processes", "2", "--scenario", "deliver"}, "needs PostgreSQL"},
		{[]string{"--processes", "0", "--db", "postgres://u@h/db"}, "at least 1"},
		{[]string{"--processes", "-1"}, "at least 1"},
		{[]string{"--processes", "2", "--db", "postgres://u@h/db", "--scenario", "soak"}, "soak"},
		{[]string{"--processes", "two"}, "invalid value"},
	} {
		_, err := parseFlags(tc.args, nil, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	// Through the command, as a user meets it.
	var out, stderr bytes.Buffer
	err = Run(context.Background(), []string{"--processes", "2", "--scenario", "ingest"}, nil, &out, &stderr)
	if err == nil || !strings.Contains(err.Error(), "SQLite") || out.Len() != 0 {
		t.Fatalf("quoteflow bench --processes 2 on SQLite: %v, output %q", err, out.String())
	}
	var help strings.Builder
	_, _ = parseFlags([]string{"-h"}, nil, &help)
	if !strings.Contains(help.String(), "-processes") {
		t.Fatalf("usage lacks -processes:\n%s", help.String())
	}
}

// TestActionsRoundRobin checks that the quotes are spread over the stacks'
// servers one by one, and that each server's answers are counted as its own.
func TestActionsRoundRobin(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{}
	servers := make([]string, 3)
	for i := range servers {
		name := fmt.Sprint("s", i)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[name] = append(got[name], strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/quotes/"), "/send"))
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(srv.Close)
		servers[i] = srv.URL
	}
	f := &fixture{Key: "k", index: map[string]int{}}
	for i := range 10 {
		f.Quotes = append(f.Quotes, fmt.Sprint("q", i))
	}
	a := newActionsOver(servers, f, 4)
	defer a.close()
	now := time.Now()
	// The pool of ten quotes runs out long before the window ends.
	a.run(context.Background(), 4, window{From: now, To: now.Add(time.Minute)}, nil)
	if a.answered() != 10 {
		t.Fatalf("%d answered, want every quote", a.answered())
	}
	for i, base := range servers {
		name := fmt.Sprint("s", i)
		var want []string
		for q := i; q < 10; q += len(servers) {
			want = append(want, fmt.Sprint("q", q))
		}
		slices.Sort(got[name])
		slices.Sort(want)
		if !slices.Equal(got[name], want) {
			t.Errorf("%s (%s) got %v, want %v", name, base, got[name], want)
		}
		if n := a.perBase[i].Load(); n != int64(len(want)) {
			t.Errorf("%s: counted %d answers, want %d", name, n, len(want))
		}
	}
}

func TestTableAndJSONShowTheStacks(t *testing.T) {
	r := sampleReport()
	r.Config.Processes = 2
	r.Database.MaxConnections = 100
	r.Scenarios[1].Stacks = []StackShare{{Actions: 3001}, {Actions: 2999}}
	r.Scenarios[2].Stacks = []StackShare{{Actions: 600, ProviderAnswers: 590}, {Actions: 600, ProviderAnswers: 610}}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2 quoteflow stacks on the one database", "ingest: per stack, actions answered 3001 / 2999\n",
		"deliver: per stack, actions answered 600 / 600; provider answers 590 / 610"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, buf.String())
		}
	}
	buf.Reset()
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config struct {
			Processes int `json:"processes"`
		} `json:"config"`
		Database struct {
			MaxConnections int `json:"max_connections"`
		} `json:"database"`
		Scenarios []struct {
			Stacks []struct {
				Actions         int64 `json:"actions"`
				ProviderAnswers int64 `json:"provider_answers"`
			} `json:"stacks"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Config.Processes != 2 || doc.Database.MaxConnections != 100 || len(doc.Scenarios[2].Stacks) != 2 ||
		doc.Scenarios[2].Stacks[1].ProviderAnswers != 610 || doc.Scenarios[0].Stacks != nil {
		t.Fatalf("--json: %s", buf.String())
	}
	// One stack: the table says nothing of stacks.
	buf.Reset()
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "stack") {
		t.Fatalf("a one-stack table mentions stacks:\n%s", buf.String())
	}
}

// TestSmokeTwoProcessesPostgres runs `quoteflow bench --processes 2` on the
// PostgreSQL server of TEST_DATABASE_URL (the bench creates and drops a
// database of its own there). It runs whenever the variable is set, and an
// unreachable server fails it.
func TestSmokeTwoProcessesPostgres(t *testing.T) {
	dbURL := os.Getenv(storetest.EnvURL)
	if dbURL == "" {
		t.Skipf("PostgreSQL only: %s is not set", storetest.EnvURL)
	}
	var out, progress bytes.Buffer
	err := Run(context.Background(), []string{"--db", dbURL, "--processes", "2", "--duration", "1s", "--scenario", "ingest,deliver",
		"--json", "--concurrency", "4", "--poll-interval", "100ms", "--backlog", "200", "--history", "300"}, nil, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if rep.Config.Processes != 2 || rep.Database == nil || rep.Database.Dialect != "postgres" || rep.Database.MaxConnections <= 0 {
		t.Fatalf("config %+v database %+v", rep.Config, rep.Database)
	}
	if len(rep.Scenarios) != 2 {
		t.Fatalf("scenarios %+v", rep.Scenarios)
	}
	for _, s := range rep.Scenarios {
		if s.Actions == nil || s.Actions.Errors != 0 || s.Actions.Total == 0 {
			t.Fatalf("%s: actions %+v", s.Name, s.Actions)
		}
		if len(s.Stacks) != 2 {
			t.Fatalf("%s: stacks %+v, want two", s.Name, s.Stacks)
		}
		// Round-robin: the stacks' answered actions differ by at most one.
		a, b := s.Stacks[0].Actions, s.Stacks[1].Actions
		if a == 0 || b == 0 || a-b > 1 || b-a > 1 {
			t.Errorf("%s: actions per stack %d and %d, want an even split", s.Name, a, b)
		}
	}
	d := rep.Scenarios[1]
	if d.Messages == nil || d.Messages.Statuses["sent"] == 0 {
		t.Fatalf("deliver: messages %+v", d.Messages)
	}
	if got := d.Stacks[0].ProviderAnswers + d.Stacks[1].ProviderAnswers; got != d.Messages.Statuses["sent"] {
		t.Errorf("deliver: the stacks' provider answers add up to %d, the database has %d sent", got, d.Messages.Statuses["sent"])
	}
	for _, w := range rep.Warnings {
		t.Logf("warning: %s", w)
	}
}

// TestServingTellsProcessesByTheirTitle checks the reading that
// postgres_db_cores rests on: a process counts for a database when a word
// of its title is the database's name, not when it merely contains it.
func TestServingTellsProcessesByTheirTitle(t *testing.T) {
	me := map[int]uint64{os.Getpid(): 0}
	raw, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		t.Skipf("no /proc here: %v", err) // postgres_db_cores is Linux's only
	}
	word := strings.Split(string(raw), "\x00")[0]
	if got := serving(me, word); !got[os.Getpid()] {
		t.Fatalf("a process titled %q does not serve %q", raw, word)
	}
	if got := serving(me, word[:len(word)-1]); got[os.Getpid()] {
		t.Fatalf("%q counted for a prefix of its title's word", raw)
	}
	if got := serving(me, ""); got != nil {
		t.Fatal("no database, no processes")
	}
}
