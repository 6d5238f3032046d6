package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// program is quoteflow started in-process by run, as main starts it.
type program struct {
	base   string
	stdout []string // lines printed before it started listening
	done   chan error
	cancel context.CancelFunc
}

// start runs quoteflow with args and env and returns once it listens and
// /healthz answers. It is stopped, and must stop cleanly, at cleanup.
func start(t *testing.T, env map[string]string, args ...string) *program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &program{done: make(chan error, 1), cancel: cancel}
	go func() {
		p.done <- run(ctx, args, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := lines.Text()
		p.stdout = append(p.stdout, line)
		if url, ok := strings.CutPrefix(line, "quoteflow listening on "); ok {
			p.base = url
			break
		}
	}
	if p.base == "" {
		cancel()
		t.Fatalf("quoteflow did not start: %v; output %q", <-p.done, p.stdout)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("quoteflow stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("quoteflow did not shut down")
		}
	})
	res, err := http.Get(p.base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", res, err)
	}
	res.Body.Close()
	return p
}

func (p *program) call(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestServeEndToEnd(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"QUOTEFLOW_DATABASE_URL": storetest.URL(t, d), "QUOTEFLOW_OPERATOR_TOKEN": "op"}
			p := start(t, env, "serve", "--addr", "127.0.0.1:0")

			for _, path := range []string{"/readyz", "/metrics", "/v1/openapi.json"} {
				res, err := http.Get(p.base + path)
				if err != nil || res.StatusCode != 200 {
					t.Fatalf("%s: %v %v", path, res, err)
				}
				res.Body.Close()
			}
			status, out := p.call(t, "POST", "/v1/tenants", "op", `{"name":"Acme","timezone":"Europe/Lisbon","mode":"engine"}`)
			if status != 201 {
				t.Fatalf("create tenant: %d %v", status, out)
			}
			key := out["api_key"].(map[string]any)["key"].(string)
			_, lead := p.call(t, "POST", "/v1/leads", key, `{"first_name":"Ana","source":"web","phone":"+351912345678"}`)
			_, wf := p.call(t, "POST", "/v1/workflows", key, `{"name":"Rejected follow-up","trigger":"quote.rejected",
				"steps":[{"type":"send_email","email":{"subject":"About {{ quote.number }}","text":"Hi {{ lead.first_name }}"}}]}`)
			status, _ = p.call(t, "POST", "/v1/assignment-rules", key, `{"name":"Web","trigger":"quote.rejected","condition":{"all":[{"field":"lead.source","op":"eq","value":"web"}]},"workflow_id":"`+wf["id"].(string)+`"}`)
			if status != 201 {
				t.Fatalf("create rule: %d", status)
			}
			status, dec := p.call(t, "GET", "/v1/leads/"+lead["id"].(string)+"/resolution?trigger=quote.rejected", key, "")
			if status != 200 || dec["outcome"] != "workflow" || dec["workflow_id"] != wf["id"] {
				t.Fatalf("resolution: %d %v", status, dec)
			}
		})
	}
}

func TestDemoSeedsATenantAndReusesItsDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "demo.db")
	for round := 1; round <= 2; round++ {
		func() {
			t.Logf("round %d", round)
			p := start(t, nil, "demo", "--addr", "127.0.0.1:0", "--database-url", dbPath)
			var key, link string
			for _, line := range p.stdout {
				if k, ok := strings.CutPrefix(strings.TrimSpace(line), "admin key:"); ok {
					key = strings.TrimSpace(k)
				}
				if l, ok := strings.CutPrefix(strings.TrimSpace(line), "editor:"); ok {
					link = strings.TrimSpace(l)
				}
			}
			if !strings.HasPrefix(key, "qf_") {
				t.Fatalf("demo printed no admin key: %q", p.stdout)
			}
			// The editor link signs in without the key: its one-time code
			// is traded for this run's key, once.
			_, code, ok := strings.Cut(link, "/#/sign-in?code=")
			if !ok || !strings.HasPrefix(link, p.base) || strings.Contains(link, key) {
				t.Fatalf("demo printed no editor link with a code: %q", p.stdout)
			}
			body := `{"code":"` + code + `"}`
			if status, got := p.call(t, "POST", "/v1/sign-in/exchange", "", body); status != 200 || got["key"] != key {
				t.Fatalf("exchange of the demo's code: %d %v", status, got)
			}
			if status, _ := p.call(t, "POST", "/v1/sign-in/exchange", "", body); status != 404 {
				t.Fatalf("second exchange of the demo's code: %d, want 404", status)
			}
			_, leads := p.call(t, "GET", "/v1/leads?limit=200", key, "")
			if n := len(leads["items"].([]any)); n != 12 {
				t.Fatalf("round %d: %d leads, want 12", round, n)
			}
			_, wfs := p.call(t, "GET", "/v1/workflows", key, "")
			_, rules := p.call(t, "GET", "/v1/assignment-rules", key, "")
			if len(wfs["items"].([]any)) != 2 || len(rules["items"].([]any)) != 3 {
				t.Fatalf("demo workflows/rules: %d/%d", len(wfs["items"].([]any)), len(rules["items"].([]any)))
			}
			_, tenant := p.call(t, "GET", "/v1/tenant", key, "")
			ch := tenant["channels"].(map[string]any)
			if ch["email"].(map[string]any)["provider"] != "log" || ch["whatsapp"].(map[string]any)["provider"] != "log" {
				t.Fatalf("demo channels: %v", ch)
			}
			_, quotes := p.call(t, "GET", "/v1/quotes?limit=200", key, "")
			statuses := map[string]bool{}
			for _, q := range quotes["items"].([]any) {
				statuses[q.(map[string]any)["status"].(string)] = true
			}
			if len(statuses) < 5 {
				t.Fatalf("demo quotes in %d states, want several: %v", len(statuses), statuses)
			}
			// The seed's quote actions made messages that the log provider delivers.
			waitFor(t, "demo messages delivered", 20*time.Second, func() (bool, string) {
				_, ms := p.call(t, "GET", "/v1/messages?status=sent", key, "")
				items, _ := ms["items"].([]any)
				return len(items) > 0, fmt.Sprint(len(items), " sent")
			})
			p.cancel()
			if err := <-p.done; err != nil {
				t.Fatalf("demo stopped with %v", err)
			}
			p.done <- nil // for the cleanup's check
		}()
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"QUOTEFLOW_DATABASE_URL": storetest.URL(t, d)}
			for i := 0; i < 2; i++ {
				var out strings.Builder
				if err := run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
					t.Fatalf("migrate #%d: %v", i+1, err)
				}
				if !strings.Contains(out.String(), "migrated") {
					t.Fatalf("migrate printed %q", out.String())
				}
			}
		})
	}
}

func TestBadCommandLines(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"serve", "--nope"}, {"serve", "--log-level", "loud"}, {}} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// A public URL that quote links and emails cannot use refuses to start,
// with an error naming the flag, before the database is opened: it is not
// found later by each message (issue 12, defect 4).
func TestBadPublicURLRefusesToStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	for _, bad := range []string{"quotes.example.com", "ftp://quotes.example.com", "https://", "https://quotes.example.com/?a=1",
		"https://quotes.example.com/#x", "https://user@quotes.example.com", "https://quotes.example.com/a b", "mailto:a@b.example"} {
		for _, how := range []string{"flag", "env"} {
			args, env := []string{"serve", "--database-url", db}, map[string]string{}
			if how == "flag" {
				args = append(args, "--public-url", bad)
			} else {
				env["QUOTEFLOW_PUBLIC_URL"] = bad
			}
			err := run(context.Background(), args, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--public-url") || !strings.Contains(err.Error(), "http or https") {
				t.Errorf("%s %q: %v, want an error naming --public-url", how, bad, err)
			}
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was opened before the configuration was checked: %v", err)
	}
	for _, good := range []string{"http://127.0.0.1:8080", "https://quotes.example.com", "https://quotes.example.com/base/"} {
		if err := app.CheckPublicURL(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}
