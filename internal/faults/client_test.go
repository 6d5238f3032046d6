//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// targets is the set of serving processes' origins the clients spread
// their requests over; scenarios swap a killed process's origin for its
// successor's.
type targets struct {
	mu    sync.RWMutex
	bases []string
	next  atomic.Uint64
}

func (t *targets) set(bases ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bases = append([]string(nil), bases...)
}

func (t *targets) replace(old, new string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, b := range t.bases {
		if b == old {
			t.bases[i] = new
		}
	}
}

func (t *targets) pick() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.bases[int(t.next.Add(1))%len(t.bases)]
}

// client is a careful API client: a request that fails on the network, with
// a 5xx, a 429, or a 409 saying the same key is still in progress is sent
// again, with the same Idempotency-Key, until it has a definite answer or
// the deadline passes. That is what a client must do to get the promise of
// "retries complete once or replay".
type client struct {
	to      *targets
	token   string
	http    *http.Client
	retries atomic.Int64
	// deadline bounds the retries of one request; a request still without
	// an answer after it is an error of the run.
	deadline time.Duration

	traceMu sync.Mutex
	// traces keeps, per Idempotency-Key, what each attempt got, so that a
	// duplicate can be told as it happened.
	traces map[string][]string
}

func newClient(to *targets, token string) *client {
	return &client{to: to, token: token, deadline: 90 * time.Second,
		http: &http.Client{Timeout: 15 * time.Second}, traces: map[string][]string{}}
}

// response is a definite answer.
type response struct {
	status int
	body   map[string]any
}

func (r response) str(field string) string { s, _ := r.body[field].(string); return s }

// errGaveUp is a request that never got a definite answer.
var errGaveUp = errors.New("no definite answer before the deadline")

// do sends method path with body and key (and header name, value pairs),
// retrying as described on client. A []byte body is sent as it is.
func (c *client) do(ctx context.Context, method, path string, body any, key string, hdr ...string) (response, error) {
	raw, _ := body.([]byte)
	if body != nil && raw == nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return response{}, err
		}
	}
	stop := time.Now().Add(c.deadline)
	backoff := 50 * time.Millisecond
	var last string
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.retries.Add(1)
		}
		res, wait, retry, err := c.once(ctx, method, path, raw, key, hdr)
		if key != "" {
			c.traceMu.Lock()
			c.traces[key] = append(c.traces[key], fmt.Sprintf("%s %d %v id=%s", time.Now().Format("15:04:05.000"), res.status, err, res.str("id")))
			c.traceMu.Unlock()
		}
		if !retry {
			return res, err
		}
		last = fmt.Sprint(res.status, " ", err)
		if time.Now().After(stop) || ctx.Err() != nil {
			return res, fmt.Errorf("%s %s: %w (last: %s)", method, path, errGaveUp, last)
		}
		if wait <= 0 {
			wait = backoff
			backoff = min(backoff*2, time.Second)
		}
		select {
		case <-time.After(min(wait, 5*time.Second)):
		case <-ctx.Done():
		}
	}
}

// once sends one request and says whether it deserves a retry, and after
// how long if the server said.
func (c *client) once(ctx context.Context, method, path string, raw []byte, key string, hdr []string) (response, time.Duration, bool, error) {
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.to.pick()+path, rd)
	if err != nil {
		return response{}, 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, 0, true, err // connection refused, reset, timeout: the same key again
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	out := response{status: res.StatusCode}
	if err != nil {
		return out, 0, true, err
	}
	_ = json.Unmarshal(b, &out.body)
	wait := time.Duration(0)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	switch {
	case res.StatusCode >= 500, res.StatusCode == http.StatusTooManyRequests:
		return out, wait, true, fmt.Errorf("http %d", res.StatusCode)
	case res.StatusCode == http.StatusConflict && strings.Contains(out.str("detail"), "in progress"):
		if wait == 0 {
			wait = 500 * time.Millisecond
		}
		return out, wait, true, fmt.Errorf("http 409 in progress")
	}
	return out, 0, false, nil
}

// trace is what the attempts with key got.
func (c *client) trace(key string) []string {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	return c.traces[key]
}

// all pages through a list with retries.
func (c *client) all(ctx context.Context, path string) ([]map[string]any, error) {
	var items []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for {
		res, err := c.do(ctx, http.MethodGet, path+sep+"limit=200&cursor="+cursor, nil, "")
		if err != nil {
			return nil, err
		}
		if res.status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %v", path, res.status, res.body)
		}
		list, _ := res.body["items"].([]any)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				items = append(items, m)
			}
		}
		next, _ := res.body["next_cursor"].(string)
		if next == "" {
			return items, nil
		}
		cursor = next
	}
}
