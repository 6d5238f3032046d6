package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		// Nearest rank: ceil(0.5*4) = 2nd of four, not an interpolation.
		{"p50 of four", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p95 of four is the max", ms(1, 2, 3, 4), 95, 4 * time.Millisecond},
		{"p99 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p90 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"tiny p is the min", ms(3, 5), 0.001, 3 * time.Millisecond},
	} {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: percentile(%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
}

func TestSummarizeSortsAndReportsMilliseconds(t *testing.T) {
	if summarize(nil) != nil {
		t.Fatal("no samples must give no percentiles")
	}
	s := []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 10 * time.Millisecond, 250 * time.Microsecond}
	p := summarize(s)
	want := Percentiles{P50: 1.5, P95: 10, P99: 10, Max: 10, N: 4}
	if *p != want {
		t.Fatalf("summarize = %+v, want %+v", *p, want)
	}
}

func TestRecorderCountsOnlyTheWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := window{From: t0.Add(time.Second), To: t0.Add(3 * time.Second)}
	r := newRecorder(w)
	a, b := r.shard(), r.shard()
	a.add(t0.Add(500*time.Millisecond), time.Millisecond) // warm-up
	a.add(t0.Add(time.Second), 2*time.Millisecond)        // first instant of the window: in
	b.add(t0.Add(2*time.Second), 4*time.Millisecond)
	b.add(t0.Add(3*time.Second), 8*time.Millisecond) // the window's end is out
	b.errs = 2
	ops, errs, lat := r.result()
	if ops != 2 || errs != 2 {
		t.Fatalf("ops %d errs %d, want 2 and 2", ops, errs)
	}
	if lat.N != 2 || math.Abs(lat.P50-2) > 0.01 || lat.Max != 4 {
		t.Fatalf("latency %+v, want the two samples inside the window", *lat)
	}
	if r.total() != 4 {
		t.Fatalf("total %d, want 4", r.total())
	}
	if got := rate(ops, w); got != 1 {
		t.Fatalf("rate %v over 2s, want 1/s", got)
	}
	if rate(5, window{From: t0, To: t0}) != 0 || ratio(1, 0) != 0 {
		t.Fatal("an empty window or a zero ceiling must give 0, not Inf or NaN")
	}
	if got := ratio(1, 3); got != 0.333 {
		t.Fatalf("ratio rounds to three decimals: %v", got)
	}
	if _, _, lat := newRecorder(w).result(); lat != nil {
		t.Fatal("no operations must give no percentiles")
	}
}

// TestHistogramMatchesNearestRank checks the recorder's histogram against
// the exact nearest-rank percentiles of the same samples.
func TestHistogramMatchesNearestRank(t *testing.T) {
	var h histogram
	var exact []time.Duration
	// A spread from 50 ns to about 2 s, unevenly.
	for i := 1; i <= 20000; i++ {
		d := time.Duration(50 + i*i*5)
		h.record(d)
		exact = append(exact, d)
	}
	slices.Sort(exact)
	for _, p := range []float64{1, 50, 90, 95, 99, 99.9, 100} {
		want, got := percentile(exact, p), h.percentile(p)
		if diff := math.Abs(float64(got-want)) / float64(want); diff > 0.005 {
			t.Errorf("p%v: histogram %v, exact %v (%.2f%% off)", p, got, want, 100*diff)
		}
	}
	for _, d := range []time.Duration{0, 1, 127, 128, 129, 255, 256, 1000, time.Millisecond, time.Second, time.Hour} {
		i := bucketOf(d)
		if i < 0 || i >= histBuckets {
			t.Fatalf("%v: bucket %d out of range", d, i)
		}
		if v := bucketValue(i); math.Abs(float64(v-d)) > float64(d)/256+1 {
			t.Errorf("%v: bucket %d stands for %v", d, i, v)
		}
	}
	if bucketOf(-time.Second) != 0 {
		t.Fatal("a negative duration (a clock step) counts as 0")
	}
	var small histogram
	for _, d := range []time.Duration{1, 2, 3, 4} {
		small.record(d)
	}
	if small.percentile(50) != 2 || small.percentile(95) != 4 {
		t.Fatal("below 128 ns the histogram is exact")
	}
}
