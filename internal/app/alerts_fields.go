package app

import (
	"context"
	"fmt"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/store"
)

// ruleFieldAlerts finds the rules whose matches fell because a field they
// read went missing (AlertPolicy's Field* thresholds): over the last 24
// hours against the 7 days before, the rule's share of its trigger's events
// halved while the share of those events lacking one of its fields rose.
// The windows are the decision spike's (w), and the matches and event
// counts come with the other signals (s); the events' stored contexts are
// read only when some rule's matches have fallen.
func (a *App) ruleFieldAlerts(ctx context.Context, tenantID string, w store.AlertWindows, s *store.AlertSignals) ([]engine.Alert, error) {
	p := a.alerts
	recentW := store.Window{From: w.RecentFrom, To: upTo(w.Now)}
	previousW := store.Window{From: w.PreviousFrom, To: w.RecentFrom}
	recentEvents, previousEvents := map[string]int64{}, map[string]int64{}
	for _, d := range s.Decisions {
		recentEvents[d.Trigger] += d.Recent
		previousEvents[d.Trigger] += d.Previous
	}
	type dropped struct {
		rule                 *engine.Rule
		fields               []string
		share, previousShare float64
		matches              int64
	}
	var drops []dropped
	var fields []string
	for i := range s.Rules {
		r := &s.Rules[i]
		pm := s.PreviousMatches[r.ID]
		if !r.Enabled || pm < p.FieldMinMatches {
			continue
		}
		re, pe := sumFor(recentEvents, r.Trigger), sumFor(previousEvents, r.Trigger)
		if re < p.FieldMinEvents || pe == 0 {
			continue
		}
		share, previousShare := float64(s.RecentMatches[r.ID])/float64(re), float64(pm)/float64(pe)
		if share > previousShare*(1-p.FieldDrop) {
			continue
		}
		cond, err := condition.Parse(r.Condition)
		if err != nil {
			continue // coverage reports it; it has no fields to blame
		}
		fs := cond.Fields()
		drops = append(drops, dropped{rule: r, fields: fs, share: share, previousShare: previousShare, matches: s.RecentMatches[r.ID]})
		fields = append(fields, fs...)
	}
	ps := probes(fields)
	if len(drops) == 0 || len(ps) == 0 {
		return nil, nil
	}
	recentCounts, err := a.db.MissingFieldCounts(ctx, tenantID, recentW, ps)
	if err != nil {
		return nil, err
	}
	previousCounts, err := a.db.MissingFieldCounts(ctx, tenantID, previousW, ps)
	if err != nil {
		return nil, err
	}
	var out []engine.Alert
	for _, d := range drops {
		re, rm := triggerTotals(recentCounts, d.rule.Trigger)
		pe, pm := triggerTotals(previousCounts, d.rule.Trigger)
		if re == 0 || pe == 0 {
			continue
		}
		best, bestRise := "", 0.0
		var missing, previousMissing float64
		for _, f := range d.fields {
			now, before := float64(rm[f])/float64(re), float64(pm[f])/float64(pe)
			if rise := now - before; rise >= p.FieldRise && rise > bestRise {
				best, bestRise, missing, previousMissing = f, rise, now, before
			}
		}
		if best == "" {
			continue
		}
		out = append(out, fieldMissingAlert(d.rule, best, re, pe, d.matches, d.share, d.previousShare, missing, previousMissing))
	}
	return out, nil
}

// fieldMissingAlert says which rule lost matches for want of which field,
// and what to do about it.
func fieldMissingAlert(r *engine.Rule, field string, events, previousEvents, matches int64, share, previousShare, missing, previousMissing float64) engine.Alert {
	of := r.Trigger + " events"
	if r.Trigger == engine.AnyTrigger {
		of = "events"
	}
	return engine.Alert{Kind: engine.AlertRuleFieldMissing, Subject: r.ID + "/" + field, RuleID: r.ID, Trigger: r.Trigger,
		Summary: fmt.Sprintf("Rule %q matched %d of the last 24 hours' %d %s (%.0f%%), against %.0f%% in the 7 days before; "+
			"%.0f%% of those events lacked %s, against %.0f%% before.",
			r.Name, matches, events, of, 100*share, 100*previousShare, 100*missing, field, 100*previousMissing),
		Action: "Leads reach quoteflow without " + field + ": check what creates and updates them (POST and PATCH /v1/leads; " +
			"an integration or a form that stopped sending the field). Until then those events fall through to the rules after " +
			"this one or the trigger's fallback. GET /v1/coverage shows, per rule, how often the last 30 days' events lacked each " +
			"field it reads; make the rule not depend on the field if it is optional.",
		Figures: map[string]float64{"match_share": share, "previous_match_share": previousShare, "missing_share": missing,
			"previous_missing_share": previousMissing, "events": float64(events), "previous_events": float64(previousEvents)}}
}

// sumFor sums per-trigger counts over the triggers a rule of trigger
// applies to (all of them for "*").
func sumFor(byTrigger map[string]int64, trigger string) int64 {
	if trigger != engine.AnyTrigger {
		return byTrigger[trigger]
	}
	var n int64
	for _, v := range byTrigger {
		n += v
	}
	return n
}
