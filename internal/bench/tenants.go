package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// ScenarioTenants gives each of --tenants tenants one quote action that
// sends one message, through the real stack, and reports the process's
// memory per active tenant; it is never part of "all" (setting up 20,000
// tenants takes a while).
const ScenarioTenants = "tenants"

// DefaultTenants is --tenants' default: issue 14's target is set at 20,000
// active tenants.
const DefaultTenants = 20_000

// alertJobTimeout is the longest the alert job may run: jobs.New gives
// River a JobTimeout of min(2 minutes, RescueAfter/2), and serve's rescue
// is well over 4 minutes.
const alertJobTimeout = 2 * time.Minute

// Tenants is the tenants scenario's memory figures. RSS is the whole
// process (quoteflow, the bench's HTTP clients, and the scenario's list of
// keys and quote ids, about 100 bytes a tenant).
type Tenants struct {
	Tenants int `json:"tenants"`
	// SetupS is how long writing the tenants took (not measured further).
	SetupS float64 `json:"setup_s"`
	// BaselineRSSMB and BaselineHeapMB are read after the stack started and
	// before the first action, after a collection that returned freed
	// memory to the OS.
	BaselineRSSMB  float64 `json:"baseline_rss_mb"`
	BaselineHeapMB float64 `json:"baseline_heap_mb"`
	// PeakRSSMB is VmHWM from the baseline to the last message sent.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// IdleRSSMB and IdleHeapMB are read once every message was sent, the
	// stack still running with its caches, after the same collection.
	IdleRSSMB  float64 `json:"idle_rss_mb"`
	IdleHeapMB float64 `json:"idle_heap_mb"`
	// Bytes per tenant above the baseline: at the peak, idle, and of the
	// idle live heap.
	PeakBytesPerTenant     float64 `json:"peak_bytes_per_tenant"`
	IdleBytesPerTenant     float64 `json:"idle_bytes_per_tenant"`
	IdleHeapBytesPerTenant float64 `json:"idle_heap_bytes_per_tenant"`
	// Caches is what the app's caches held when idle.
	Caches app.CacheStats `json:"caches"`
	// Alerts is one alert evaluation over every tenant, run alone after the
	// scenario through a fresh app, as the periodic job runs it.
	Alerts *AlertsRun `json:"alerts,omitempty"`
}

// AlertsRun is one App.EvaluateAlerts over every tenant.
type AlertsRun struct {
	Tenants int     `json:"tenants"`
	Seconds float64 `json:"seconds"`
	// JobTimeoutS is the alert job's timeout; WithinJobTimeout is whether
	// the evaluation finished inside it.
	JobTimeoutS      float64 `json:"job_timeout_s"`
	WithinJobTimeout bool    `json:"within_job_timeout"`
	// Statements and RoundTrips are what it sent PostgreSQL (0 on SQLite).
	Statements int64  `json:"statements,omitempty"`
	RoundTrips int64  `json:"round_trips,omitempty"`
	Error      string `json:"error,omitempty"`
}

// tenantsFixture is every tenant's admin key and one draft quote.
type tenantsFixture struct {
	keys, quotes []string
}

// setupTenants writes n tenants straight through the store, in batches: each
// in engine mode with an email channel through the log provider, a workflow
// for quote.sent with one email step (its subject names the tenant, so that
// every tenant's template is its own), a catch-all rule, a lead and a draft
// quote. What an admin would do over HTTP, minus the HTTP: at 20,000
// tenants the API would take longer than the scenario.
func setupTenants(ctx context.Context, dsn string, n int) (*tenantsFixture, error) {
	st, err := startStack(ctx, dsn, stackOptions{Queue: queueNone})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	db := st.DB
	if _, err := db.SQL().ExecContext(ctx, `DELETE FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`); err != nil {
		return nil, fmt.Errorf("clear the job queue: %w", err)
	}
	f := &tenantsFixture{keys: make([]string, n), quotes: make([]string, n)}
	valid := time.Now().Add(30 * 24 * time.Hour)
	err = inBatches(ctx, db, n, 100, func(tx *store.Tx, from, to int) error {
		for i := from; i < to; i++ {
			key, secret, err := app.NewAPIKey("", engine.RoleAdmin)
			if err != nil {
				return err
			}
			t := &engine.Tenant{Name: fmt.Sprintf("Roofer %05d", i), Timezone: "UTC", Mode: engine.ModeEngine,
				Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: fmt.Sprintf("Roofer %05d <quotes@roofer%05d.example>", i, i)}}}
			if err := tx.CreateTenant(ctx, t, key); err != nil {
				return fmt.Errorf("create tenant: %w", err)
			}
			wf := &engine.Workflow{TenantID: t.ID, Name: "Quote sent", Trigger: engine.TriggerSent, Enabled: true,
				ExitOn: []engine.QuoteStatus{engine.QuoteAccepted, engine.QuoteRejected},
				Steps: []engine.Step{{Type: engine.StepSendEmail, Email: &engine.EmailContent{
					Subject: fmt.Sprintf("Your quote {{ quote.number }} from Roofer %05d", i),
					Text:    "Hello {{ lead.first_name }},\n\nyour quote for {{ quote.amount | money }} is ready: {{ quote.url }}\n\n{{ tenant.name }}"}}}}
			if err := tx.CreateWorkflow(ctx, wf); err != nil {
				return fmt.Errorf("create workflow: %w", err)
			}
			rule := &engine.Rule{TenantID: t.ID, Name: "Every sent quote", Trigger: string(engine.TriggerSent), Enabled: true,
				WorkflowID: wf.ID, Condition: json.RawMessage(`{"all":[]}`), Priority: 10}
			if err := tx.CreateRule(ctx, rule); err != nil {
				return fmt.Errorf("create rule: %w", err)
			}
			lead := benchLead(t.ID, i)
			if err := tx.CreateLead(ctx, lead); err != nil {
				return fmt.Errorf("create lead: %w", err)
			}
			token, err := app.NewPublicToken()
			if err != nil {
				return err
			}
			q := &engine.Quote{TenantID: t.ID, LeadID: lead.ID, Number: fmt.Sprintf("Q-%06d", i+1), AmountMinor: 125000,
				Currency: "EUR", Status: engine.QuoteDraft, ValidUntil: &valid, Revision: 1, PublicToken: token}
			if err := tx.CreateQuote(ctx, q); err != nil {
				return fmt.Errorf("create quote: %w", err)
			}
			f.keys[i], f.quotes[i] = secret, q.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if db.Dialect() == store.DialectPostgres {
		if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
	}
	return f, nil
}

// memNow collects garbage, returns what it freed to the OS, and reads the
// resident set (MB) and the live heap (MB).
func memNow() (rssMB, heapMB float64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return round3(currentRSS()), round3(float64(ms.HeapAlloc) / (1 << 20))
}

func (r *runner) tenants(ctx context.Context) (Scenario, error) {
	n := r.cfg.Tenants
	s := Scenario{Name: ScenarioTenants, Unit: "actions/s"}
	res := &Tenants{Tenants: n}
	r.progress.note("  writing %d tenants", n)
	t0 := time.Now()
	f, err := setupTenants(ctx, r.db.URL, n)
	if err != nil {
		return s, fmt.Errorf("set up tenants: %w", err)
	}
	res.SetupS = round3(time.Since(t0).Seconds())
	r.progress.note("  %d tenants written in %.1fs", n, res.SetupS)

	startedAt := time.Now()
	var (
		sent atomic.Int64
		w    window
		rec  *recorder
	)
	var stmts *store.StatementCounter
	if r.db.Dialect == store.DialectPostgres {
		stmts = &store.StatementCounter{}
	}
	err = scenarioRSS(&s, func() error {
		opts := r.stackOptions(queueRunning)
		opts.Statements = stmts
		st, err := startStack(ctx, r.db.URL, opts)
		if err != nil {
			return err
		}
		defer st.Close()
		res.BaselineRSSMB, res.BaselineHeapMB = memNow()
		if !resetPeakRSS() {
			s.RSSScope = "process"
		}
		client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 2 * r.cfg.Concurrency,
			MaxIdleConnsPerHost: 2 * r.cfg.Concurrency, IdleConnTimeout: time.Minute, DisableCompression: true}}
		defer client.CloseIdleConnections()
		var next, failed atomic.Int64
		var firstErr error
		var errMu sync.Mutex
		status := func() string {
			return fmt.Sprintf("%d of %d tenants acted, %d sent", next.Load(), n, st.Sends.ok.Load())
		}
		w = window{From: time.Now(), To: time.Now().Add(24 * time.Hour)}
		rec = newRecorder(w)
		r.progress.begin(ScenarioTenants, status)
		cpuStart := sampleCPUOf(r.db.Dialect == store.DialectPostgres, r.datname())
		var wg sync.WaitGroup
		for range r.cfg.Concurrency {
			sh := rec.shard()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					start := time.Now()
					if err := sendQuote(ctx, client, st.URL, f.keys[i], f.quotes[i]); err != nil {
						sh.errs++
						failed.Add(1)
						errMu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						errMu.Unlock()
						continue
					}
					end := time.Now()
					sh.add(end, end.Sub(start))
					sent.Add(1)
				}
			}()
		}
		wg.Wait()
		w.To = time.Now()
		// Every action's message answered by the provider: the tenants are
		// all active at once only then.
		deadline := time.Now().Add(10 * time.Minute)
		for st.Sends.answered() < sent.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		s.CPU = cpuSince(cpuStart)
		r.progress.end()
		if left := sent.Load() - st.Sends.answered(); left > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("%d messages were still unanswered 10 minutes after the last action", left))
		}
		if firstErr != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("%d actions failed; the first: %v", failed.Load(), firstErr))
		}
		res.PeakRSSMB = peakRSS()
		res.IdleRSSMB, res.IdleHeapMB = memNow()
		res.Caches = st.App.CacheStats()
		return st.Close()
	})
	if err != nil {
		return s, err
	}
	s.PeakRSSMB = res.PeakRSSMB
	per := func(mb, base float64) float64 { return round3((mb - base) * (1 << 20) / float64(n)) }
	res.PeakBytesPerTenant = per(res.PeakRSSMB, res.BaselineRSSMB)
	res.IdleBytesPerTenant = per(res.IdleRSSMB, res.BaselineRSSMB)
	res.IdleHeapBytesPerTenant = per(res.IdleHeapMB, res.BaselineHeapMB)

	ops, errs, lat := rec.result()
	s.Seconds = round3(w.seconds())
	s.Actions = &Flow{Count: ops, PerSec: rate(ops, w), Total: rec.total(), Errors: errs, Latency: lat,
		LatencyOf: "POST /v1/quotes/{id}/send, request to response, each tenant's own key and quote"}
	s.Throughput = s.Actions.PerSec
	if s.Messages, err = tenantMessages(ctx, r.db.URL, startedAt, w); err != nil {
		return s, err
	}
	if stmts != nil {
		s.Statements = &Statements{Total: stmts.Statements(), RoundTrips: stmts.RoundTrips()}
		if ops > 0 {
			s.Statements.PerAction = round3(float64(stmts.Statements()) / float64(ops))
			s.Statements.RoundTripsPerAction = round3(float64(stmts.RoundTrips()) / float64(ops))
		}
	}
	if res.Alerts, err = r.evaluateAlerts(ctx); err != nil {
		return s, err
	}
	s.Tenants = res
	return s, nil
}

func sendQuote(ctx context.Context, client *http.Client, base, key, quoteID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/quotes/"+quoteID+"/send", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("POST /v1/quotes/%s/send: %d %s", quoteID, res.StatusCode, body)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// tenantMessages counts the messages written since from, by status, and
// rates those sent inside w.
func tenantMessages(ctx context.Context, dsn string, from time.Time, w window) (*Flow, error) {
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	q := `SELECT status, sent_at FROM messages WHERE created_at >= ?`
	if db.Dialect() == store.DialectPostgres {
		q = `SELECT status, sent_at FROM messages WHERE created_at >= $1`
	}
	rows, err := db.SQL().QueryContext(ctx, q, from.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	f := &Flow{Statuses: map[string]int64{}, LatencyOf: "-"}
	var last time.Time
	for rows.Next() {
		var status string
		var sentAt *int64
		if err := rows.Scan(&status, &sentAt); err != nil {
			return nil, err
		}
		f.Statuses[status]++
		if sentAt == nil {
			continue
		}
		f.Total++
		if at := time.UnixMicro(*sentAt); at.After(last) {
			last = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Rated from the first action to the last message sent: the tenants
	// scenario has no warm-up, every message counts.
	f.Count = f.Total
	if last.After(w.From) {
		f.PerSec = rate(f.Count, window{From: w.From, To: last})
	}
	f.Errors = f.Statuses["failed"] + f.Statuses["unknown"]
	return f, nil
}

// evaluateAlerts runs one alert evaluation over every tenant through an
// app of its own, with no queue, HTTP or traffic beside it, and times it.
func (r *runner) evaluateAlerts(ctx context.Context) (*AlertsRun, error) {
	var stmts *store.StatementCounter
	if r.db.Dialect == store.DialectPostgres {
		stmts = &store.StatementCounter{}
	}
	st, err := startStack(ctx, r.db.URL, stackOptions{Queue: queueNone, Statements: stmts, Log: newLogger(r.sink, r.cfg.LogLevel)})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ids, err := st.DB.TenantIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := &AlertsRun{Tenants: len(ids), JobTimeoutS: alertJobTimeout.Seconds()}
	r.progress.begin("tenants-alerts", func() string { return fmt.Sprintf("evaluating alerts of %d tenants", len(ids)) })
	// Five job timeouts at most: long enough to measure an evaluation that
	// overruns, short enough that the bench ends.
	actx, cancel := context.WithTimeout(ctx, 5*alertJobTimeout)
	t0 := time.Now()
	err = st.App.EvaluateAlerts(actx)
	took := time.Since(t0)
	cancel()
	r.progress.end()
	out.Seconds = round3(took.Seconds())
	out.WithinJobTimeout = err == nil && took <= alertJobTimeout
	if err != nil {
		out.Error = err.Error()
	}
	if stmts != nil {
		out.Statements, out.RoundTrips = stmts.Statements(), stmts.RoundTrips()
	}
	return out, st.Close()
}

// writeTable writes the tenants scenario's memory figures.
func (t *Tenants) writeTable(b *strings.Builder) {
	fmt.Fprintf(b, "\ntenants: %d tenants, one quote action and one message each (setup %.1fs)\n", t.Tenants, t.SetupS)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tRSS MB\theap MB\tbytes per tenant (RSS)\tbytes per tenant (heap)\t")
	fmt.Fprintf(tw, "baseline (stack started)\t%.1f\t%.1f\t\t\t\n", t.BaselineRSSMB, t.BaselineHeapMB)
	fmt.Fprintf(tw, "peak (VmHWM)\t%.1f\t\t%.0f\t\t\n", t.PeakRSSMB, t.PeakBytesPerTenant)
	fmt.Fprintf(tw, "idle after GC\t%.1f\t%.1f\t%.0f\t%.0f\t\n", t.IdleRSSMB, t.IdleHeapMB, t.IdleBytesPerTenant, t.IdleHeapBytesPerTenant)
	tw.Flush()
	c := t.Caches
	fmt.Fprintf(b, "  caches held (of their bound): keys %d/%d, rule sets %d/%d, workflow versions %d/%d, WhatsApp template lists %d/%d, tenant rows %d/%d\n",
		c.Keys.Len, c.Keys.Max, c.RuleSets.Len, c.RuleSets.Max, c.Versions.Len, c.Versions.Max, c.Templates.Len, c.Templates.Max,
		c.Tenants.Len, c.Tenants.Max)
	if a := t.Alerts; a != nil {
		within := "within"
		if !a.WithinJobTimeout {
			within = "NOT within"
		}
		fmt.Fprintf(b, "  alert evaluation over %d tenants: %.1fs, %s the job's %.0fs timeout", a.Tenants, a.Seconds, within, a.JobTimeoutS)
		if a.Statements > 0 {
			fmt.Fprintf(b, "; %d statements (%d round trips)", a.Statements, a.RoundTrips)
		}
		if a.Error != "" {
			fmt.Fprintf(b, "; error: %s", a.Error)
		}
		b.WriteString("\n")
	}
}
