package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
)

// cpuSample is a reading of this process's CPU time and of the machine's.
type cpuSample struct {
	at                         time.Time
	proc                       time.Duration
	busy, iowait, steal, total uint64 // jiffies from /proc/stat
	// postgres is the CPU time of the processes named postgres on this
	// machine, by pid, in clock ticks.
	postgres map[int]uint64
	// db names the bench's database; ofDB holds the pids of postgres whose
	// process title names it (processes.go).
	db   string
	ofDB map[int]bool
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// postgresTicks reads utime+stime of every process named postgres.
func postgresTicks() map[int]uint64 {
	out := map[int]uint64{}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold
		// spaces, so fields are counted after its closing parenthesis.
		s := string(raw)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		out[pid] = u + st
	}
	return out
}

// sampleCPUOf reads this process's CPU, the machine's and, withPostgres,
// every postgres process's, telling those that serve database db ("" for
// none).
func sampleCPUOf(withPostgres bool, db string) cpuSample {
	s := cpuSample{at: time.Now(), db: db}
	if withPostgres {
		s.postgres = postgresTicks()
		s.ofDB = serving(s.postgres, db)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.proc = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(raw), "\n")
		f := strings.Fields(line)
		if len(f) >= 9 && f[0] == "cpu" {
			var v [8]uint64
			for i := range v {
				v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
				s.total += v[i]
			}
			// user nice system idle iowait irq softirq steal
			s.iowait, s.steal = v[4], v[7]
			s.busy = s.total - v[3] - v[4]
		}
	}
	return s
}

// cpuSince is the average cores busy between from and now.
func cpuSince(from cpuSample) *CPU {
	to := sampleCPUOf(from.postgres != nil, from.db)
	wall := to.at.Sub(from.at)
	if wall <= 0 {
		return nil
	}
	c := &CPU{Process: round3(float64(to.proc-from.proc) / float64(wall))}
	var pg uint64
	for pid, t := range to.postgres {
		pg += t - min(from.postgres[pid], t) // a process new in the window counts from 0
	}
	c.Postgres = round3(float64(pg) / clockTicks / wall.Seconds())
	if from.db != "" {
		c.PostgresDB = round3(dbCores(from, to, wall))
	}
	if dt := to.total - from.total; dt > 0 {
		n := float64(runtime.NumCPU())
		c.Machine = round3(float64(to.busy-from.busy) / float64(dt) * n)
		c.IOWait = round3(float64(to.iowait-from.iowait) / float64(dt) * n)
		c.Steal = round3(float64(to.steal-from.steal) / float64(dt) * n)
	}
	return c
}

// benchRole is the pprof label every goroutine of the bench's own load
// carries (its HTTP clients, with the connections they dial, and the fake
// WhatsApp provider), so that a CPU profile of the window tells the share
// of this process's CPU that is the bench's rather than quoteflow's.
// Goroutines inherit their creator's labels, so labelling where each load
// starts covers what it spawns.
const benchRole = "bench"

// asBench runs fn with the pprof label of the bench's load.
func asBench(ctx context.Context, fn func(context.Context)) {
	pprof.Do(ctx, pprof.Labels("role", benchRole), fn)
}

// profiler profiles the CPU of every measured window, to tell the bench's
// share of it (benchShare), and with a directory also writes that profile
// (cpu-<phase>.pprof) and a heap profile at the window's end.
type profiler struct {
	dir string
	mu  sync.Mutex
	cpu *os.File
	buf *bytes.Buffer
	// on is whether a CPU profile of ours is running: another one (go
	// test -cpuprofile) makes StartCPUProfile fail, and then the window
	// has no share.
	on bool
}

func (p *profiler) start(phase string) error {
	if p == nil {
		return nil
	}
	buf := &bytes.Buffer{}
	w := io.Writer(buf)
	var f *os.File
	if p.dir != "" {
		if err := os.MkdirAll(p.dir, 0o755); err != nil {
			return err
		}
		var err error
		if f, err = os.Create(filepath.Join(p.dir, "cpu-"+phase+".pprof")); err != nil {
			return err
		}
		w = io.MultiWriter(f, buf)
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		if f != nil {
			f.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil // only the share is lost; the figures stand without it
	}
	p.mu.Lock()
	p.cpu, p.buf, p.on = f, buf, true
	p.mu.Unlock()
	return nil
}

// stop ends the CPU profile, writes the heap profile when a directory was
// given, and returns the share of the window's profiled CPU that carried
// the bench's label (-1 when there was no profile). It is safe to call
// more than once.
func (p *profiler) stop(phase string) (float64, error) {
	if p == nil {
		return -1, nil
	}
	p.mu.Lock()
	f, buf, on := p.cpu, p.buf, p.on
	p.cpu, p.buf, p.on = nil, nil, false
	p.mu.Unlock()
	if !on {
		return -1, nil
	}
	pprof.StopCPUProfile()
	share := benchShare(buf.Bytes())
	if f == nil {
		return share, nil
	}
	if err := f.Close(); err != nil {
		return share, err
	}
	h, err := os.Create(filepath.Join(p.dir, "heap-"+phase+".pprof"))
	if err != nil {
		return share, err
	}
	defer h.Close()
	return share, pprof.Lookup("heap").WriteTo(h, 0)
}

// benchShare is the share of a CPU profile's samples (by CPU time) whose
// goroutine carried the bench's label; -1 when the profile cannot be read
// or holds no sample.
func benchShare(raw []byte) float64 {
	prof, err := profile.Parse(bytes.NewReader(raw))
	if err != nil {
		return -1
	}
	// The CPU value is the last of a CPU profile's sample types
	// (samples/count, cpu/nanoseconds).
	v := len(prof.SampleType) - 1
	var all, bench int64
	for _, s := range prof.Sample {
		if v < 0 || v >= len(s.Value) {
			return -1
		}
		all += s.Value[v]
		if slices.Contains(s.Label["role"], benchRole) {
			bench += s.Value[v]
		}
	}
	if all == 0 {
		return -1
	}
	return float64(bench) / float64(all)
}

// progress rewrites one line on a terminal (or prints one line per phase
// elsewhere) while a phase runs.
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	last string
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// begin shows status() every 250 ms until end is called.
func (p *progress) begin(phase string, status func() string) {
	if p == nil || p.w == nil {
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	start := time.Now()
	show := func() {
		line := fmt.Sprintf("[%s %4.1fs] %s", phase, time.Since(start).Seconds(), status())
		p.mu.Lock()
		p.last = line
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%s", line)
		}
		p.mu.Unlock()
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				show()
				return
			case <-t.C:
				show()
			}
		}
	}()
}

func (p *progress) end() {
	if p == nil || p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop = nil
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, p.last)
}

// note prints a line between phases.
func (p *progress) note(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
