package app_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// openAlerts evaluates and returns the open alerts by kind and subject.
func (u *useCase) evaluate() map[string]engine.Alert {
	u.t.Helper()
	if err := u.a.EvaluateAlerts(u.ctx); err != nil {
		u.t.Fatal(err)
	}
	as, _, err := u.a.ListAlerts(u.ctx, u.tenant, engine.AlertFilter{State: engine.AlertOpen}, engine.Page{})
	if err != nil {
		u.t.Fatal(err)
	}
	out := map[string]engine.Alert{}
	for _, a := range as {
		out[string(a.Kind)+" "+a.Subject] = a
	}
	return out
}

func kinds(m map[string]engine.Alert) []string {
	var out []string
	for k := range m {
		out = append(out, strings.Fields(k)[0])
	}
	sort.Strings(out)
	return out
}

// Alerts open when their condition is found, stay one alert while it holds
// (last_seen moves), resolve when it stops, and come back as a new alert.
func TestAlertsFollowTheirConditions(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		t0 := u.clock.Now()
		// A permanent failure, a message waiting for a retry, an open
		// circuit, and a rule that the catch-all before it shadows.
		u.provider.script = []error{&channel.Error{Class: channel.Request, Code: "132001", Message: "template does not exist"}}
		failed := u.sendAndStep()
		if failed.Status != engine.MsgFailed {
			t.Fatalf("message %s, want failed", failed.Status)
		}
		second := u.newQuote(nil)
		u.provider.script = []error{&channel.Error{Class: channel.Transient, Message: "busy"}}
		u.action(second.ID, engine.ActionSend, "")
		for _, j := range u.jobs.take() {
			if err := u.a.RunStep(u.ctx, j.tenantID, j.id, j.position); err != nil {
				t.Fatal(err)
			}
		}
		if err := u.db.Tx(u.ctx, func(tx *store.Tx) error {
			return tx.OpenCircuit(u.ctx, &engine.Circuit{TenantID: u.tenant, Provider: "cloud_api", Reason: "token expired",
				ErrorCode: "190", Until: t0.Add(time.Hour)})
		}); err != nil {
			t.Fatal(err)
		}
		wfs, _, err := u.a.ListWorkflows(u.ctx, u.tenant, engine.Page{})
		if err != nil {
			t.Fatal(err)
		}
		shadowed := &engine.Rule{TenantID: u.tenant, Name: "never", Trigger: string(engine.TriggerSent), Enabled: true,
			Condition: json.RawMessage(`{"all":[{"field":"lead.source","op":"eq","value":"fax"}]}`), WorkflowID: wfs[0].ID}
		if err := u.a.CreateRule(u.ctx, shadowed, nil); err != nil {
			t.Fatal(err)
		}

		u.clock.Add(10 * time.Minute)
		open := u.evaluate()
		if got := kinds(open); strings.Join(got, ",") != "circuit_open,delivery_lag,message_failed" {
			t.Fatalf("open alerts %v, want circuit_open, delivery_lag, message_failed", got)
		}
		mf := open["message_failed "+failed.ID]
		if mf.LeadID != u.lead || mf.MessageID != failed.ID || !strings.Contains(mf.Summary, "template does not exist") ||
			!strings.Contains(mf.Action, "/v1/messages/"+failed.ID+"/retry") || !mf.FirstSeen.Equal(u.clock.Now()) {
			t.Fatalf("message_failed alert %+v", mf)
		}
		if lag := open["delivery_lag "].Figures["lag_seconds"]; lag < 300 || lag > 600 {
			t.Fatalf("delivery lag %v s, want between the 5 minute threshold and 10 minutes", lag)
		}

		// Still the same conditions a minute later: the same alerts, seen again.
		u.clock.Add(time.Minute)
		again := u.evaluate()
		for k, a := range open {
			b, ok := again[k]
			if !ok || b.ID != a.ID || !b.LastSeen.Equal(u.clock.Now()) || !b.FirstSeen.Equal(a.FirstSeen) {
				t.Fatalf("alert %s after a second evaluation: %+v, want the same alert seen again (%+v)", k, b, a)
			}
		}

		// The retry goes out and the circuit closes: those two resolve.
		msgs, _, err := u.a.ListMessages(u.ctx, u.tenant, engine.MessageFilter{QuoteID: second.ID}, engine.Page{})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("second quote's messages %v %v", msgs, err)
		}
		u.jobs.take()
		if err := u.a.Deliver(u.ctx, u.tenant, msgs[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := u.db.CloseCircuit(u.ctx, u.tenant, "cloud_api"); err != nil {
			t.Fatal(err)
		}
		open = u.evaluate()
		if got := kinds(open); strings.Join(got, ",") != "message_failed" {
			t.Fatalf("open alerts after the fixes %v, want message_failed only", got)
		}
		resolved, _, err := u.a.ListAlerts(u.ctx, u.tenant, engine.AlertFilter{State: engine.AlertResolved}, engine.Page{})
		if err != nil || len(resolved) != 2 || resolved[0].ResolvedAt == nil || !resolved[0].ResolvedAt.Equal(u.clock.Now()) {
			t.Fatalf("resolved alerts %+v %v, want two resolved now", resolved, err)
		}

		// A month on, the failure is still there (its alert stays open), and
		// the shadowed rule has matched nothing while quote.sent had events.
		u.clock.Add(31 * 24 * time.Hour)
		third := u.newQuote(nil)
		u.action(third.ID, engine.ActionSend, "")
		u.jobs.take()
		open = u.evaluate()
		if got := kinds(open); strings.Join(got, ",") != "dead_rule,message_failed" {
			t.Fatalf("open alerts a month on %v, want dead_rule, message_failed", got)
		}
		if dr := open["dead_rule "+shadowed.ID]; dr.RuleID != shadowed.ID || !strings.Contains(dr.Summary, `"never"`) ||
			dr.Figures["trigger_events"] != 1 {
			t.Fatalf("dead_rule alert %+v", dr)
		}
		if open["message_failed "+failed.ID].ID != mf.ID {
			t.Fatal("the still-failed message's alert was replaced")
		}

		// The admin retries the failed message: its alert resolves; the
		// lead's timeline keeps it.
		if _, err := u.a.RetryMessage(u.ctx, u.tenant, failed.ID); err != nil {
			t.Fatal(err)
		}
		open = u.evaluate()
		if _, ok := open["message_failed "+failed.ID]; ok {
			t.Fatal("the retried message's alert is still open")
		}
		byLead, _, err := u.a.ListAlerts(u.ctx, u.tenant, engine.AlertFilter{LeadID: u.lead}, engine.Page{})
		if err != nil || len(byLead) != 1 || byLead[0].ID != mf.ID || byLead[0].State != engine.AlertResolved {
			t.Fatalf("the lead's alerts %+v %v", byLead, err)
		}
	})
}
