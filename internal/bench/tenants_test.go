package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestTenantsIsAskedForByNameOnly(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(c.Scenarios, ScenarioTenants) || c.Tenants != DefaultTenants {
		t.Fatalf("all: %v, tenants %d", c.Scenarios, c.Tenants)
	}
	c, err = parse(t, nil, "--scenario", "tenants", "--tenants", "50")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Scenarios, []string{ScenarioTenants}) || !c.needsDB() || c.needsCeilings() || c.Tenants != 50 {
		t.Fatalf("tenants: %v, %d (database %v, ceilings %v)", c.Scenarios, c.Tenants, c.needsDB(), c.needsCeilings())
	}
	if _, err := parse(t, nil, "--scenario", "tenants", "--tenants", "0"); err == nil {
		t.Fatal("--tenants 0 accepted")
	}
}

// TestTenantsSmoke runs the tenants scenario over a few tenants on SQLite:
// every tenant's message is sent, the memory figures and the alert
// evaluation are reported, the target is evaluated. No thresholds.
func TestTenantsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the bench")
	}
	var out, progress bytes.Buffer
	err := Run(context.Background(), []string{"--scenario", "tenants", "--tenants", "30", "--json", "--concurrency", "4",
		"--poll-interval", "100ms", "--history", "0"}, nil, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].Tenants == nil {
		t.Fatalf("scenarios %+v", rep.Scenarios)
	}
	s := rep.Scenarios[0]
	tn := s.Tenants
	if tn.Tenants != 30 || tn.PeakRSSMB <= 0 || tn.IdleRSSMB <= 0 || tn.BaselineRSSMB <= 0 || tn.Caches.RuleSets.Len != 30 {
		t.Errorf("tenants %+v", tn)
	}
	if s.Actions == nil || s.Actions.Count != 30 || s.Actions.Errors != 0 || s.Messages == nil || s.Messages.Statuses["sent"] != 30 {
		t.Errorf("actions %+v, messages %+v", s.Actions, s.Messages)
	}
	if a := tn.Alerts; a == nil || a.Tenants != 30 || a.Error != "" {
		t.Errorf("alerts %+v", a)
	}
	if len(rep.Targets) != 1 || rep.Targets[0].Issue != 14 {
		t.Errorf("targets %+v", rep.Targets)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "bytes per tenant") || !strings.Contains(table.String(), "alert evaluation over 30 tenants") {
		t.Errorf("table:\n%s", table.String())
	}
}
