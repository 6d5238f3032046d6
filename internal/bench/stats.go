package bench

import (
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Percentiles are latencies in milliseconds, by the nearest-rank method.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	// N is the number of samples they were computed from.
	N int `json:"n"`
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p% of the
// samples are less than or equal to it. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// summarize sorts samples in place and returns their percentiles, or nil
// when there are none.
func summarize(samples []time.Duration) *Percentiles {
	if len(samples) == 0 {
		return nil
	}
	slices.Sort(samples)
	return &Percentiles{
		P50: ms(percentile(samples, 50)),
		P95: ms(percentile(samples, 95)),
		P99: ms(percentile(samples, 99)),
		Max: ms(samples[len(samples)-1]),
		N:   len(samples),
	}
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// round3 keeps three decimals, so that the JSON stays readable.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// window is the measured part of a scenario: [From, To). Operations that
// finish before From are the warm-up; after To, the drain.
type window struct {
	From, To time.Time
}

func (w window) contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

func (w window) seconds() float64 { return w.To.Sub(w.From).Seconds() }

// recorder collects the operations of concurrent workers that finish in a
// window: how many, and a histogram of their latencies. Each worker records
// into its own shard, so recording takes no lock, and memory does not grow
// with the number of operations (a resolve scenario does millions).
type recorder struct {
	w      window
	mu     sync.Mutex
	shards []*shard
}

func newRecorder(w window) *recorder { return &recorder{w: w} }

type shard struct {
	w     window
	hist  histogram
	total int64 // every operation, warm-up and drain included
	errs  int64
}

func (r *recorder) shard() *shard {
	s := &shard{w: r.w}
	r.mu.Lock()
	r.shards = append(r.shards, s)
	r.mu.Unlock()
	return s
}

// add records an operation that finished at end and took lat.
func (s *shard) add(end time.Time, lat time.Duration) {
	s.total++
	if s.w.contains(end) {
		s.hist.record(lat)
	}
}

// result counts the operations that finished inside the window and
// summarizes their latencies. It must be called after every worker has
// stopped.
func (r *recorder) result() (ops int64, errs int64, lat *Percentiles) {
	var h histogram
	for _, s := range r.shards {
		errs += s.errs
		h.merge(&s.hist)
	}
	return h.n, errs, h.summarize()
}

// total is every operation recorded, in or out of the window.
func (r *recorder) total() (n int64) {
	for _, s := range r.shards {
		n += s.total
	}
	return n
}

// histogram counts durations in log-linear buckets: exact below 128 ns,
// then 128 buckets per power of two, so that a bucket's middle is within
// 0.4% of any duration in it.
type histogram struct {
	counts [histBuckets]int64
	n      int64
	max    time.Duration
}

const (
	histSub     = 128 // buckets per power of two
	histBuckets = 58 * histSub
)

func bucketOf(d time.Duration) int {
	ns := uint64(max(d, 0))
	if ns < histSub {
		return int(ns)
	}
	shift := bits.Len64(ns) - 8 // ns>>shift is in [128, 256)
	return (shift+1)*histSub + int(ns>>shift) - histSub
}

// bucketValue is the middle of bucket i.
func bucketValue(i int) time.Duration {
	if i < histSub {
		return time.Duration(i)
	}
	shift := i/histSub - 1
	lower := uint64(i%histSub+histSub) << shift
	return time.Duration(lower + (uint64(1)<<shift)/2)
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// percentile is the nearest-rank percentile of the recorded durations, to
// the histogram's precision.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := min(max(int64(math.Ceil(p/100*float64(h.n))), 1), h.n)
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(bucketValue(i), h.max)
		}
	}
	return h.max
}

func (h *histogram) summarize() *Percentiles {
	if h.n == 0 {
		return nil
	}
	return &Percentiles{P50: ms(h.percentile(50)), P95: ms(h.percentile(95)), P99: ms(h.percentile(99)), Max: ms(h.max), N: int(h.n)}
}

// rate is ops per second over w, 0 for an empty window.
func rate(ops int64, w window) float64 {
	if s := w.seconds(); s > 0 {
		return round3(float64(ops) / s)
	}
	return 0
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round3(a / b)
}
