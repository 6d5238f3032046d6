package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// cacheTenant is one tenant of the cache tests: its admin key, its
// workflow and a lead.
type cacheTenant struct {
	id, key, workflow, lead string
}

// cacheEnv is an App with small cache bounds over a fresh database, with
// tenants that each email once on quote.sent, a subject naming the tenant.
type cacheEnv struct {
	t        *testing.T
	ctx      context.Context
	a        *app.App
	db       *store.DB
	jobs     *jobRecorder
	provider *fakeProvider
	tenants  []cacheTenant
}

func newCacheEnv(t *testing.T, dialect string, sizes app.CacheSizes, tenants int) *cacheEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dialect)
	e := &cacheEnv{t: t, ctx: ctx, db: db, jobs: &jobRecorder{}, provider: &fakeProvider{}}
	e.a = app.New(db, e.jobs, app.Config{PublicBaseURL: "https://quotes.test", Caches: sizes}, nil)
	e.a.Senders = e.provider
	for i := range tenants {
		tn := &engine.Tenant{Name: fmt.Sprintf("Tenant %d", i), Timezone: "UTC", Mode: engine.ModeEngine,
			Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: "quotes@acme.test"}}}
		_, key, err := e.a.CreateTenant(ctx, tn)
		if err != nil {
			t.Fatal(err)
		}
		wf := &engine.Workflow{TenantID: tn.ID, Name: "Thanks", Trigger: engine.TriggerSent, Enabled: true,
			Steps: []engine.Step{{Type: engine.StepSendEmail, Email: &engine.EmailContent{
				Subject: fmt.Sprintf("Quote {{ quote.number }} from tenant %d", i), Text: "Hi {{ lead.first_name }}"}}}}
		if err := e.a.CreateWorkflow(ctx, wf); err != nil {
			t.Fatal(err)
		}
		if err := e.a.CreateRule(ctx, &engine.Rule{TenantID: tn.ID, Name: "all", Trigger: engine.AnyTrigger, Enabled: true,
			Condition: json.RawMessage(`{"all":[]}`), WorkflowID: wf.ID}, nil); err != nil {
			t.Fatal(err)
		}
		lead := &engine.Lead{TenantID: tn.ID, FirstName: "Ana", Email: "ana@example.com"}
		if err := e.a.CreateLead(ctx, lead); err != nil {
			t.Fatal(err)
		}
		e.tenants = append(e.tenants, cacheTenant{id: tn.ID, key: key, workflow: wf.ID, lead: lead.ID})
	}
	return e
}

// send authenticates as tenant i, sends a new quote of its lead and runs
// the step, checking that the decision is the tenant's own workflow and
// that the message is its own; it returns the message's subject.
func (e *cacheEnv) send(i int) string {
	e.t.Helper()
	tn := e.tenants[i]
	p, err := e.a.Authenticate(e.ctx, tn.key)
	if err != nil || p.TenantID != tn.id {
		e.t.Fatalf("tenant %d's key: %+v, %v", i, p, err)
	}
	q := &engine.Quote{TenantID: tn.id, LeadID: tn.lead, Number: fmt.Sprintf("Q-%d-%d", i, e.provider.calls()), Currency: "EUR"}
	if err := e.a.CreateQuote(e.ctx, q, 100); err != nil {
		e.t.Fatal(err)
	}
	res, err := e.a.QuoteAction(e.ctx, app.ActionRequest{TenantID: tn.id, QuoteID: q.ID, Action: engine.ActionSend})
	if err != nil {
		e.t.Fatal(err)
	}
	if d := res.Event.Decision; d.Outcome != engine.OutcomeWorkflow || d.WorkflowID != tn.workflow {
		e.t.Fatalf("tenant %d decided %s %s, want its workflow %s", i, d.Outcome, d.WorkflowID, tn.workflow)
	}
	for _, j := range e.jobs.take() {
		if err := e.a.RunStep(e.ctx, j.tenantID, j.id, j.position); err != nil {
			e.t.Fatal(err)
		}
	}
	e.provider.mu.Lock()
	defer e.provider.mu.Unlock()
	m := e.provider.sent[len(e.provider.sent)-1]
	if m.Email == nil {
		e.t.Fatalf("tenant %d's message has no email: %+v", i, m)
	}
	return m.Email.Subject
}

func TestCachesEvictAtTheirBoundAndReloadFromTheStore(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			e := newCacheEnv(t, d, app.CacheSizes{Keys: 2, RuleSets: 2, Versions: 2}, 3)
			for i := range e.tenants {
				e.send(i)
			}
			st := e.a.CacheStats()
			for name, u := range map[string]app.CacheUse{"keys": st.Keys, "rule sets": st.RuleSets, "versions": st.Versions} {
				if u.Len != 2 || u.Max != 2 {
					t.Errorf("%s: %d held of %d, want the bound 2 of 2", name, u.Len, u.Max)
				}
			}
			// Tenant 0 was the least recently used of every cache: its key,
			// rule set and workflow version are read from the store again,
			// and its message is still its own.
			if subj := e.send(0); !strings.HasSuffix(subj, "from tenant 0") {
				t.Fatalf("tenant 0's subject after eviction %q", subj)
			}
			// And then tenant 1 was the one pushed out.
			if subj := e.send(1); !strings.HasSuffix(subj, "from tenant 1") {
				t.Fatalf("tenant 1's subject after eviction %q", subj)
			}
			if st := e.a.CacheStats(); st.RuleSets.Len != 2 || st.Versions.Len != 2 || st.Keys.Len != 2 {
				t.Fatalf("after the reloads: %+v, want 2 entries each", st)
			}
		})
	}
}

func TestRuleSetCacheIsBoundedByWeight(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			// A first app weighs one tenant's rule set (the tenants are alike).
			e := newCacheEnv(t, d, app.CacheSizes{}, 3)
			e.send(0)
			one := e.a.CacheStats().RuleSets.Bytes
			if one <= 0 {
				t.Fatalf("a cached rule set weighs %d", one)
			}
			e.send(1)
			e.send(2)
			if st := e.a.CacheStats().RuleSets; st.Len != 3 || st.Bytes != 3*one {
				t.Fatalf("unbounded by weight: %+v, want 3 entries of %d bytes", st, one)
			}

			// Room for two and a half: the third in pushes the first out.
			e.a = app.New(e.db, e.jobs, app.Config{PublicBaseURL: "https://quotes.test",
				Caches: app.CacheSizes{RuleSetBytes: 2*one + one/2}}, nil)
			e.a.Senders = e.provider
			for i := range e.tenants {
				e.send(i)
			}
			if st := e.a.CacheStats().RuleSets; st.Len != 2 || st.Bytes != 2*one || st.MaxBytes != 2*one+one/2 {
				t.Fatalf("bounded by weight: %+v, want 2 entries of %d bytes", st, one)
			}
			if subj := e.send(0); !strings.HasSuffix(subj, "from tenant 0") {
				t.Fatalf("tenant 0's subject after eviction %q", subj)
			}

			// A rule set heavier than the whole bound is never cached, and
			// still decides.
			e.a = app.New(e.db, e.jobs, app.Config{PublicBaseURL: "https://quotes.test",
				Caches: app.CacheSizes{RuleSetBytes: one / 2}}, nil)
			e.a.Senders = e.provider
			if subj := e.send(2); !strings.HasSuffix(subj, "from tenant 2") {
				t.Fatalf("tenant 2's subject, uncached %q", subj)
			}
			if st := e.a.CacheStats().RuleSets; st.Len != 0 || st.Bytes != 0 {
				t.Fatalf("a rule set over the bound was cached: %+v", st)
			}
		})
	}
}

// listingSenders answers every tenant's WhatsApp template list with one
// template named after the tenant's business account, counting the calls.
type listingSenders struct {
	mu    sync.Mutex
	calls int
}

func (s *listingSenders) For(t *engine.Tenant, _ string) (channel.Sender, string, error) {
	return listingSender{s: s, account: t.Channels.WhatsApp.BusinessAccountID}, "cloud_api", nil
}

type listingSender struct {
	s       *listingSenders
	account string
}

func (listingSender) Send(context.Context, *channel.Message) (channel.Result, error) {
	return channel.Result{}, fmt.Errorf("not in this test")
}

func (l listingSender) ListTemplates(context.Context) ([]whatsapp.Template, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.calls++
	return []whatsapp.Template{{Name: "quote_" + l.account, Language: "en_US", Status: "APPROVED"}}, nil
}

func (s *listingSenders) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestWhatsAppTemplateListsEvictAtTheirBound(t *testing.T) {
	a := app.New(nil, nil, app.Config{Caches: app.CacheSizes{Templates: 2}}, nil)
	senders := &listingSenders{}
	a.Senders = senders
	tenant := func(i int) *engine.Tenant {
		return &engine.Tenant{ID: fmt.Sprint("t", i), Channels: engine.Channels{WhatsApp: &engine.WhatsAppChannel{
			Provider: "cloud_api", BusinessAccountID: fmt.Sprint("waba", i), PhoneNumberID: fmt.Sprint("phone", i)}}}
	}
	list := func(i int) string {
		t.Helper()
		ts, ok, err := a.WhatsAppTemplates(context.Background(), tenant(i), false)
		if err != nil || !ok || len(ts) != 1 {
			t.Fatalf("tenant %d: %+v, %v, %v", i, ts, ok, err)
		}
		return ts[0].Name
	}
	for i := range 3 {
		list(i)
	}
	if st := a.CacheStats().Templates; st.Len != 2 || st.Max != 2 {
		t.Fatalf("template lists %+v, want 2 of 2", st)
	}
	if n := senders.count(); n != 3 {
		t.Fatalf("%d listings, want 3", n)
	}
	// Tenant 2 is cached; tenant 0 was evicted and is listed again, its
	// own list.
	list(2)
	if name := list(0); name != "quote_waba0" {
		t.Fatalf("tenant 0's list after eviction names %q", name)
	}
	if n := senders.count(); n != 4 {
		t.Fatalf("%d listings, want 4: one more for the evicted tenant only", n)
	}
}

// openKinds evaluates every tenant's alerts and returns each tenant's open
// alert kinds.
func (e *cacheEnv) openKinds() []string {
	e.t.Helper()
	if err := e.a.EvaluateAlerts(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(e.tenants))
	for i, tn := range e.tenants {
		as, _, err := e.a.ListAlerts(e.ctx, tn.id, engine.AlertFilter{State: engine.AlertOpen}, engine.Page{})
		if err != nil {
			e.t.Fatal(err)
		}
		var ks []string
		for _, al := range as {
			ks = append(ks, string(al.Kind))
		}
		out[i] = strings.Join(ks, ",")
	}
	return out
}

// The evaluation over many tenants at once, skipping those with nothing
// open and nothing found, opens and resolves each tenant's own alerts only.
func TestAlertEvaluationOverManyTenants(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			const n = 12
			e := newCacheEnv(t, d, app.CacheSizes{}, n)
			var failed []string
			for i := range n {
				if i%5 == 2 { // tenants 2 and 7: a permanent failure
					e.provider.mu.Lock()
					e.provider.script = []error{&channel.Error{Class: channel.Request, Code: "132001", Message: "template does not exist"}}
					e.provider.mu.Unlock()
				}
				e.send(i)
				if i%5 == 2 {
					ms, _, err := e.a.ListMessages(e.ctx, e.tenants[i].id, engine.MessageFilter{Status: engine.MsgFailed}, engine.Page{})
					if err != nil || len(ms) != 1 {
						t.Fatalf("tenant %d's failed messages: %+v, %v", i, ms, err)
					}
					failed = append(failed, ms[0].ID)
				}
			}
			want := func(at map[int]string) []string {
				out := make([]string, n)
				for i, k := range at {
					out[i] = k
				}
				return out
			}
			got := e.openKinds()
			if w := want(map[int]string{2: "message_failed", 7: "message_failed"}); !slices.Equal(got, w) {
				t.Fatalf("open alerts by tenant %q, want %q", got, w)
			}
			// Still failed: the same alerts stay open.
			if got := e.openKinds(); !slices.Equal(got, want(map[int]string{2: "message_failed", 7: "message_failed"})) {
				t.Fatalf("second evaluation %q", got)
			}
			// Tenant 7's message is retried: only its alert resolves.
			if _, err := e.a.RetryMessage(e.ctx, e.tenants[7].id, failed[1]); err != nil {
				t.Fatal(err)
			}
			if got := e.openKinds(); !slices.Equal(got, want(map[int]string{2: "message_failed"})) {
				t.Fatalf("after tenant 7's retry %q", got)
			}
		})
	}
}
