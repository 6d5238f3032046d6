package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quoteflow/quoteflow/internal/store"
)

// actions sends the quotes of a fixture, each once, over HTTP:
// POST /v1/quotes/{id}/send with the tenant's key, as a client would.
type actions struct {
	client *http.Client
	base   string
	// bases, with --processes, are the stacks' URLs that quotes are spread
	// over, and perBase counts each one's answers (processes.go).
	bases   []string
	perBase []atomic.Int64
	f       *fixture
	// next is the index of the next quote to send: how many were taken.
	next atomic.Int64
	// starts[i] is when the request sending quote i began.
	starts []time.Time
	rec    *recorder
	failed atomic.Int64
	// exhausted is when the pool ran out, in Unix nanoseconds; 0 if it
	// did not.
	exhausted atomic.Int64

	errMu    sync.Mutex
	firstErr error
}

func newActions(base string, f *fixture, concurrency int) *actions {
	tr := &http.Transport{MaxIdleConns: 2 * concurrency, MaxIdleConnsPerHost: 2 * concurrency,
		IdleConnTimeout: time.Minute, DisableCompression: true}
	return &actions{client: &http.Client{Transport: tr, Timeout: time.Minute}, base: base, f: f,
		starts: make([]time.Time, len(f.Quotes))}
}

func (a *actions) close() { a.client.CloseIdleConnections() }

// run starts n clients that send quotes until the end of w, or until the
// pool of quotes runs out, and returns when every request has been
// answered; the actions answered inside w are counted. gate, when set, is
// asked before each action and holds the client back while it returns
// false.
func (a *actions) run(ctx context.Context, n int, w window, gate func() bool) {
	a.rec = newRecorder(w)
	until := w.To
	var wg sync.WaitGroup
	for range n {
		sh := a.rec.shard()
		wg.Add(1)
		go asBench(ctx, func(ctx context.Context) {
			defer wg.Done()
			for ctx.Err() == nil {
				if gate != nil {
					for !gate() && time.Now().Before(until) && ctx.Err() == nil {
						time.Sleep(time.Millisecond)
					}
				}
				if !time.Now().Before(until) {
					return
				}
				i := a.next.Add(1) - 1
				if i >= int64(len(a.f.Quotes)) {
					a.next.Add(-1)
					a.exhausted.CompareAndSwap(0, time.Now().UnixNano())
					return
				}
				start := time.Now()
				a.starts[i] = start
				if err := a.send(ctx, a.baseFor(i), a.f.Quotes[i]); err != nil {
					sh.errs++
					a.failed.Add(1)
					a.errMu.Lock()
					if a.firstErr == nil {
						a.firstErr = err
					}
					a.errMu.Unlock()
					continue
				}
				end := time.Now()
				sh.add(end, end.Sub(start))
				a.answeredBy(i)
			}
		})
	}
	wg.Wait()
}

func (a *actions) send(ctx context.Context, base, quoteID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/quotes/"+quoteID+"/send", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.f.Key)
	res, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("POST /v1/quotes/%s/send: %d %s", quoteID, res.StatusCode, body)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// answered is how many actions were answered 200.
func (a *actions) answered() int64 { return a.next.Load() - a.failed.Load() }

// window shortens w to when the pool ran out, if it did.
func (a *actions) window(w window) (window, bool) {
	if ns := a.exhausted.Load(); ns != 0 {
		if t := time.Unix(0, ns); t.Before(w.To) {
			w.To = t
			return w, true
		}
	}
	return w, false
}

func (a *actions) err() error {
	a.errMu.Lock()
	defer a.errMu.Unlock()
	return a.firstErr
}

// flow is the actions answered inside the window of run, rated over w
// (shorter when the pool ran out).
func (a *actions) flow(w window) *Flow {
	ops, errs, lat := a.rec.result()
	return &Flow{Count: ops, PerSec: rate(ops, w), Total: a.rec.total(), Errors: errs, Latency: lat,
		LatencyOf: "POST /v1/quotes/{id}/send, request to response"}
}

// messageFlow reads the tenant's messages from the database at dsn: those
// that reached sent inside w, with the time from the start of the action
// that caused each to its sent_at, and every message by status.
func messageFlow(ctx context.Context, dsn string, a *actions, w window) (*Flow, error) {
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	q := `SELECT quote_id, status, sent_at FROM messages WHERE tenant_id = ?`
	if db.Dialect() == store.DialectPostgres {
		q = `SELECT quote_id, status, sent_at FROM messages WHERE tenant_id = $1`
	}
	rows, err := db.SQL().QueryContext(ctx, q, a.f.TenantID)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	f := &Flow{Statuses: map[string]int64{}, LatencyOf: "start of the quote action to the message's sent_at"}
	var lats []time.Duration
	for rows.Next() {
		var quoteID, status string
		var sentAt *int64
		if err := rows.Scan(&quoteID, &status, &sentAt); err != nil {
			return nil, err
		}
		f.Statuses[status]++
		if sentAt == nil {
			continue
		}
		f.Total++
		at := time.UnixMicro(*sentAt)
		if !w.contains(at) {
			continue
		}
		f.Count++
		if i, ok := a.f.index[quoteID]; ok && !a.starts[i].IsZero() {
			lats = append(lats, at.Sub(a.starts[i]))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	f.PerSec, f.Latency = rate(f.Count, w), summarize(lats)
	f.Errors = f.Statuses["failed"] + f.Statuses["unknown"]
	return f, nil
}
