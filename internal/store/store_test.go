package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// bundle is what every test gets: its own database with two tenants, A (the
// caller) and B (the other tenant whose ids must stay invisible to A), and
// a clock it controls.
type bundle struct {
	ctx   context.Context
	db    *store.DB
	clock *clock
	a, b  *engine.Tenant
}

// clock is a settable time source: the store reads it once per
// transaction.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// each runs fn, in parallel, once per dialect.
func each(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	eachDialect(t, func(t *testing.T, d string) { fn(t, setup(t, d)) })
}

// eachDialect runs fn once per dialect, in parallel, for tests that open
// their databases themselves.
func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	db := storetest.Open(t, dialect)
	// Nanoseconds on purpose: the store must truncate to microseconds.
	c := &clock{now: time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)}
	db.Now = c.Now
	b := &bundle{ctx: context.Background(), db: db, clock: c}
	b.a = b.tenant(t, "Acme Roofing")
	b.b = b.tenant(t, "Other Co")
	return b
}

func (b *bundle) tenant(t *testing.T, name string) *engine.Tenant {
	t.Helper()
	tn := &engine.Tenant{Name: name, Timezone: "Europe/Lisbon", Mode: engine.ModeEngine}
	if err := b.db.CreateTenant(b.ctx, tn, nil); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	return tn
}

func (b *bundle) lead(t testing.TB, tenantID string) *engine.Lead {
	t.Helper()
	l := &engine.Lead{TenantID: tenantID, FirstName: "Ana", LastName: "Silva", Email: "ana@example.com",
		Source: "web", Tags: []string{"roofing"}, Custom: map[string]any{"roof_type": "tile"}}
	if err := b.db.CreateLead(b.ctx, l); err != nil {
		t.Fatalf("create lead: %v", err)
	}
	return l
}

// quoteSeq numbers the fixtures' quotes: a number is unique in a tenant.
var quoteSeq atomic.Int64

// quoteNumber returns a quote number no other fixture has, and none of the
// numbers tests write out (those are Q-…), which a fixture could otherwise
// take first in the same tenant.
func quoteNumber() string { return fmt.Sprintf("F-%d", quoteSeq.Add(1)) }

func (b *bundle) quote(t testing.TB, l *engine.Lead) *engine.Quote {
	t.Helper()
	q := &engine.Quote{TenantID: l.TenantID, LeadID: l.ID, Number: quoteNumber(), AmountMinor: 125000, Currency: "EUR",
		Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}
	if err := b.db.CreateQuote(b.ctx, q); err != nil {
		t.Fatalf("create quote: %v", err)
	}
	return q
}

func (b *bundle) workflow(t testing.TB, tenantID string, trigger engine.Trigger) *engine.Workflow {
	t.Helper()
	w := &engine.Workflow{TenantID: tenantID, Name: "Follow-up", Trigger: trigger, Enabled: true,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted},
		Steps: []engine.Step{
			{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Quote {{ quote.number }}", Text: "Hi"}},
			{Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P2D"}},
		}}
	if err := b.db.CreateWorkflow(b.ctx, w); err != nil {
		t.Fatalf("create workflow: %v", err)
	}
	return w
}

func (b *bundle) rule(t *testing.T, tenantID, workflowID string, priority int) *engine.Rule {
	t.Helper()
	r := &engine.Rule{TenantID: tenantID, Name: fmt.Sprintf("rule %d", priority), Trigger: engine.AnyTrigger,
		Priority: priority, Enabled: true, Condition: json.RawMessage(`{"all":[]}`), WorkflowID: workflowID}
	if err := b.db.CreateRule(b.ctx, r); err != nil {
		t.Fatalf("create rule: %v", err)
	}
	return r
}

// configVersion reads the tenant's config_version.
func (b *bundle) configVersion(t *testing.T, tenantID string) int64 {
	t.Helper()
	tn, err := b.db.GetTenant(b.ctx, tenantID)
	if err != nil {
		t.Fatalf("get tenant: %v", err)
	}
	return tn.ConfigVersion
}

// count counts rows of table that belong to tenantID.
func (b *bundle) count(t *testing.T, table, tenantID string) int64 {
	t.Helper()
	n, err := b.db.RawInt(b.ctx, `SELECT count(*) FROM `+table+` WHERE tenant_id = ?`, tenantID)
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func randomToken(t testing.TB) string {
	t.Helper()
	return "tok_" + uuid.NewString()
}

// wantCode fails unless err is an *engine.Error with code and, when field
// is not "", a FieldError on field.
func wantCode(t *testing.T, err error, code engine.Code, field string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	if field != "" {
		for _, f := range e.Fields {
			if f.Field == field {
				return e
			}
		}
		t.Fatalf("error %v names no field %q", err, field)
	}
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// equal fails when got and want differ, showing both.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// canon rewrites raw JSON canonically (keys sorted, no spaces), because
// PostgreSQL's JSONB does not keep the key order it was given.
func canon(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	if raw == nil {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("canon %s: %v", raw, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTxRollsBackOnError(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		boom := errors.New("boom")
		var l *engine.Lead
		err := b.db.Tx(b.ctx, func(tx *store.Tx) error {
			l = &engine.Lead{TenantID: b.a.ID, FirstName: "Rolled"}
			if err := tx.CreateLead(b.ctx, l); err != nil {
				return err
			}
			if _, err := tx.GetLead(b.ctx, b.a.ID, l.ID); err != nil {
				t.Errorf("a transaction must read its own writes: %v", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the function's error", err)
		}
		_, err = b.db.GetLead(b.ctx, b.a.ID, l.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		if n := b.count(t, "leads", b.a.ID); n != 0 {
			t.Fatalf("%d leads left behind", n)
		}
	})
}

func TestTxRollsBackOnPanic(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic did not propagate")
				}
			}()
			_ = b.db.Tx(b.ctx, func(tx *store.Tx) error {
				if err := tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if n := b.count(t, "leads", b.a.ID); n != 0 {
			t.Fatalf("%d leads left behind", n)
		}
		// The connection went back clean: the database still works.
		b.lead(t, b.a.ID)
	})
}

func TestTxExposesRiverHandle(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		rollback := errors.New("roll back")
		err := b.db.Tx(b.ctx, func(tx *store.Tx) error {
			if !tx.Now().Equal(b.clock.Now().Truncate(time.Microsecond)) {
				t.Errorf("tx.Now() = %v, want the clock truncated to µs", tx.Now())
			}
			if tx.Dialect() == store.DialectSQLite {
				if _, err := tx.BegunPgxTx(b.ctx); tx.SQLTx() == nil || err == nil {
					t.Error("SQLite transaction must expose its *sql.Tx only")
				}
				_, err := tx.SQLTx().ExecContext(b.ctx, `UPDATE tenants SET name = 'raw' WHERE id = ?`, b.a.ID)
				must(t, err)
			} else {
				ptx, err := tx.BegunPgxTx(b.ctx)
				if err != nil || tx.SQLTx() != nil {
					t.Fatalf("PostgreSQL transaction must expose its pgx.Tx only: %v", err)
				}
				_, err = ptx.Exec(b.ctx, `UPDATE tenants SET name = 'raw' WHERE id = $1`, b.a.ID)
				must(t, err)
			}
			// What River writes through the raw handle is part of our
			// transaction: visible here, rolled back with it.
			got, err := tx.GetTenant(b.ctx, b.a.ID)
			must(t, err)
			if got.Name != "raw" {
				t.Errorf("the raw handle is not our transaction: name %q", got.Name)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("got %v", err)
		}
		got, err := b.db.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "name after rollback", got.Name, b.a.Name)
	})
}

// TestConcurrentUpdatesOneWins races writers that all hold version 1: on
// both databases exactly one wins and the others are told they are stale.
func TestConcurrentUpdatesOneWins(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		const writers = 6
		errs := make(chan error, 2*writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(2)
			go func() {
				defer wg.Done()
				c := *l
				c.Stage = fmt.Sprintf("stage %d", i)
				errs <- b.db.UpdateLead(b.ctx, &c, 1)
			}()
			go func() {
				defer wg.Done()
				c := *w
				c.Name = fmt.Sprintf("name %d", i)
				errs <- b.db.UpdateWorkflow(b.ctx, &c, 1)
			}()
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			if err == nil {
				won++
				continue
			}
			wantCode(t, err, engine.EPRECONDITION, "")
		}
		if won != 2 {
			t.Fatalf("%d updates won, want one per row", won)
		}
		gotL, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		gotW, err := b.db.GetWorkflow(b.ctx, b.a.ID, w.ID)
		must(t, err)
		if gotL.Version != 2 || gotW.Version != 2 {
			t.Fatalf("versions %d and %d, want 2", gotL.Version, gotW.Version)
		}
		versions, err := b.db.ListWorkflowVersions(b.ctx, b.a.ID, w.ID)
		must(t, err)
		if len(versions) != 2 {
			t.Fatalf("%d workflow versions, want 2", len(versions))
		}
	})
}

// ReadParallel's jobs read one snapshot: on PostgreSQL, where the second
// job runs on a connection of its own, a lead committed after the first
// job has read and before the second reads is seen by neither. SQLite has
// one connection, so no write can land between its jobs; there they run
// one after the other and see the same leads.
func TestReadParallelSharesOneSnapshot(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		b.lead(t, b.a.ID)
		count := func(tx *store.Tx) int {
			leads, _, err := tx.ListLeads(b.ctx, b.a.ID, engine.Page{Limit: 200})
			must(t, err)
			return len(leads)
		}
		concurrent := b.db.Dialect() == store.DialectPostgres
		firstRead, written := make(chan struct{}), make(chan struct{})
		if concurrent {
			go func() {
				<-firstRead
				b.lead(t, b.a.ID)
				close(written)
			}()
		} else {
			close(written)
		}
		var first, second int
		must(t, b.db.ReadParallel(b.ctx,
			func(tx *store.Tx) error {
				first = count(tx)
				close(firstRead)
				<-written
				return nil
			},
			func(tx *store.Tx) error {
				<-written
				second = count(tx)
				return nil
			}))
		if first != 1 || second != 1 {
			t.Fatalf("the jobs saw %d and %d leads, want 1 and 1 (one snapshot, taken before the second lead)", first, second)
		}
		want := 1
		if concurrent {
			want = 2
		}
		leads, _, err := b.db.ListLeads(b.ctx, b.a.ID, engine.Page{})
		must(t, err)
		if len(leads) != want {
			t.Fatalf("after: %d leads, want %d", len(leads), want)
		}

		// A job's error is the answer, and the others are cancelled.
		boom := errors.New("boom")
		err = b.db.ReadParallel(b.ctx,
			func(tx *store.Tx) error { return boom },
			func(tx *store.Tx) error { count(tx); return nil })
		if !errors.Is(err, boom) {
			t.Fatalf("ReadParallel = %v, want the job's error", err)
		}
	})
}
