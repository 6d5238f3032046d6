//go:build faults

package faults

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds ./cmd/quoteflow once per run: the harness kills real
// processes, so it needs the real program, not the app in-process.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quoteflow-faults-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "quoteflow")
		cmd := exec.Command("go", "build", "-o", binPath, "../../cmd/quoteflow")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one serving quoteflow process.
type proc struct {
	cmd  *exec.Cmd
	base string
	logs *lockedBuffer
	done chan struct{}
	err  error
}

// startProc starts `quoteflow serve` with env and waits until it listens.
func startProc(t *testing.T, env []string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), "QUOTEFLOW_SECRET_KEY="+storetest.SecretKey), env...)
	p := &proc{cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if url, ok := strings.CutPrefix(lines.Text(), "quoteflow listening on "); ok {
			p.base = url
			break
		}
	}
	if p.base == "" {
		_ = cmd.Process.Kill()
		<-p.done
		t.Fatalf("quoteflow did not start: %v\n%s", p.err, p.logs.tail(40))
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("quoteflow %s logs (tail):\n%s", p.base, p.logs.tail(30))
		}
	})
	return p
}

// kill ends the process with SIGKILL: no shutdown, no flushing.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop ends the process as an operator would (SIGTERM) and waits for it; a
// process already gone is left alone.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
	}
}

// serveEnv is the environment every harness process gets: the database,
// the WhatsApp stand-in, no per-key rate limit (the clients are the load)
// and a quick rescue of jobs a killed process was working.
func serveEnv(dbURL, waBase string) []string {
	return []string{"QUOTEFLOW_DATABASE_URL=" + dbURL, "QUOTEFLOW_OPERATOR_TOKEN=op",
		"QUOTEFLOW_WHATSAPP_API_BASE=" + waBase, "QUOTEFLOW_POLL_INTERVAL=100ms", "QUOTEFLOW_WHATSAPP_RATE=0",
		"QUOTEFLOW_LOG_LEVEL=warn", "QUOTEFLOW_RATE_LIMIT=0", "QUOTEFLOW_RESCUE_AFTER=3s", "QUOTEFLOW_WORKERS=40"}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// A process's logs are kept only for a failure's tail; cap them so a
	// noisy run costs bounded memory.
	if l.b.Len() > 1<<20 {
		rest := l.b.Bytes()[l.b.Len()-(1<<19):]
		l.b.Reset()
		l.b.Write(rest)
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(l.b.String(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
