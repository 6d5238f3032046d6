package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// binary builds quoteflow once per test run, for the tests that need a real
// process to kill.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quoteflow-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "quoteflow")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a quoteflow process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
	done chan error
}

func startProc(t *testing.T, env []string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:0")
	// A production server has a secret key; a test that wants none says
	// QUOTEFLOW_SECRET_KEY= in env, which comes later and wins.
	cmd.Env = append(append(os.Environ(), "QUOTEFLOW_SECRET_KEY="+storetest.SecretKey), env...)
	p := &proc{t: t, cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: p.logs}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if url, ok := strings.CutPrefix(lines.Text(), "quoteflow listening on "); ok {
			p.base = url
			break
		}
	}
	if p.base == "" {
		_ = cmd.Process.Kill()
		t.Fatalf("quoteflow did not start: %v\n%s", <-p.done, p.logs)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
		if t.Failed() {
			t.Logf("quoteflow logs:\n%s", tail(p.logs.String(), 40))
		}
	})
	return p
}

// kill stops the process with SIGKILL: no shutdown, no flushing.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
	p.done <- nil // for cleanup
}

func (p *proc) call(method, path, token string, body any, headers ...string) (int, map[string]any) {
	p.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (p *proc) must(want int, method, path, token string, body any) map[string]any {
	p.t.Helper()
	status, out := p.call(method, path, token, body)
	if status != want {
		p.t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// all pages through a list.
func (p *proc) all(path, token string) []map[string]any {
	p.t.Helper()
	var items []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for {
		out := p.must(200, "GET", path+sep+"limit=200&cursor="+cursor, token, nil)
		for _, it := range out["items"].([]any) {
			items = append(items, it.(map[string]any))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return items
		}
		cursor = next
	}
}

// waitFor polls cond until it holds or the deadline passes; the processes
// work asynchronously, so the tests wait on what they can observe.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
