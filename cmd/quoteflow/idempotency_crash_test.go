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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestIdempotentCreateSurvivesSIGKILL kills a serving process with SIGKILL
// while a create with an Idempotency-Key is held at a point of its write
// (QUOTEFLOW_TEST_HOLD), starts a new process on the same database and
// retries with the same key and body:
//
//   - killed after the commit, before the answer went back: the retry
//     replays the answer stored with the quote, at once, and no second
//     quote is made;
//   - killed before the commit: nothing was written, the key is held by the
//     dead request for its lease (a 409 naming header.Idempotency-Key, never
//     longer), and the retry then creates the quote once.
//
// Either way the tenant ends with exactly one quote of that number, and
// every later retry replays the same answer.
func TestIdempotentCreateSurvivesSIGKILL(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		for _, point := range []string{app.HoldAfterCommit, app.HoldBeforeCommit} {
			t.Run(d+"/"+point, func(t *testing.T) {
				t.Parallel()
				wa := whatsapptest.Start(t)
				const lease = 2 * time.Second
				env := procEnv(storetest.URL(t, d), wa, fmt.Sprintf("QUOTEFLOW_IDEMPOTENCY_LEASE=%s", lease))
				p, held := startHeldProc(t, append(env, "QUOTEFLOW_TEST_HOLD="+point))
				out := p.must(201, "POST", "/v1/tenants", "op", map[string]any{"name": "Acme", "timezone": "UTC", "mode": "engine"})
				key := out["api_key"].(map[string]any)["key"].(string)
				lead := p.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana", "email": "ana@example.com"})
				body := map[string]any{"lead_id": lead["id"], "number": "Q-CRASH", "amount": 10, "currency": "EUR"}
				const idem = "create-q-crash"

				// The create is held where the test kills it: its answer
				// never comes back.
				go func() {
					res, err := send(p.base, "POST", "/v1/quotes", key, body, "Idempotency-Key", idem)
					if err == nil {
						t.Errorf("the held create answered %d: %s", res.status, res.raw)
					}
				}()
				select {
				case <-held:
				case <-time.After(60 * time.Second):
					t.Fatalf("the create was never held at %s", point)
				}
				p.kill()

				p = startProc(t, env)
				retry := func() reply {
					t.Helper()
					r, err := send(p.base, "POST", "/v1/quotes", key, body, "Idempotency-Key", idem)
					if err != nil {
						t.Fatal(err)
					}
					return r
				}
				first := retry()
				if point == app.HoldBeforeCommit {
					// The dead request's reservation holds the key until
					// its lease ends; then the retry runs the create.
					waitFor(t, "the dead request's key is released by its lease", 10*lease, func() (bool, string) {
						if first.status != http.StatusConflict {
							return true, ""
						}
						if loc := first.location(); loc != "header.Idempotency-Key" {
							t.Fatalf("409 while the key is held names %q, want header.Idempotency-Key: %s", loc, first.raw)
						}
						first = retry()
						return false, fmt.Sprintf("409: %s", first.raw)
					})
					if first.status != http.StatusCreated || first.header.Get("Idempotent-Replayed") != "" {
						t.Fatalf("the retry after the lease: %d replayed=%q %s, want a fresh 201", first.status, first.header.Get("Idempotent-Replayed"), first.raw)
					}
				} else if first.status != http.StatusCreated || first.header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("the retry after a kill past the commit: %d replayed=%q %s, want the stored 201 replayed at once",
						first.status, first.header.Get("Idempotent-Replayed"), first.raw)
				}

				again := retry()
				if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" ||
					!bytes.Equal(bytes.TrimSpace(again.raw), bytes.TrimSpace(first.raw)) || again.header.Get("ETag") != first.header.Get("ETag") {
					t.Fatalf("a later retry: %d %v %s, want the same answer as %s", again.status, again.header, again.raw, first.raw)
				}
				quotes := p.all("/v1/quotes", key)
				if len(quotes) != 1 || quotes[0]["number"] != "Q-CRASH" || quotes[0]["id"] != first.json["id"] {
					t.Fatalf("after the kill and the retries the tenant has %v, want the one quote %s", quotes, first.raw)
				}
				// The replay is the quote as it was created.
				got := p.must(200, "GET", "/v1/quotes/"+quotes[0]["id"].(string), key, nil)
				for _, f := range []string{"id", "number", "version", "public_token", "created_at"} {
					if fmt.Sprint(got[f]) != fmt.Sprint(first.json[f]) {
						t.Errorf("the replayed %s is %v, the stored quote's %v", f, first.json[f], got[f])
					}
				}
			})
		}
	}
}

// startHeldProc is startProc for a process started with QUOTEFLOW_TEST_HOLD:
// held is closed once the process logs that it holds a request there.
func startHeldProc(t *testing.T, env []string) (*proc, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), "QUOTEFLOW_SECRET_KEY="+storetest.SecretKey), env...)
	p := &proc{t: t, cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	logs := &lockedWriter{w: p.logs}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(stderr)
		closed := false
		for lines.Scan() {
			_, _ = logs.Write(append(lines.Bytes(), '\n'))
			if !closed && strings.Contains(lines.Text(), "holding an idempotent write") {
				close(held)
				closed = true
			}
		}
	}()
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
		t.Fatalf("quoteflow did not start: %v", <-p.done)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	})
	return p, held
}

// reply is an answer with its headers.
type reply struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// location is the first errors[].location of a problem.
func (r reply) location() string {
	errs, _ := r.json["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	loc, _ := errs[0].(map[string]any)["location"].(string)
	return loc
}

// send is proc.call with the answer's headers, and an error instead of a
// failed test (it also runs where a test may not stop: in a goroutine).
func send(base, method, path, token string, body any, headers ...string) (reply, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return reply{}, err
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(raw))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	r := reply{status: res.StatusCode, header: res.Header}
	if r.raw, err = io.ReadAll(res.Body); err != nil {
		return r, err
	}
	_ = json.Unmarshal(r.raw, &r.json)
	return r, nil
}
