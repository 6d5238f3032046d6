package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/smtp"
	"github.com/quoteflow/quoteflow/internal/channel/smtp/smtptest"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// execEnv is the API with its job queue working, a real SMTP server and a
// fake of Meta's WhatsApp Cloud API.
type execEnv struct {
	*env
	smtp *smtptest.Server
	wa   *whatsapptest.Server
	logs *logsender.Sender
}

func setupExec(t *testing.T, dialect string) *execEnv {
	t.Helper()
	return setupExecAt(t, dialect, "https://quotes.test")
}

// setupExecAt is setupExec with the public base URL publicURL.
func setupExecAt(t *testing.T, dialect, publicURL string) *execEnv {
	t.Helper()
	db := storetest.Open(t, dialect)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := jobs.New(db, jobs.Config{Workers: 8, PollInterval: 20 * time.Millisecond, RescueAfter: time.Minute, ExpireEvery: time.Hour}, log)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(db, q, app.Config{OperatorToken: operatorToken, PublicBaseURL: publicURL}, log)
	x := &execEnv{smtp: smtptest.Start(t), wa: whatsapptest.Start(t), logs: logsender.New(nil)}
	// Workflows are checked against the business account's templates.
	x.wa.AddTemplate(whatsapptest.Template{Name: "quote_sent", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
		Body: "Hi {{1}}, your quote {{2}} is ready."})
	a.Senders = senders.New(senders.Options{Log: x.logs, WhatsAppBaseURL: x.wa.URL(), WhatsAppThrottle: whatsapp.NewThrottle(0, 0),
		SMTP: smtp.Options{TLSConfig: x.smtp.ClientTLSConfig(), Timeout: 5 * time.Second}})
	// Retries in tests are quick: jitter 0 makes the first backoff zero.
	a.Rand = func() float64 { return 0 }
	if err := q.Start(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(a, log, api.Options{}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("queue stop: %v", err)
		}
	})
	x.env = &env{t: t, srv: srv, app: a}
	return x
}

// forEachExecDB runs fn on every database with a working queue.
func forEachExecDB(t *testing.T, fn func(t *testing.T, x *execEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, setupExec(t, d))
		})
	}
}

// tenantWithChannels creates an engine-mode tenant whose email goes to the
// test SMTP server and WhatsApp to the fake.
func (x *execEnv) tenantWithChannels(mode string) string {
	x.t.Helper()
	em := x.smtp.Channel("Acme Roofing <quotes@acme.example>")
	wa := x.wa.Channel()
	return x.tenant("Acme Roofing", map[string]any{"mode": mode, "channels": map[string]any{
		"email": map[string]any{"provider": "smtp", "host": em.Host, "port": em.Port, "tls": em.TLS,
			"username": em.Username, "password": em.Password, "from": em.From},
		"whatsapp": map[string]any{"provider": "cloud_api", "phone_number_id": wa.PhoneNumberID,
			"business_account_id": wa.BusinessAccountID, "access_token": wa.AccessToken, "app_secret": wa.AppSecret,
			"verify_token": wa.VerifyToken},
	}})
}

// eventually polls cond until it holds or 20 s pass. Delivery is
// asynchronous by design: this waits on the observable state, not a clock.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// messages lists a tenant's messages, with filters as a query string.
func (x *execEnv) messages(key, query string) []map[string]any {
	x.t.Helper()
	var out []map[string]any
	for _, m := range x.must(200, "GET", "/v1/messages?limit=200&"+query, key, nil)["items"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// settled waits until the tenant has no active run and none of its
// messages has delivery work left, and returns the messages query selects.
func (x *execEnv) settled(key, query string) []map[string]any {
	x.t.Helper()
	var ms []map[string]any
	eventually(x.t, "runs and messages settle", func() (bool, string) {
		if active := x.must(200, "GET", "/v1/runs?status=active", key, nil)["items"].([]any); len(active) > 0 {
			return false, fmt.Sprintf("%d active runs", len(active))
		}
		ms = x.messages(key, query)
		for _, m := range ms {
			switch m["status"] {
			case "queued", "sending", "scheduled":
				return false, fmt.Sprintf("%v", statuses(ms))
			}
		}
		return true, ""
	})
	return ms
}

func statuses(ms []map[string]any) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%s", m["channel"], m["status"]))
	}
	return out
}
