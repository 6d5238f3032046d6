package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestSoakIsAskedForByNameOnly(t *testing.T) {
	c, err := parse(t, nil, "--scenario", "all")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(c.Scenarios, ScenarioSoak) {
		t.Fatalf("all includes the soak: %v", c.Scenarios)
	}
	c, err = parse(t, nil, "--scenario", "soak,deliver")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Scenarios, []string{ScenarioDeliver, ScenarioSoak}) || !c.needsDB() {
		t.Fatalf("soak,deliver: %v (needs a database: %v)", c.Scenarios, c.needsDB())
	}
	if c, _ := parse(t, nil, "--scenario", "soak"); c.needsCeilings() {
		t.Fatal("a soak alone measures the ceilings, which would cost two more durations")
	}
}

func TestSoakSlopes(t *testing.T) {
	s := &Soak{}
	for i := range 11 {
		at := float64(i * 60)
		// RSS grows 2 MB a minute after a first minute that does not count;
		// goroutines stay flat.
		rss := 50 + 2*float64(i)
		if i == 0 {
			rss = 10
		}
		s.Samples = append(s.Samples, SoakSample{AtS: at, RSSMB: rss, Goroutines: 80, Backlog: int64(100 - 5*i)})
	}
	s.fit(60e9)
	if s.Slopes.RSSMB != 2 || s.Slopes.Goroutines != 0 || s.Slopes.Backlog != -5 {
		t.Fatalf("slopes %+v, want RSS +2/min, goroutines 0, backlog -5/min", s.Slopes)
	}
	if s.Settled.First.AtS != 60 || s.Settled.Last.AtS != 600 {
		t.Fatalf("settled from %v to %v, want 60 to 600", s.Settled.First.AtS, s.Settled.Last.AtS)
	}
	b := &strings.Builder{}
	s.writeTable(b)
	if !strings.Contains(b.String(), "+2.000") {
		t.Fatalf("the table does not show the RSS slope:\n%s", b)
	}
}
