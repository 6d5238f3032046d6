//go:build faults

package faults

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// setupTenant creates an engine-mode tenant that sends through prov, a
// quote.sent workflow that sends, waits 2 s and sends again (so that waits
// and deliveries are in flight whenever a fault strikes) and a catch-all
// rule. It returns the admin key and the tenant id.
func setupTenant(ctx context.Context, t *testing.T, to *targets, prov *provider) (string, string) {
	t.Helper()
	op := newClient(to, "op")
	ch := prov.wa.Channel()
	res, err := op.do(ctx, http.MethodPost, "/v1/tenants", map[string]any{"name": "Faults", "timezone": "UTC", "mode": "engine",
		"channels": map[string]any{"whatsapp": map[string]any{"provider": "cloud_api", "phone_number_id": ch.PhoneNumberID,
			"business_account_id": ch.BusinessAccountID, "access_token": ch.AccessToken, "app_secret": ch.AppSecret}}}, "")
	if err != nil || res.status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v %v", res.status, res.body, err)
	}
	key := res.body["api_key"].(map[string]any)["key"].(string)
	tenantID := res.str("id")
	admin := newClient(to, key)
	step := func(tmpl string) map[string]any {
		return map[string]any{"type": "send_whatsapp", "whatsapp": map[string]any{"template": tmpl, "language": "en_US",
			"parameters": []string{"{{ lead.first_name }}"}}}
	}
	res, err = admin.do(ctx, http.MethodPost, "/v1/workflows", map[string]any{"name": "Two sends", "trigger": "quote.sent",
		"steps": []any{step("first"), map[string]any{"type": "wait", "wait": map[string]any{"duration": "PT2S"}}, step("second")}}, "wf")
	if err != nil || res.status != http.StatusCreated {
		t.Fatalf("create workflow: %d %v %v", res.status, res.body, err)
	}
	res, err = admin.do(ctx, http.MethodPost, "/v1/assignment-rules", map[string]any{"name": "all", "trigger": "*",
		"workflow_id": res.str("id"), "condition": map[string]any{"all": []any{}}}, "rule")
	if err != nil || res.status != http.StatusCreated {
		t.Fatalf("create rule: %d %v %v", res.status, res.body, err)
	}
	return key, tenantID
}

// ledger is what the clients were told: every 2xx, which the database must
// hold afterwards, and every definite refusal, which the run reports.
type ledger struct {
	mu      sync.Mutex
	leads   map[int]string // item → lead id answered 201
	quotes  map[int]string // item → quote id answered 201
	sent    map[int]string // item → quote id whose send answered 200
	refused []string       // definite non-2xx answers, which a healthy run has none of
	gaveUp  []string       // requests that never got a definite answer
	items   atomic.Int64   // item numbers handed out
	started atomic.Int64   // items begun
}

func newLedger() *ledger {
	return &ledger{leads: map[int]string{}, quotes: map[int]string{}, sent: map[int]string{}}
}

func (l *ledger) note(m map[int]string, i int, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m[i] = id
}

func (l *ledger) fail(list *[]string, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, fmt.Sprintf(format, args...))
}

// phone is item i's recipient: one lead, one quote, one run per item.
func phone(i int) string { return fmt.Sprintf("+3519100%05d", i) }

// runLoad runs clients goroutines, each creating a lead and a quote and
// sending it, pausing between items, until stop is closed or max items
// were started. Every request carries its own Idempotency-Key and is
// retried with it.
func runLoad(ctx context.Context, c *client, l *ledger, clients int, pause time.Duration, maxItems int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				i := int(l.items.Add(1))
				if i > maxItems {
					return
				}
				l.started.Add(1)
				item(ctx, c, l, i)
				select {
				case <-time.After(pause):
				case <-stop:
					return
				}
			}
		}()
	}
	wg.Wait()
}

// item is one lead, its quote and the quote's send.
func item(ctx context.Context, c *client, l *ledger, i int) {
	step := func(what, method, path string, body any, want int) (response, bool) {
		res, err := c.do(ctx, method, path, body, fmt.Sprintf("%s-%d", what, i))
		switch {
		case err != nil:
			l.fail(&l.gaveUp, "item %d %s: %v", i, what, err)
			return res, false
		case res.status != want:
			l.fail(&l.refused, "item %d %s: %d %v", i, what, res.status, res.body["detail"])
			return res, false
		}
		return res, true
	}
	res, ok := step("lead", http.MethodPost, "/v1/leads", map[string]any{"first_name": "Ana", "phone": phone(i), "whatsapp_opt_in": true}, http.StatusCreated)
	if !ok {
		return
	}
	l.note(l.leads, i, res.str("id"))
	res, ok = step("quote", http.MethodPost, "/v1/quotes", map[string]any{"lead_id": res.str("id"), "number": fmt.Sprint("Q-", i),
		"amount": 10, "currency": "EUR"}, http.StatusCreated)
	if !ok {
		return
	}
	quoteID := res.str("id")
	l.note(l.quotes, i, quoteID)
	if _, ok = step("send", http.MethodPost, "/v1/quotes/"+quoteID+"/send", nil, http.StatusOK); ok {
		l.note(l.sent, i, quoteID)
	}
}

// drain waits until no run is active and no message waits to be sent. At
// the limit, messages waiting out a retry's backoff (scheduled after an
// attempt; WhatsApp backs off from 15 s to an hour, with full jitter) are
// let be: check counts them as retrying. Anything else still moving fails.
func drain(ctx context.Context, t *testing.T, c *client, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		active, err := c.all(ctx, "/v1/runs?status=active")
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
		msgs, err := c.all(ctx, "/v1/messages")
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
		pending, retrying := 0, 0
		for _, m := range msgs {
			switch m["status"] {
			case "scheduled":
				if n, _ := m["attempts"].(float64); n > 0 {
					retrying++
					continue
				}
				pending++
			case "queued", "sending":
				pending++
			}
		}
		if len(active) == 0 && pending == 0 && (retrying == 0 || time.Now().After(deadline)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("drain: after %s still %d active runs and %d messages pending (%d retrying)", limit, len(active), pending, retrying)
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
}

// sendReceipts posts, as Meta would, a signed "delivered" status for every
// message the provider accepted: the receipts settle the messages whose
// answer a fault hid.
func sendReceipts(ctx context.Context, t *testing.T, c *client, tenantID string, reqs []whatsapptest.Request) {
	t.Helper()
	for start := 0; start < len(reqs); start += 100 {
		var statuses []whatsapptest.Status
		for _, r := range reqs[start:min(start+100, len(reqs))] {
			statuses = append(statuses, r.Receipt("delivered"))
		}
		body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret, statuses...)
		res, err := c.do(ctx, http.MethodPost, "/v1/webhooks/whatsapp/"+tenantID, body, "", "X-Hub-Signature-256", sig)
		if err != nil || res.status != http.StatusOK {
			t.Fatalf("receipts: %d %v %v", res.status, res.body, err)
		}
	}
}
