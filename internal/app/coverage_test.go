package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
)

// leadWith creates a lead of the use case's tenant.
func (u *useCase) leadWith(l engine.Lead) *engine.Lead {
	u.t.Helper()
	l.TenantID = u.tenant
	if err := u.a.CreateLead(u.ctx, &l); err != nil {
		u.t.Fatal(err)
	}
	return &l
}

// quoteFor creates a draft quote of lead.
func (u *useCase) quoteFor(lead string, validUntil *time.Time) *engine.Quote {
	u.t.Helper()
	u.quotes++
	q := &engine.Quote{TenantID: u.tenant, LeadID: lead, Number: fmt.Sprint("Q-", u.quotes), Currency: "EUR", ValidUntil: validUntil}
	if err := u.a.CreateQuote(u.ctx, q, 1250); err != nil {
		u.t.Fatal(err)
	}
	return q
}

func (u *useCase) rule(name, trigger, cond string, priority int) *engine.Rule {
	u.t.Helper()
	wfs, _, err := u.a.ListWorkflows(u.ctx, u.tenant, engine.Page{})
	if err != nil {
		u.t.Fatal(err)
	}
	r := &engine.Rule{TenantID: u.tenant, Name: name, Trigger: trigger, Enabled: true, Condition: json.RawMessage(cond), WorkflowID: wfs[0].ID}
	if err := u.a.CreateRule(u.ctx, r, &priority); err != nil {
		u.t.Fatal(err)
	}
	return r
}

func ruleCoverage(t *testing.T, rep resolver.CoverageReport, id string) resolver.RuleCoverage {
	t.Helper()
	for _, r := range rep.Rules {
		if r.RuleID == id {
			return r
		}
	}
	t.Fatalf("coverage has no rule %s: %+v", id, rep.Rules)
	return resolver.RuleCoverage{}
}

// The coverage check's missing counts, taken in SQL from the events'
// stored contexts, are what the condition evaluator says of the same
// contexts, for every field of the catalogue and custom fields absent,
// null, empty and false; over the last 30 days, duplicates left out, per
// rule trigger.
func TestCoverageCountsTheFieldsEventsLacked(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		var all []string
		for _, f := range engine.Fields {
			all = append(all, f.Path)
		}
		all = append(all, "lead.custom.roof_type", "lead.custom.area", "lead.custom.note", "lead.custom.flag")
		var leaves []string
		for _, f := range all {
			leaves = append(leaves, fmt.Sprintf(`{"field":%q,"op":"exists"}`, f))
		}
		every := u.rule("every field", "*", `{"any":[`+strings.Join(leaves, ",")+`]}`, 1)
		sent := u.rule("portuguese", "quote.sent", `{"all":[{"field":"lead.country","op":"eq","value":"PT"},{"field":"lead.custom.roof_type","op":"eq","value":"tile"}]}`, 2)

		full := u.leadWith(engine.Lead{FirstName: "Ana", LastName: "Silva", Email: "ana@example.com", Phone: "+351912345678",
			Language: "pt", Country: "PT", Timezone: "Europe/Lisbon", Source: "web", Stage: "new", Tags: []string{"roof"},
			Owner: "joao", Custom: map[string]any{"roof_type": "tile", "area": 0, "note": "", "flag": false}})
		sparse := u.leadWith(engine.Lead{FirstName: "Bo"})
		odd := u.leadWith(engine.Lead{LastName: "Ng", Email: "ng@example.com", Custom: map[string]any{"roof_type": nil, "note": "x"}})
		valid := u.clock.Now().Add(90 * 24 * time.Hour)

		// Older than the window: not counted.
		old := u.quoteFor(full.ID, nil)
		u.action(old.ID, engine.ActionSend, "")
		u.clock.Add(31 * 24 * time.Hour)
		for _, c := range []struct {
			lead    string
			valid   *time.Time
			actions []engine.Action
		}{
			{full.ID, &valid, []engine.Action{engine.ActionSend, engine.ActionSend, engine.ActionView, engine.ActionAccept}},
			{sparse.ID, nil, []engine.Action{engine.ActionSend, engine.ActionReject}},
			{odd.ID, &valid, []engine.Action{engine.ActionSend, engine.ActionView}},
			{sparse.ID, &valid, []engine.Action{engine.ActionSend}},
		} {
			q := u.quoteFor(c.lead, c.valid)
			for _, a := range c.actions {
				if a == engine.ActionReject {
					if _, err := u.a.QuoteAction(u.ctx, app.ActionRequest{TenantID: u.tenant, QuoteID: q.ID, Action: a,
						RejectionReason: "too expensive"}); err != nil {
						t.Fatal(err)
					}
					continue
				}
				u.action(q.ID, a, "")
			}
			u.clock.Add(time.Hour)
		}
		u.jobs.take()

		// What the evaluator says of each counted event's stored context.
		evs, _, err := u.a.ListEvents(u.ctx, u.tenant, engine.EventFilter{}, engine.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		tenant, err := u.a.GetTenant(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		from := u.clock.Now().Add(-app.CoverageWindow)
		wantEvents := map[string]int64{}
		wantMissing := map[string]map[string]int64{} // trigger → field → events
		counted := 0
		for _, ev := range evs {
			if ev.Duplicate || ev.CreatedAt.Before(from) {
				continue
			}
			counted++
			var snap struct {
				Lead  *engine.Lead  `json:"lead"`
				Quote *engine.Quote `json:"quote"`
			}
			if err := json.Unmarshal(ev.Context, &snap); err != nil {
				t.Fatal(err)
			}
			rc := &engine.Context{Tenant: tenant, Lead: snap.Lead, Quote: snap.Quote, QuoteURL: u.a.QuoteURL(snap.Quote)}
			tr := string(ev.Trigger)
			wantEvents[tr]++
			if wantMissing[tr] == nil {
				wantMissing[tr] = map[string]int64{}
			}
			for _, f := range all {
				c, err := condition.Parse(json.RawMessage(fmt.Sprintf(`{"field":%q,"op":"exists"}`, f)))
				if err != nil {
					t.Fatal(err)
				}
				if !c.Eval(rc).Matched() {
					wantMissing[tr][f]++
				}
			}
		}
		if counted != 8 {
			t.Fatalf("%d events in the window, want 8 (nine actions, one a duplicate)", counted)
		}

		rep, err := u.a.Coverage(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if rep.FieldsTo == nil || !rep.FieldsTo.Equal(u.clock.Now()) || !rep.FieldsFrom.Equal(from) {
			t.Fatalf("coverage window %v to %v, want the 30 days before now", rep.FieldsFrom, rep.FieldsTo)
		}
		sum := func(tr string) (int64, map[string]int64) {
			n, m := int64(0), map[string]int64{}
			for t, c := range wantEvents {
				if tr == "*" || t == tr {
					n += c
					for f, k := range wantMissing[t] {
						m[f] += k
					}
				}
			}
			return n, m
		}
		someMissing := 0
		for _, r := range []*engine.Rule{every, sent} {
			got := ruleCoverage(t, rep, r.ID)
			n, m := sum(r.Trigger)
			if got.Events != n {
				t.Fatalf("rule %q: %d events, want %d", r.Name, got.Events, n)
			}
			for _, f := range got.Fields {
				want := m[f.Field]
				if f.Missing != want || f.MissingShare != float64(want)/float64(n) {
					t.Errorf("rule %q, %s: %d missing (share %v), the evaluator says %d of %d", r.Name, f.Field, f.Missing, f.MissingShare, want, n)
				}
				if want > 0 && want < n {
					someMissing++
				}
			}
		}
		if got := ruleCoverage(t, rep, every.ID); len(got.Fields) != len(all) {
			t.Fatalf("the every-field rule lists %d fields, want %d", len(got.Fields), len(all))
		}
		if got := ruleCoverage(t, rep, sent.ID); len(got.Fields) != 2 || got.Fields[0].Field != "lead.country" ||
			got.Fields[1].Field != "lead.custom.roof_type" || got.Trigger != "quote.sent" {
			t.Fatalf("the quote.sent rule's coverage %+v", got)
		}
		if someMissing < 10 {
			t.Fatalf("only %d fields were missing in some events and not others: the test does not exercise the probes", someMissing)
		}
	})
}

// A rule whose matches halve while the share of events lacking a field it
// reads rises opens rule_field_missing naming the field; the statistics
// count the missing field per trigger; the alert resolves once leads carry
// the field again.
func TestRuleFieldMissingAlert(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		roofers := u.rule("roofers", "quote.sent", `{"all":[{"field":"lead.custom.roof_type","op":"eq","value":"tile"}]}`, 1)
		send := func(n int, custom map[string]any, every time.Duration) {
			for range n {
				l := u.leadWith(engine.Lead{FirstName: "Ana", Email: "ana@example.com", Custom: custom})
				u.action(u.quoteFor(l.ID, nil).ID, engine.ActionSend, "")
				u.clock.Add(every)
			}
			u.jobs.take()
		}
		tile := map[string]any{"roof_type": "tile"}
		// A week of leads with the field: the rule matches all of them.
		send(20, tile, 6*time.Hour)
		u.clock.Add(3 * 24 * time.Hour)
		if _, ok := u.evaluate()["rule_field_missing "+roofers.ID+"/lead.custom.roof_type"]; ok {
			t.Fatal("rule_field_missing with the field present")
		}
		// The last day: 15 of 20 leads arrive without it.
		send(5, tile, time.Hour)
		send(15, nil, time.Hour)
		open := u.evaluate()
		a, ok := open["rule_field_missing "+roofers.ID+"/lead.custom.roof_type"]
		if !ok {
			t.Fatalf("open alerts %v, want rule_field_missing for the roofers rule", kinds(open))
		}
		if a.RuleID != roofers.ID || a.Figures["match_share"] != 0.25 || a.Figures["previous_match_share"] != 1 ||
			a.Figures["missing_share"] != 0.75 || a.Figures["previous_missing_share"] != 0 || a.Figures["events"] != 20 ||
			!strings.Contains(a.Summary, "lead.custom.roof_type") || !strings.Contains(a.Action, "/v1/coverage") {
			t.Fatalf("rule_field_missing alert %+v", a)
		}

		// The statistics count the missing field for the same events.
		st, err := u.a.OutboxStats(u.ctx, u.tenant, app.StatsParams{From: u.clock.Now().Add(-24 * time.Hour), To: u.clock.Now(), Bucket: "1d"})
		if err != nil {
			t.Fatal(err)
		}
		var missing int64
		for _, s := range st.MissingFields {
			if s.Keys[0] == "quote.sent" && s.Keys[1] == "lead.custom.roof_type" {
				missing = s.Total
			}
		}
		if missing != 15 {
			t.Fatalf("missing_fields for lead.custom.roof_type %d in the last day, want 15", missing)
		}

		// A day of complete leads: the share of matches is back.
		send(20, tile, time.Hour)
		if _, ok := u.evaluate()["rule_field_missing "+roofers.ID+"/lead.custom.roof_type"]; ok {
			t.Fatal("rule_field_missing still open once leads carry the field again")
		}
		resolved, _, err := u.a.ListAlerts(u.ctx, u.tenant, engine.AlertFilter{Kind: engine.AlertRuleFieldMissing}, engine.Page{})
		if err != nil || len(resolved) != 1 || resolved[0].State != engine.AlertResolved {
			t.Fatalf("rule_field_missing alerts %+v %v, want one resolved", resolved, err)
		}
	})
}

// Fewer events overall, with every lead complete, is not a missing field:
// the rule's share of its trigger's events holds.
func TestFewerEventsAreNotAMissingField(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		u.rule("roofers", "quote.sent", `{"all":[{"field":"lead.custom.roof_type","op":"eq","value":"tile"}]}`, 1)
		for i := range 60 {
			custom := map[string]any{"roof_type": "tile"}
			if i%3 == 0 {
				custom = nil // a third never had it: the share stays a third
			}
			l := u.leadWith(engine.Lead{FirstName: "Ana", Email: "ana@example.com", Custom: custom})
			u.action(u.quoteFor(l.ID, nil).ID, engine.ActionSend, "")
			if i < 39 {
				u.clock.Add(4 * time.Hour) // 39 events over 6.5 days
			} else {
				u.clock.Add(time.Hour) // then 21 in the last day
			}
		}
		u.jobs.take()
		if got := kinds(u.evaluate()); strings.Contains(strings.Join(got, ","), "rule_field_missing") {
			t.Fatalf("open alerts %v: a steady share opened rule_field_missing", got)
		}
	})
}
