package app

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// AlertPolicy holds the thresholds of the alert evaluator.
type AlertPolicy struct {
	// Lag opens a delivery_lag alert when a message due for delivery has
	// waited longer than this (default 5 minutes).
	Lag time.Duration
	// SpikeMinEvents is how many decisions a trigger needs in each window
	// before its shares are compared (default 20): a handful of events
	// says nothing about a share.
	SpikeMinEvents int64
	// SpikeRise is how far, in share points, a trigger's share of none or
	// suppressed decisions over the last day must rise above its share over
	// the 7 days before, and it must at least double (default 0.25).
	SpikeRise float64
	// DeadAfter is how long an enabled rule may match nothing while its
	// trigger has events before it is called dead (default 30 days).
	DeadAfter time.Duration
	// FailedWindow is how far back permanently failed messages open
	// alerts (default 24 hours), and MaxFailed how many of them at most per
	// evaluation (default 100): a broken template fails every message, and
	// a hundred alerts already say so.
	FailedWindow time.Duration
	MaxFailed    int
	// FieldMinMatches, FieldDrop, FieldMinEvents and FieldRise define the
	// rule_field_missing alert (alerts_fields.go): a rule that matched at
	// least FieldMinMatches events in the 7 days before the last 24 hours
	// (default 5), whose share of its trigger's events over the last 24
	// hours (at least FieldMinEvents of them, default 20) fell by at least
	// FieldDrop of what it was (default 0.5, a halving), while the share of
	// those events lacking a field it reads rose by at least FieldRise
	// share points (default 0.2).
	FieldMinMatches int64
	FieldDrop       float64
	FieldMinEvents  int64
	FieldRise       float64
}

func (p AlertPolicy) withDefaults() AlertPolicy {
	if p.Lag <= 0 {
		p.Lag = 5 * time.Minute
	}
	if p.SpikeMinEvents <= 0 {
		p.SpikeMinEvents = 20
	}
	if p.SpikeRise <= 0 {
		p.SpikeRise = 0.25
	}
	if p.DeadAfter <= 0 {
		p.DeadAfter = 30 * 24 * time.Hour
	}
	if p.FailedWindow <= 0 {
		p.FailedWindow = 24 * time.Hour
	}
	if p.MaxFailed <= 0 {
		p.MaxFailed = 100
	}
	if p.FieldMinMatches <= 0 {
		p.FieldMinMatches = 5
	}
	if p.FieldDrop <= 0 || p.FieldDrop > 1 {
		p.FieldDrop = 0.5
	}
	if p.FieldMinEvents <= 0 {
		p.FieldMinEvents = 20
	}
	if p.FieldRise <= 0 || p.FieldRise > 1 {
		p.FieldRise = 0.2
	}
	return p
}

// spikeRecent is the recent window of the decision spike comparison; the
// previous window is the 7 days before it.
const spikeRecent = 24 * time.Hour

// EvaluateAlerts is the periodic alert job: for each tenant it reads the
// signals (circuits, failed messages, decision shares, rule matches, the
// oldest due message), derives the conditions that hold now, makes the
// tenant's open alerts exactly those (store.SyncAlerts) with the email
// that names the new ones, and sends the tenant's due alert emails
// (alert_email.go). One tenant's
// failure is logged and the others still run; the first error is returned
// so that the queue retries the job.
//
// The tenants with open alerts or pending emails are read once for all
// (store.AlertTenants), so that a tenant with neither and no finding costs
// only its signals' snapshot, and alertWorkers tenants are evaluated at
// once: at 20,000 tenants one after another the job took most of its
// timeout on a loaded machine (docs/PERFORMANCE.md, Memory).
func (a *App) EvaluateAlerts(ctx context.Context) error {
	ids, err := a.db.TenantIDs(ctx)
	if err != nil {
		return err
	}
	withOpen, withPending, err := a.db.AlertTenants(ctx)
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	next := make(chan string)
	for range min(alertWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if err := a.evaluateTenantAlerts(ctx, id, withOpen[id], withPending[id]); err != nil {
					a.log.ErrorContext(ctx, "evaluate alerts", "tenant_id", id, "error", err)
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// alertWorkers is how many tenants an evaluation works on at once. Each
// holds a connection for its snapshot: four leave most of a pool of 16 to
// requests and jobs, and on SQLite's one connection they simply take
// turns.
const alertWorkers = 4

// evaluateTenantAlerts evaluates one tenant; hasOpen and hasPending say
// whether it had open alerts and pending alert emails when the evaluation
// began. An alert opened since by another process is synced at the next
// evaluation, as when two evaluations race.
func (a *App) evaluateTenantAlerts(ctx context.Context, tenantID string, hasOpen, hasPending bool) error {
	var open []engine.Alert
	if hasOpen {
		var err error
		if open, err = a.db.OpenAlerts(ctx, tenantID); err != nil {
			return err
		}
	}
	var openFailed []string
	for _, al := range open {
		if al.Kind == engine.AlertMessageFailed {
			openFailed = append(openFailed, al.MessageID)
		}
	}
	now := a.Now()
	p := a.alerts
	w := store.AlertWindows{Now: now, RecentFrom: now.Add(-spikeRecent), PreviousFrom: now.Add(-spikeRecent - 7*24*time.Hour),
		DeadFrom: now.Add(-p.DeadAfter), FailedSince: now.Add(-p.FailedWindow), MaxFailed: p.MaxFailed, OpenFailed: openFailed}
	s, err := a.db.AlertSignals(ctx, tenantID, w)
	if err != nil {
		return err
	}
	findings := deriveAlerts(p, w, s)
	fieldFindings, err := a.ruleFieldAlerts(ctx, tenantID, w, s)
	if err != nil {
		return err
	}
	findings = append(findings, fieldFindings...)
	if len(findings) == 0 && len(open) == 0 {
		// Nothing to open, refresh or resolve: no transaction.
		if hasPending {
			return a.sendAlertEmails(ctx, tenantID)
		}
		return nil
	}
	var opened []engine.Alert
	var resolved int
	var email *store.AlertEmail
	// The openings and their email commit together: an alert is never
	// open without the email that names it, nor the other way round.
	err = a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if opened, resolved, err = tx.SyncAlerts(ctx, tenantID, findings); err != nil {
			return err
		}
		email, err = a.queueAlertEmail(ctx, tx, tenantID, opened)
		return err
	})
	if err != nil {
		return err
	}
	for _, al := range opened {
		a.log.WarnContext(ctx, "alert opened", "tenant_id", tenantID, "alert_id", al.ID, "kind", al.Kind,
			"subject", al.Subject, "lead_id", al.LeadID, "message_id", al.MessageID)
	}
	if resolved > 0 {
		a.log.InfoContext(ctx, "alerts resolved", "tenant_id", tenantID, "count", resolved)
	}
	if email != nil {
		a.log.InfoContext(ctx, "alert email queued", "tenant_id", tenantID, "alert_email_id", email.ID, "alerts", email.Alerts)
	}
	if !hasPending && email == nil {
		return nil
	}
	return a.sendAlertEmails(ctx, tenantID)
}

// deriveAlerts turns signals into the conditions that hold now, each with
// what happened and what to do. It is a pure function of its inputs.
func deriveAlerts(p AlertPolicy, w store.AlertWindows, s *store.AlertSignals) []engine.Alert {
	var out []engine.Alert
	for _, c := range s.Circuits {
		if c.Cause == engine.CircuitCauseTransient {
			out = append(out, providerFailing(w.Now, c))
			continue
		}
		out = append(out, engine.Alert{Kind: engine.AlertCircuitOpen, Subject: c.Provider, Provider: c.Provider,
			Summary: fmt.Sprintf("The %s circuit opened at %s after %s (%s): nothing is sent through %s until it closes.",
				c.Provider, c.OpenedAt.Format(time.RFC3339), c.Reason, c.ErrorCode, c.Provider),
			Action: "Fix what the provider refused — credentials, the account's quality rating or a policy block — in the provider's " +
				"console and in PATCH /v1/tenant channels. After " + c.Until.Format(time.RFC3339) + " one send is let through as a probe; " +
				"its success closes the circuit and resolves this alert.",
			Figures: map[string]float64{"opened_at_unix": float64(c.OpenedAt.Unix()), "until_unix": float64(c.Until.Unix())}})
	}
	for _, m := range s.Failed {
		out = append(out, engine.Alert{Kind: engine.AlertMessageFailed, Subject: m.ID, LeadID: m.LeadID, MessageID: m.ID,
			Summary: fmt.Sprintf("A %s message failed permanently (%s): %s", m.Channel, orNone(m.ErrorClass), m.LastError),
			Action:  failedAction(m.ErrorClass, m.ID),
			Figures: map[string]float64{"failed_at_unix": float64(m.UpdatedAt.Unix())}})
	}
	out = append(out, decisionSpikes(p, s.Decisions)...)
	out = append(out, deadRules(w, s)...)
	if s.OldestDue != nil {
		if lag := w.Now.Sub(*s.OldestDue); lag > p.Lag {
			out = append(out, engine.Alert{Kind: engine.AlertDeliveryLag,
				Summary: fmt.Sprintf("A message due at %s has waited %s for delivery, more than the %s threshold.",
					s.OldestDue.Format(time.RFC3339), lag.Round(time.Second), p.Lag),
				Action: "Check that quoteflow processes are running and ready (/readyz), the queue's depth and oldest job " +
					"(quoteflow_queue_* on /metrics), and whether a provider circuit is open; GET /v1/messages?status=queued lists what waits.",
				Figures: map[string]float64{"lag_seconds": math.Round(lag.Seconds()), "threshold_seconds": p.Lag.Seconds()}})
		}
	}
	return out
}

// providerFailing is the alert of a circuit that transient failures
// opened: there is nothing to fix in the tenant's settings, only to know
// that its sends through the provider are held back, and how to release
// them early.
func providerFailing(now time.Time, c engine.Circuit) engine.Alert {
	state := "open until " + c.Until.Format(time.RFC3339) + "; then one message probes the provider"
	if c.StateAt(now) == engine.CircuitHalfOpen {
		state = "half-open: one message at a time probes the provider"
	}
	return engine.Alert{Kind: engine.AlertProviderFailing, Subject: c.Provider, Provider: c.Provider,
		Summary: fmt.Sprintf("%s failed transiently for this tenant (%s); its circuit opened at %s (opening %d in a row) and is %s.",
			c.Provider, c.Reason, c.OpenedAt.Format(time.RFC3339), c.Opens, state),
		Action: "Messages are not lost: they wait as scheduled with reason circuit_open and use no attempt. Usually the provider " +
			"is having an outage or rate-limits the account; check its status and the account's sending limits. A probe's success " +
			"closes the circuit, releases the waiting messages and resolves this alert; each failed probe doubles the wait. " +
			"DELETE /v1/circuits/" + c.Provider + " closes it at once if you know the provider is back.",
		Figures: map[string]float64{"opened_at_unix": float64(c.OpenedAt.Unix()), "until_unix": float64(c.Until.Unix()),
			"opens": float64(c.Opens)}}
}

func orNone(s string) string {
	if s == "" {
		return "no error class"
	}
	return s
}

func failedAction(class, id string) string {
	retry := " Then retry it with POST /v1/messages/" + id + "/retry, or cancel it."
	switch class {
	case "recipient":
		return "The recipient cannot be reached on this channel: correct the lead's address or number, or give the step a fallback channel." + retry
	case "request":
		return "The provider refused the message itself: fix the workflow step (template name, language, parameters, content)." + retry
	case "tenant":
		return "The provider refused the tenant's account: fix its credentials or policy standing in PATCH /v1/tenant channels." + retry
	default:
		return "Read the message's attempts (GET /v1/messages/" + id + ") for the provider's answer." + retry
	}
}

// decisionSpikes compares each trigger's share of none and suppressed
// decisions over the last day with its share over the 7 days before.
func decisionSpikes(p AlertPolicy, ds []store.DecisionWindow) []engine.Alert {
	type totals struct{ recent, previous int64 }
	byTrigger := map[string]*totals{}
	for _, d := range ds {
		t := byTrigger[d.Trigger]
		if t == nil {
			t = &totals{}
			byTrigger[d.Trigger] = t
		}
		t.recent += d.Recent
		t.previous += d.Previous
	}
	var out []engine.Alert
	for _, d := range ds {
		if d.Outcome != string(engine.OutcomeNone) && d.Outcome != string(engine.OutcomeSuppressed) {
			continue
		}
		t := byTrigger[d.Trigger]
		if t.recent < p.SpikeMinEvents || t.previous < p.SpikeMinEvents {
			continue
		}
		now, before := float64(d.Recent)/float64(t.recent), float64(d.Previous)/float64(t.previous)
		if now-before < p.SpikeRise || now < 2*before {
			continue
		}
		action := "Look at GET /v1/events?trigger=" + d.Trigger + "&outcome=none and their traces: a rule may have been disabled, " +
			"edited or reordered, or leads may lack a field a rule reads (missing_fields in GET /v1/stats/outbox); GET /v1/coverage shows gaps."
		if d.Outcome == string(engine.OutcomeSuppressed) {
			action = "Look at GET /v1/events?trigger=" + d.Trigger + "&outcome=suppressed and their reasons: lead overrides, " +
				"opt-outs or the tenant's mode may be suppressing more than intended."
		}
		out = append(out, engine.Alert{Kind: engine.AlertDecisionSpike, Subject: d.Trigger + "/" + d.Outcome, Trigger: d.Trigger,
			Summary: fmt.Sprintf("%.0f%% of %s decisions were %s in the last 24 hours (%d of %d), against %.0f%% in the 7 days before (%d of %d).",
				100*now, d.Trigger, d.Outcome, d.Recent, t.recent, 100*before, d.Previous, t.previous),
			Action: action,
			Figures: map[string]float64{"share": now, "previous_share": before, "events": float64(t.recent),
				"previous_events": float64(t.previous)}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subject < out[j].Subject })
	return out
}

// deadRules names the enabled rules older than the dead-rule window that
// matched no decision in it while their trigger had events.
func deadRules(w store.AlertWindows, s *store.AlertSignals) []engine.Alert {
	var all int64
	for _, n := range s.TriggerEvents {
		all += n
	}
	var out []engine.Alert
	for _, r := range s.Rules {
		if !r.Enabled || !r.CreatedAt.Before(w.DeadFrom) || s.RuleMatches[r.ID] > 0 {
			continue
		}
		events := s.TriggerEvents[r.Trigger]
		if r.Trigger == engine.AnyTrigger {
			events = all
		}
		if events == 0 {
			continue
		}
		days := int(w.Now.Sub(w.DeadFrom).Hours() / 24)
		out = append(out, engine.Alert{Kind: engine.AlertDeadRule, Subject: r.ID, RuleID: r.ID, Trigger: r.Trigger,
			Summary: fmt.Sprintf("Rule %q matched none of the %d %s events of the last %d days.", r.Name, events, r.Trigger, days),
			Action: "A rule before it may match first, or its condition may read a field leads lack: see GET /v1/coverage and " +
				"the trace of GET /v1/leads/{lead_id}/resolution for a lead it should match. Disable or delete it if it is obsolete.",
			Figures: map[string]float64{"trigger_events": float64(events), "days": float64(days)}})
	}
	return out
}

// ListAlerts returns a page of the tenant's alerts.
func (a *App) ListAlerts(ctx context.Context, tenantID string, f engine.AlertFilter, p engine.Page) ([]engine.Alert, string, error) {
	return a.db.ListAlerts(ctx, tenantID, f, p)
}
