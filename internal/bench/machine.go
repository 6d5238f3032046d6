package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Machine is where the figures were measured.
type Machine struct {
	NProc      int     `json:"nproc"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	CPUModel   string  `json:"cpu_model"`
	CPUMHz     float64 `json:"cpu_mhz,omitempty"`
	MemTotalMB float64 `json:"mem_total_mb"`
	GoVersion  string  `json:"go_version"`
	OSArch     string  `json:"os_arch"`
	// LoadAvg is the 1-minute load average when the run started: other
	// work on the machine shares its CPUs.
	LoadAvg float64 `json:"load_avg_1m"`
}

func machine() Machine {
	m := Machine{NProc: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OSArch: runtime.GOOS + "/" + runtime.GOARCH}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = procField(raw, "model name")
		m.CPUMHz, _ = strconv.ParseFloat(procField(raw, "cpu MHz"), 64)
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, ok := kib(procField(raw, "MemTotal")); ok {
			m.MemTotalMB = round3(kb / 1024)
		}
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) > 0 {
			m.LoadAvg, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc
// file.
func procField(raw []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// kib parses "123456 kB".
func kib(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 64)
	return f, err == nil
}

// resetPeakRSS collects garbage, returns freed memory to the OS and resets
// the kernel's high-water mark of this process's resident set (writing 5 to
// /proc/self/clear_refs, Linux 4.0 and later), so that the next peakRSS
// reads the peak of what ran in between. It reports whether the reset
// worked; when it did not, peakRSS is the peak since the process started.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is the process's peak resident set in MB: VmHWM from
// /proc/self/status, else getrusage's ru_maxrss.
func peakRSS() float64 {
	if raw, err := os.ReadFile("/proc/self/status"); err == nil {
		if kb, ok := kib(procField(raw, "VmHWM")); ok {
			return round3(kb / 1024)
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return round3(float64(ru.Maxrss) / 1024) // KiB on Linux
	}
	return 0
}
