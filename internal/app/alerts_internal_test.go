package app

import (
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func TestDecisionSpikeThresholds(t *testing.T) {
	p := AlertPolicy{}.withDefaults()
	cases := []struct {
		name string
		ds   []store.DecisionWindow
		want string // subjects that fire, comma-separated
	}{
		{"a jump from 10% to 50% none", []store.DecisionWindow{
			{Trigger: "quote.sent", Outcome: "none", Recent: 20, Previous: 14},
			{Trigger: "quote.sent", Outcome: "workflow", Recent: 20, Previous: 126}}, "quote.sent/none"},
		{"suppressed too", []store.DecisionWindow{
			{Trigger: "quote.rejected", Outcome: "suppressed", Recent: 30, Previous: 0},
			{Trigger: "quote.rejected", Outcome: "workflow", Recent: 10, Previous: 100}}, "quote.rejected/suppressed"},
		{"a rise of 20 points is not enough", []store.DecisionWindow{
			{Trigger: "quote.sent", Outcome: "none", Recent: 12, Previous: 10},
			{Trigger: "quote.sent", Outcome: "workflow", Recent: 28, Previous: 90}}, ""},
		{"not doubled: 40% to 70%", []store.DecisionWindow{
			{Trigger: "quote.sent", Outcome: "none", Recent: 70, Previous: 40},
			{Trigger: "quote.sent", Outcome: "workflow", Recent: 30, Previous: 60}}, ""},
		{"too few recent events", []store.DecisionWindow{
			{Trigger: "quote.sent", Outcome: "none", Recent: 19, Previous: 0},
			{Trigger: "quote.sent", Outcome: "workflow", Recent: 0, Previous: 100}}, ""},
		{"no baseline", []store.DecisionWindow{
			{Trigger: "quote.sent", Outcome: "none", Recent: 50, Previous: 5}}, ""},
		{"workflow outcomes never fire", []store.DecisionWindow{
			{Trigger: "quote.sent", Outcome: "workflow", Recent: 100, Previous: 0},
			{Trigger: "quote.sent", Outcome: "none", Recent: 0, Previous: 100}}, ""},
	}
	for _, c := range cases {
		var got []string
		for _, a := range decisionSpikes(p, c.ds) {
			got = append(got, a.Subject)
			if a.Kind != engine.AlertDecisionSpike || a.Action == "" || a.Summary == "" {
				t.Errorf("%s: alert %+v lacks its kind, summary or action", c.name, a)
			}
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s: fired %v, want %q", c.name, got, c.want)
		}
	}
}

func TestDeadRules(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	w := store.AlertWindows{Now: now, DeadFrom: now.Add(-30 * 24 * time.Hour)}
	old, young := now.Add(-40*24*time.Hour), now.Add(-10*24*time.Hour)
	s := &store.AlertSignals{
		Rules: []engine.Rule{
			{ID: "matched", Trigger: "quote.sent", Enabled: true, CreatedAt: old},
			{ID: "dead", Name: "VIP", Trigger: "quote.sent", Enabled: true, CreatedAt: old},
			{ID: "young", Trigger: "quote.sent", Enabled: true, CreatedAt: young},
			{ID: "disabled", Trigger: "quote.sent", Enabled: false, CreatedAt: old},
			{ID: "quiet-trigger", Trigger: "quote.expired", Enabled: true, CreatedAt: old},
			{ID: "any", Trigger: engine.AnyTrigger, Enabled: true, CreatedAt: old},
		},
		RuleMatches:   map[string]int64{"matched": 5},
		TriggerEvents: map[string]int64{"quote.sent": 5, "quote.accepted": 2},
	}
	var got []string
	for _, a := range deadRules(w, s) {
		got = append(got, a.Subject+"="+a.Trigger)
	}
	if strings.Join(got, " ") != "dead=quote.sent any=*" {
		t.Fatalf("dead rules %v, want dead (5 quote.sent events) and any (7 events of any trigger)", got)
	}
}
