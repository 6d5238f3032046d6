package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/google/pprof/profile"
)

// TestBenchShareCountsLabelledCPU: the share is the CPU time of samples
// carrying the bench's label over all CPU time, whatever the sample count.
func TestBenchShareCountsLabelledCPU(t *testing.T) {
	cpu := &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, cpu},
		PeriodType: cpu, Period: 10_000_000,
		Sample: []*profile.Sample{
			{Value: []int64{3, 30_000_000}, Label: map[string][]string{"role": {benchRole}}},
			{Value: []int64{1, 10_000_000}, Label: map[string][]string{"role": {"other"}}},
			{Value: []int64{6, 60_000_000}},
		},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if got := benchShare(buf.Bytes()); got != 0.3 {
		t.Errorf("share %v, want 0.3", got)
	}
	if got := benchShare([]byte("not a profile")); got != -1 {
		t.Errorf("share of garbage %v, want -1", got)
	}
	empty := &profile.Profile{SampleType: p.SampleType, PeriodType: cpu, Period: 1}
	buf.Reset()
	if err := empty.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if got := benchShare(buf.Bytes()); got != -1 {
		t.Errorf("share of an empty profile %v, want -1", got)
	}
}

// TestProfilerTellsTheBenchsCPUApart: in a real CPU profile, work done by
// a goroutine that a labelled one started (as the HTTP transport's
// connection goroutines are started by the bench's clients) counts as the
// bench's, and the same work outside counts as not. The two do the same
// work, so the share is about a half; the bounds are wide because the
// profile samples.
func TestProfilerTellsTheBenchsCPUApart(t *testing.T) {
	p := &profiler{}
	if err := p.start("test"); err != nil {
		t.Fatal(err)
	}
	if !p.on {
		t.Skip("another CPU profile is running (go test -cpuprofile)")
	}
	work := func() {
		data := make([]byte, 1<<20)
		for range 300 {
			sum := sha256.Sum256(data)
			data[0] = sum[0]
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	asBench(context.Background(), func(context.Context) {
		go func() { defer wg.Done(); work() }() // inherits the label
	})
	go func() { defer wg.Done(); work() }()
	wg.Wait()
	share, err := p.stop("test")
	if err != nil {
		t.Fatal(err)
	}
	if share < 0.2 || share > 0.8 {
		t.Errorf("bench share %.2f of two equal loads, one labelled; want about 0.5", share)
	}
}
