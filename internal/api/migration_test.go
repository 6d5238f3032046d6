package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// legacySettings are the legacy settings the migration tests start from:
// quote.sent by email and WhatsApp, quote.accepted off, quote.expired by
// email.
var legacySettings = map[string]any{
	"quote.sent": map[string]any{"enabled": true, "channels": []string{"email", "whatsapp"},
		"email":    map[string]any{"subject": "Your quote {{ quote.number }}", "text": "Hi {{ lead.first_name }}, see {{ quote.url }}"},
		"whatsapp": map[string]any{"template": "quote_sent", "language": "en_US", "parameters": []string{"{{ lead.first_name }}", "{{ quote.number }}"}}},
	"quote.accepted": map[string]any{"enabled": false, "channels": []string{}},
	"quote.expired": map[string]any{"enabled": true, "channels": []string{"email"},
		"email": map[string]any{"subject": "Quote {{ quote.number }} expired", "text": "Ask us for a new one, {{ lead.first_name }}."}},
}

// logChannels sends both channels through the log provider.
var logChannels = map[string]any{"email": map[string]any{"provider": "log", "from": "quotes@acme.example"},
	"whatsapp": map[string]any{"provider": "log"}}

// dbEnv is the API with the store beside it, for tests that must write
// what the API refuses (settings saved before validation existed).
type dbEnv struct {
	*env
	db *store.DB
}

func forEachStoreDB(t *testing.T, fn func(t *testing.T, e *dbEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			a := app.New(db, nil, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}, log)
			srv := httptest.NewServer(api.New(a, log, api.Options{}))
			t.Cleanup(srv.Close)
			fn(t, &dbEnv{env: &env{t: t, srv: srv, app: a}, db: db})
		})
	}
}

func (e *env) tenantID(key string) string {
	e.t.Helper()
	return str(e.must(200, "GET", "/v1/tenant", key, nil)["id"])
}

func triggersOf(t *testing.T, preview map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, x := range preview["triggers"].([]any) {
		m := x.(map[string]any)
		out[str(m["trigger"])] = m
	}
	if len(out) != 5 {
		t.Fatalf("want all five triggers, got %v", preview["triggers"])
	}
	return out
}

func kinds(preview map[string]any) []string {
	var out []string
	for _, x := range preview["disagreements"].([]any) {
		out = append(out, str(x.(map[string]any)["kind"]))
	}
	return out
}

func TestMigrationPreviewAndApply(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", map[string]any{"channels": logChannels})
		other := e.tenant("Other", map[string]any{"channels": logChannels})

		// Nothing to migrate yet.
		loc := e.problem(e.call("POST", "/v1/migration/preview", key, map[string]any{}), 422, "validation")
		if loc != "legacy_settings" {
			t.Fatalf("no settings: location %q", loc)
		}
		e.must(200, "PUT", "/v1/legacy/settings", key, legacySettings)
		e.must(200, "PUT", "/v1/legacy/settings", other, legacySettings)

		p := e.must(200, "POST", "/v1/migration/preview", key, map[string]any{})
		id := str(p["id"])
		if id == "" || p["applicable"] != true || p["applied"] != false || p["sample"].(map[string]any)["builtin"] != true {
			t.Fatalf("preview: %s", mustJSONT(t, p))
		}
		if ks := kinds(p); len(ks) != 0 {
			t.Fatalf("disagreements on a clean tenant: %v", mustJSONT(t, p["disagreements"]))
		}
		plan := p["plan"].([]any)
		if len(plan) != 2 || plan[0].(map[string]any)["trigger"] != "quote.sent" || plan[1].(map[string]any)["trigger"] != "quote.expired" {
			t.Fatalf("plan: %s", mustJSONT(t, plan))
		}
		rule := plan[0].(map[string]any)["rule"].(map[string]any)
		if mustJSONT(t, rule["condition"]) != `{"all":[]}` {
			t.Fatalf("the rule is not a catch-all: %v", rule)
		}
		tr := triggersOf(t, p)
		for name, c := range tr {
			if c["agree"] != true {
				t.Fatalf("%s does not agree: %s", name, mustJSONT(t, c))
			}
		}
		sent := tr["quote.sent"]
		before := sent["before"].(map[string]any)["messages"].([]any)
		after := sent["after"].(map[string]any)["messages"].([]any)
		if len(before) != 2 || len(after) != 2 || before[0].(map[string]any)["subject"] != "Your quote Q-1001" ||
			sent["after"].(map[string]any)["decision"].(map[string]any)["outcome"] != "workflow" {
			t.Fatalf("quote.sent: %s", mustJSONT(t, sent))
		}
		for _, name := range []string{"quote.viewed", "quote.rejected", "quote.accepted"} {
			c := tr[name]
			if n := len(c["before"].(map[string]any)["messages"].([]any)) + len(c["after"].(map[string]any)["messages"].([]any)); n != 0 {
				t.Fatalf("%s sends something: %s", name, mustJSONT(t, c))
			}
		}
		// The same settings, the same id.
		if again := e.must(200, "POST", "/v1/migration/preview", key, map[string]any{}); again["id"] != id {
			t.Fatalf("a second preview of the same settings has id %v, not %s", again["id"], id)
		}

		// Bad ids: malformed, unknown, another tenant's.
		if loc := e.problem(e.call("POST", "/v1/migration/apply", key, map[string]any{"preview_id": "zzz"}), 422, "validation"); loc != "body.preview_id" {
			t.Fatalf("malformed id: %q", loc)
		}
		if loc := e.problem(e.call("POST", "/v1/migration/apply", key, map[string]any{"preview_id": "0190a6f0-0000-7000-8000-000000000000"}), 404, "not-found"); loc != "body.preview_id" {
			t.Fatalf("unknown id: %q", loc)
		}
		foreign := str(e.must(200, "POST", "/v1/migration/preview", other, map[string]any{})["id"])
		if loc := e.problem(e.call("POST", "/v1/migration/apply", key, map[string]any{"preview_id": foreign}), 404, "not-found"); loc != "body.preview_id" {
			t.Fatalf("foreign id: %q", loc)
		}
		if n := len(e.must(200, "GET", "/v1/workflows", key, nil)["items"].([]any)); n != 0 {
			t.Fatalf("refused applies created %d workflows", n)
		}

		// Apply, then apply again: created once.
		r := e.call("POST", "/v1/migration/apply", key, map[string]any{"preview_id": id}, "Idempotency-Key", "apply-1")
		if r.Status != 201 || r.JSON["replayed"] != false || len(r.JSON["created"].([]any)) != 2 {
			t.Fatalf("apply: %d %s", r.Status, r.Raw)
		}
		replay := e.call("POST", "/v1/migration/apply", key, map[string]any{"preview_id": id}, "Idempotency-Key", "apply-1")
		if replay.Status != 201 || replay.Header.Get("Idempotent-Replayed") != "true" || mustJSONT(t, replay.JSON) != mustJSONT(t, r.JSON) {
			t.Fatalf("replayed key: %d %v %s", replay.Status, replay.Header, replay.Raw)
		}
		second := e.must(200, "POST", "/v1/migration/apply", key, map[string]any{"preview_id": id})
		if second["replayed"] != true || mustJSONT(t, second["created"]) != mustJSONT(t, r.JSON["created"]) {
			t.Fatalf("second apply: %s", mustJSONT(t, second))
		}
		if n := len(e.must(200, "GET", "/v1/workflows", key, nil)["items"].([]any)); n != 2 {
			t.Fatalf("%d workflows after two applies, want 2", n)
		}
		if n := len(e.must(200, "GET", "/v1/assignment-rules", key, nil)["items"].([]any)); n != 2 {
			t.Fatalf("%d rules after two applies, want 2", n)
		}
		if mode := e.must(200, "GET", "/v1/tenant", key, nil)["mode"]; mode != "legacy" {
			t.Fatalf("apply changed the mode to %v", mode)
		}
		// The preview now says it was applied, and lists no disagreement for
		// the rules it created.
		p = e.must(200, "POST", "/v1/migration/preview", key, map[string]any{})
		if p["id"] != id || p["applied"] != true || len(kinds(p)) != 0 {
			t.Fatalf("preview after apply: %s", mustJSONT(t, p))
		}

		// Changed settings make a preview stale: 409, nothing created.
		stale := str(e.must(200, "POST", "/v1/migration/preview", other, map[string]any{})["id"])
		changed := map[string]any{"quote.sent": map[string]any{"enabled": true, "channels": []string{"email"},
			"email": map[string]any{"subject": "New {{ quote.number }}", "text": "x"}}}
		e.must(200, "PUT", "/v1/legacy/settings", other, changed)
		if loc := e.problem(e.call("POST", "/v1/migration/apply", other, map[string]any{"preview_id": stale}), 409, "conflict"); loc != "body.preview_id" {
			t.Fatalf("stale id: %q", loc)
		}
		if n := len(e.must(200, "GET", "/v1/workflows", other, nil)["items"].([]any)); n != 0 {
			t.Fatalf("a stale apply created %d workflows", n)
		}
		// An app key may not preview or apply.
		appKey := str(e.must(201, "POST", "/v1/api-keys", key, map[string]any{"role": "app"})["key"])
		e.problem(e.call("POST", "/v1/migration/preview", appKey, map[string]any{}), 403, "forbidden")
		e.problem(e.call("POST", "/v1/migration/apply", appKey, map[string]any{"preview_id": id}), 403, "forbidden")
	})
}

func TestMigrationPreviewListsWhatDisagrees(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", map[string]any{"channels": logChannels})
		e.must(200, "PUT", "/v1/legacy/settings", key, legacySettings)
		// An existing rule for web leads on quote.sent, and one on
		// quote.rejected where the legacy settings sent nothing.
		wf := str(e.must(201, "POST", "/v1/workflows", key, map[string]any{"name": "Web", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "Web {{ quote.number }}", "text": "t"}}}})["id"])
		rule := str(e.must(201, "POST", "/v1/assignment-rules", key, map[string]any{"name": "web", "trigger": "quote.sent", "workflow_id": wf,
			"condition": map[string]any{"all": []any{map[string]any{"field": "lead.source", "op": "eq", "value": "web"}}}})["id"])
		lead := str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Rui", "email": "rui@example.com", "source": "phone"})["id"])
		e.must(201, "POST", "/v1/leads/"+lead+"/overrides", key, map[string]any{"trigger": "*", "action": "suppress", "reason": "asked"})

		p := e.must(200, "POST", "/v1/migration/preview", key, map[string]any{})
		ks := strings.Join(kinds(p), ",")
		for _, want := range []string{"messages_differ", "existing_rule_first", "lead_override"} {
			if !strings.Contains(ks, want) {
				t.Fatalf("disagreements %s lack %s: %s", ks, want, mustJSONT(t, p["disagreements"]))
			}
		}
		if p["applicable"] != true {
			t.Fatal("non-blocking disagreements must not block apply")
		}
		sent := triggersOf(t, p)["quote.sent"]
		if sent["agree"] != false || sent["after"].(map[string]any)["decision"].(map[string]any)["rule_id"] != rule {
			t.Fatalf("the web sample must go to the existing rule: %s", mustJSONT(t, sent))
		}
		// The catch-all goes after the existing rule.
		if pr := p["plan"].([]any)[0].(map[string]any)["rule"].(map[string]any)["priority"].(float64); pr <= 10 {
			t.Fatalf("catch-all priority %v is not after the existing rule's", pr)
		}
		// For the overridden lead, the engine suppresses.
		p = e.must(200, "POST", "/v1/migration/preview", key, map[string]any{"lead_id": lead})
		if p["sample"].(map[string]any)["builtin"] != false {
			t.Fatalf("sample: %v", p["sample"])
		}
		if out := triggersOf(t, p)["quote.expired"]["after"].(map[string]any)["decision"].(map[string]any)["outcome"]; out != "suppressed" {
			t.Fatalf("the override must decide for its lead: %v", out)
		}
		if loc := e.problem(e.call("POST", "/v1/migration/preview", key, map[string]any{"lead_id": "nope"}), 422, "validation"); loc != "body.lead_id" {
			t.Fatalf("unknown lead: %q", loc)
		}
	})
}

func TestMigrationRefusesInvalidLegacyTemplates(t *testing.T) {
	forEachStoreDB(t, func(t *testing.T, e *dbEnv) {
		key := e.tenant("Acme", map[string]any{"channels": logChannels})
		tid := e.tenantID(key)
		// Saved before templates were checked: the API would refuse it now.
		err := e.db.PutLegacySettings(t.Context(), tid, engine.LegacySettings{
			engine.TriggerSent: {Enabled: true, Channels: []string{"email", "sms"},
				Email: &engine.EmailContent{Subject: "Quote {{ quote.number ", Text: "ok"}}})
		if err != nil {
			t.Fatal(err)
		}
		p := e.must(200, "POST", "/v1/migration/preview", key, map[string]any{})
		if p["applicable"] != false {
			t.Fatalf("an invalid template must block: %s", mustJSONT(t, p))
		}
		var fields []string
		for _, d := range p["disagreements"].([]any) {
			fields = append(fields, str(d.(map[string]any)["kind"])+"@"+str(d.(map[string]any)["field"]))
		}
		got := strings.Join(fields, " ")
		for _, want := range []string{"template_invalid@legacy_settings.quote.sent.email.subject", "channel_unsupported@legacy_settings.quote.sent.channels[1]"} {
			if !strings.Contains(got, want) {
				t.Fatalf("disagreements %s lack %s", got, want)
			}
		}
		r := e.call("POST", "/v1/migration/apply", key, map[string]any{"preview_id": p["id"]})
		if loc := e.problem(r, 422, "validation"); loc != "legacy_settings.quote.sent.email.subject" {
			t.Fatalf("apply of invalid templates: %q %s", loc, r.Raw)
		}
		if n := len(e.must(200, "GET", "/v1/workflows", key, nil)["items"].([]any)); n != 0 {
			t.Fatalf("a refused apply created %d workflows", n)
		}
	})
}

func TestModeChangesAreRecorded(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		created := e.must(201, "POST", "/v1/tenants", operatorToken, map[string]any{"name": "Acme"})
		key := str(created["api_key"].(map[string]any)["key"])
		keyID := str(created["api_key"].(map[string]any)["id"])
		if loc := e.problem(e.call("PATCH", "/v1/tenant", key, map[string]any{"mode": "turbo"}), 422, "validation"); loc != "body.mode" {
			t.Fatalf("unknown mode: %q", loc)
		}
		e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"mode": "shadow"})
		e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"name": "Acme Roofing"}) // no mode change
		e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"mode": "shadow"})       // the same mode: no change
		e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"mode": "engine"})
		e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"mode": "legacy"})
		appKey := str(e.must(201, "POST", "/v1/api-keys", key, map[string]any{"role": "app"})["key"])
		page := e.must(200, "GET", "/v1/tenant/mode-changes?limit=2", appKey, nil)
		items := page["items"].([]any)
		if len(items) != 2 || page["next_cursor"] == nil {
			t.Fatalf("first page: %s", mustJSONT(t, page))
		}
		rest := e.must(200, "GET", "/v1/tenant/mode-changes?cursor="+url.QueryEscape(str(page["next_cursor"])), appKey, nil)["items"].([]any)
		all := append(items, rest...)
		var got []string
		for _, x := range all {
			m := x.(map[string]any)
			if m["api_key_id"] != keyID || m["changed_at"] == nil {
				t.Fatalf("change %v lacks its key or time", m)
			}
			got = append(got, str(m["from"])+">"+str(m["to"]))
		}
		if strings.Join(got, " ") != "legacy>shadow shadow>engine engine>legacy" {
			t.Fatalf("mode changes %v", got)
		}
		if loc := e.problem(e.call("GET", "/v1/tenant/mode-changes?cursor=zzz", key, nil), 422, "validation"); loc != "query.cursor" {
			t.Fatalf("bad cursor: %q", loc)
		}
		// Another tenant sees none of them.
		otherKey := e.tenant("Other", nil)
		if n := len(e.must(200, "GET", "/v1/tenant/mode-changes", otherKey, nil)["items"].([]any)); n != 0 {
			t.Fatalf("another tenant sees %d changes", n)
		}
	})
}

func TestShadowReportRefusesBadWindows(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		now := time.Now().UTC()
		q := func(from, to string, extra ...string) string {
			v := url.Values{"from": {from}, "to": {to}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return "/v1/shadow/report?" + v.Encode()
		}
		for _, c := range []struct{ path, loc string }{
			{q(now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)), "query.from"},
			{q(now.Add(-401*24*time.Hour).Format(time.RFC3339), now.Format(time.RFC3339)), "query.to"},
			{q("yesterday", now.Format(time.RFC3339)), "query.from"},
			{q(now.Add(-time.Hour).Format(time.RFC3339), "soon"), "query.to"},
			{q(now.Add(-time.Hour).Format(time.RFC3339), now.Format(time.RFC3339), "cursor", "zzz"), "query.cursor"},
		} {
			if loc := e.problem(e.call("GET", c.path, key, nil), 422, "validation"); loc != c.loc {
				t.Errorf("%s: location %q, want %q", c.path, loc, c.loc)
			}
		}
		rep := e.must(200, "GET", q(now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339)), key, nil)
		if len(rep["triggers"].([]any)) != 5 || len(rep["items"].([]any)) != 0 {
			t.Fatalf("empty report: %s", mustJSONT(t, rep))
		}
	})
}

func mustJSONT(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var _ = fmt.Sprint
