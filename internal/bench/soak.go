package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	xrate "golang.org/x/time/rate"
)

// ScenarioSoak runs deliver's flow for --duration at half the peak measured
// just before it, sampling the process's resources; it is never part of
// "all" (a soak is minutes long by design).
const ScenarioSoak = "soak"

// Soak is the soak scenario's figures: the rate it held, the samples and,
// over the settled part of the run, each resource's slope.
type Soak struct {
	// PeakPerSec is messages sent per second with the clients unpaced, over
	// CalibrationS seconds; TargetPerSec (half of it) is the pace of the
	// quote actions during the soak, and HeldPerSec what was sent.
	PeakPerSec   float64 `json:"peak_per_sec"`
	CalibrationS float64 `json:"calibration_s"`
	TargetPerSec float64 `json:"target_per_sec"`
	HeldPerSec   float64 `json:"held_per_sec"`
	IntervalS    float64 `json:"interval_s"`
	// SettledFromS: the slopes are fitted over the samples from here on
	// (the first fifth of the run, when caches and pools fill, is left out).
	SettledFromS float64       `json:"settled_from_s"`
	Samples      []SoakSample  `json:"samples"`
	Slopes       SoakSlopes    `json:"slopes_per_min"`
	Settled      SoakFirstLast `json:"settled"`
}

// SoakSample is one reading of the bench process, which holds quoteflow
// (wired as serve wires it), its clients and, with --provider whatsapp,
// the provider's stand-in.
type SoakSample struct {
	AtS        float64 `json:"at_s"`
	RSSMB      float64 `json:"rss_mb"`
	HeapMB     float64 `json:"heap_inuse_mb"`
	Goroutines int     `json:"goroutines"`
	// DBConns is the store's open database connections (database/sql's
	// pool, plus the pgx pool of River and the hot paths on PostgreSQL).
	DBConns int `json:"db_conns"`
	// FDs is the process's open file descriptors: database files, sockets
	// to the database, the API's and the provider's connections.
	FDs int `json:"fds"`
	// Sent is messages sent so far; Backlog is actions answered whose
	// message the provider has not answered yet.
	Sent    int64 `json:"sent"`
	Backlog int64 `json:"backlog"`
}

// SoakSlopes are least-squares slopes per minute over the settled samples.
type SoakSlopes struct {
	RSSMB      float64 `json:"rss_mb"`
	HeapMB     float64 `json:"heap_inuse_mb"`
	Goroutines float64 `json:"goroutines"`
	DBConns    float64 `json:"db_conns"`
	FDs        float64 `json:"fds"`
	Backlog    float64 `json:"backlog"`
}

// SoakFirstLast is the first and last settled sample, for the slopes'
// scale.
type SoakFirstLast struct {
	First SoakSample `json:"first"`
	Last  SoakSample `json:"last"`
}

// soak measures the peak, then holds half of it for the duration.
func (r *runner) soak(ctx context.Context) (Scenario, error) {
	s := Scenario{Name: ScenarioSoak, Unit: "messages/s"}
	calib := min(max(r.cfg.Duration/10, 3*time.Second), 20*time.Second)
	st, err := startStack(ctx, r.db.URL, r.stackOptions(queueRunning))
	if err != nil {
		return s, err
	}
	defer st.Close()

	// Peak: deliver, unpaced, for the calibration window, from a pool of
	// its own sized for a fast machine (ran out, the peak is rated over
	// the time it lasted).
	r.progress.note("  preparing the calibration's tenant")
	cf, err := prepare(ctx, r.db.URL, fixtureOptions{WhatsApp: r.wa, Quotes: int(1500*calib.Seconds()) + r.cfg.Backlog})
	if err != nil {
		return s, err
	}
	cact := newActions(st.URL, cf, r.cfg.Concurrency)
	r.progress.begin("soak-peak", func() string { return fmt.Sprintf("%d actions, %d sent", cact.answered(), st.Sends.ok.Load()) })
	cw := window{From: time.Now(), To: time.Now().Add(calib)}
	cact.run(ctx, r.cfg.Concurrency, cw, func() bool { return cact.answered()-st.Sends.answered() < int64(r.cfg.Backlog) })
	r.progress.end()
	cact.close()
	cw, _ = cact.window(cw)
	soak := &Soak{CalibrationS: round3(cw.seconds())}
	soak.PeakPerSec = rate(st.Sends.ok.Load(), cw)
	soak.TargetPerSec = round3(soak.PeakPerSec / 2)
	if soak.TargetPerSec <= 0 {
		return s, fmt.Errorf("the calibration sent nothing in %s", calib)
	}
	r.progress.note("  peak %.1f messages/s; soaking at %.1f/s for %s", soak.PeakPerSec, soak.TargetPerSec, r.cfg.Duration)
	// Let the calibration's backlog drain before the soak starts.
	for deadline := time.Now().Add(time.Minute); st.Sends.answered() < cact.answered() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	f, err := r.fixture(ctx, soak.TargetPerSec)
	if err != nil {
		return s, err
	}
	act := newActions(st.URL, f, r.cfg.Concurrency)
	defer act.close()
	// The provider's answers so far belong to the calibration.
	answeredBase, okBase := st.Sends.answered(), st.Sends.ok.Load()
	backlog := func() int64 { return act.answered() - (st.Sends.answered() - answeredBase) }
	backlogOK := func() bool { return backlog() < int64(r.cfg.Backlog) }

	// A burst of one per client: a client that polls a moment late does not
	// lose the token.
	lim := xrate.NewLimiter(xrate.Limit(soak.TargetPerSec), r.cfg.Concurrency)
	gate := func() bool { return backlogOK() && lim.Allow() }
	interval := max(r.cfg.Duration/60, time.Second)
	soak.IntervalS = interval.Seconds()
	samples := make(chan []SoakSample, 1)
	stopSampling := make(chan struct{})
	var w window
	err = scenarioRSS(&s, func() error {
		start := time.Now()
		go func() {
			var out []SoakSample
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				out = append(out, sample(st, time.Since(start), st.Sends.ok.Load()-okBase, backlog()))
				select {
				case <-t.C:
				case <-stopSampling:
					out = append(out, sample(st, time.Since(start), st.Sends.ok.Load()-okBase, backlog()))
					samples <- out
					return
				}
			}
		}()
		var err error
		sentBefore, heldFrom := st.Sends.ok.Load(), time.Now()
		w, s.CPU, err = r.measure(ctx, ScenarioSoak, func() string {
			return fmt.Sprintf("%d actions, %d sent, %d goroutines", act.answered(), st.Sends.ok.Load(), runtime.NumGoroutine())
		}, func(ctx context.Context, w window) error {
			act.run(ctx, r.cfg.Concurrency, w, gate)
			return nil
		})
		close(stopSampling)
		soak.HeldPerSec = round3(float64(st.Sends.ok.Load()-sentBefore) / time.Since(heldFrom).Seconds())
		return err
	})
	soak.Samples = <-samples
	if err != nil {
		return s, err
	}
	if short, ok := act.window(w); ok {
		s.Notes = append(s.Notes, fmt.Sprintf("the pool of %d quotes ran out %.1fs into the window, which ends there", len(f.Quotes), short.To.Sub(w.From).Seconds()))
		w = short
	}
	if err := st.Close(); err != nil {
		return s, err
	}
	soak.fit(r.cfg.Warmup + r.cfg.Duration/5)
	s.Soak = soak
	s.Seconds = round3(w.seconds())
	s.Actions = act.flow(w)
	if e := act.err(); e != nil {
		s.Notes = append(s.Notes, fmt.Sprintf("%d actions failed; the first: %v", act.failed.Load(), e))
	}
	if s.Messages, err = messageFlow(ctx, r.db.URL, act, w); err != nil {
		return s, err
	}
	s.Throughput = s.Messages.PerSec
	return s, nil
}

// sample reads the process's resources now.
func sample(st *stack, at time.Duration, sent, backlog int64) SoakSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	conns := st.DB.SQL().Stats().OpenConnections
	if p := st.DB.PgxPool(); p != nil {
		conns += int(p.Stat().TotalConns())
	}
	fds := 0
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents)
	}
	return SoakSample{AtS: round3(at.Seconds()), RSSMB: round3(currentRSS()), HeapMB: round3(float64(ms.HeapInuse) / (1 << 20)),
		Goroutines: runtime.NumGoroutine(), DBConns: conns, FDs: fds, Sent: sent, Backlog: backlog}
}

// currentRSS is the process's resident set now, in MB (VmRSS).
func currentRSS() float64 {
	if raw, err := os.ReadFile("/proc/self/status"); err == nil {
		if kb, ok := kib(procField(raw, "VmRSS")); ok {
			return kb / 1024
		}
	}
	return 0
}

// fit computes the slopes over the samples taken from settled on.
func (s *Soak) fit(settled time.Duration) {
	s.SettledFromS = round3(settled.Seconds())
	var xs []float64
	var pts []SoakSample
	for _, p := range s.Samples {
		if p.AtS >= s.SettledFromS {
			xs = append(xs, p.AtS/60)
			pts = append(pts, p)
		}
	}
	if len(pts) < 2 {
		return
	}
	slope := func(y func(SoakSample) float64) float64 {
		ys := make([]float64, len(pts))
		for i, p := range pts {
			ys[i] = y(p)
		}
		return round3(leastSquares(xs, ys))
	}
	s.Slopes = SoakSlopes{
		RSSMB:      slope(func(p SoakSample) float64 { return p.RSSMB }),
		HeapMB:     slope(func(p SoakSample) float64 { return p.HeapMB }),
		Goroutines: slope(func(p SoakSample) float64 { return float64(p.Goroutines) }),
		DBConns:    slope(func(p SoakSample) float64 { return float64(p.DBConns) }),
		FDs:        slope(func(p SoakSample) float64 { return float64(p.FDs) }),
		Backlog:    slope(func(p SoakSample) float64 { return float64(p.Backlog) }),
	}
	s.Settled = SoakFirstLast{First: pts[0], Last: pts[len(pts)-1]}
}

// leastSquares is the slope of the least-squares line through (xs, ys).
func leastSquares(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// writeTable writes the soak's rate, a dozen of its samples and the slopes.
func (s *Soak) writeTable(b *strings.Builder) {
	fmt.Fprintf(b, "\nsoak: peak %.1f messages/s over %.0fs; held %.1f/s (target %.1f) for the window, sampled every %.0fs\n",
		s.PeakPerSec, s.CalibrationS, s.HeldPerSec, s.TargetPerSec, s.IntervalS)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at s\tRSS MB\theap MB\tgoroutines\tdb conns\tfds\tsent\tbacklog\t")
	step := max(1, len(s.Samples)/12)
	for i, p := range s.Samples {
		if (i%step != 0 || i == len(s.Samples)-2) && i != len(s.Samples)-1 {
			continue
		}
		fmt.Fprintf(tw, "%.0f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t\n", p.AtS, p.RSSMB, p.HeapMB, p.Goroutines, p.DBConns, p.FDs, p.Sent, p.Backlog)
	}
	sl := s.Slopes
	fmt.Fprintf(tw, "slope/min from %.0fs\t%+.3f\t%+.3f\t%+.3f\t%+.3f\t%+.3f\t\t%+.3f\t\n", s.SettledFromS, sl.RSSMB, sl.HeapMB, sl.Goroutines, sl.DBConns, sl.FDs, sl.Backlog)
	tw.Flush()
}
