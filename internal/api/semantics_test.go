package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// setupWith is setup with the server's options.
func setupWith(t *testing.T, dialect string, opts api.Options) *env {
	t.Helper()
	db := storetest.Open(t, dialect)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, nil, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}, log)
	srv := httptest.NewServer(api.New(a, log, opts))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, app: a}
}

func workflowBody(name string) map[string]any {
	return map[string]any{"name": name, "trigger": "quote.sent", "steps": []any{
		map[string]any{"type": "send_email", "email": map[string]any{"subject": "One", "text": "1"}},
	}}
}

func ruleBody(name, wf string) map[string]any {
	return map[string]any{"name": name, "trigger": "quote.sent", "workflow_id": wf,
		"condition": map[string]any{"all": []any{map[string]any{"field": "lead.source", "op": "eq", "value": "web"}}}}
}

func TestReplayRepeatsStatusAndHeaders(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)

		// A create: the replay keeps the first answer's ETag.
		a := e.call("POST", "/v1/workflows", key, workflowBody("W"), "Idempotency-Key", "wf-1")
		b := e.call("POST", "/v1/workflows", key, workflowBody("W"), "Idempotency-Key", "wf-1")
		if a.Status != 201 || b.Status != 201 || b.Header.Get("Idempotent-Replayed") != "true" || a.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("create replay: %d %q / %d %q", a.Status, a.Header.Get("Idempotent-Replayed"), b.Status, b.Header.Get("Idempotent-Replayed"))
		}
		if a.Header.Get("ETag") != `"1"` || b.Header.Get("ETag") != a.Header.Get("ETag") {
			t.Fatalf("ETag %q, replayed %q", a.Header.Get("ETag"), b.Header.Get("ETag"))
		}
		if b.JSON["id"] != a.JSON["id"] || !strings.HasPrefix(b.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("replayed body %s (%s)", b.Raw, b.Header.Get("Content-Type"))
		}
		wf := str(a.JSON["id"])

		// add-step is an edit that creates: a replay answers with the
		// version the first made instead of adding the step twice.
		step := map[string]any{"type": "send_email", "email": map[string]any{"subject": "Two", "text": "2"}}
		s1 := e.call("POST", "/v1/workflows/"+wf+"/steps", key, step, "Idempotency-Key", "step-1")
		s2 := e.call("POST", "/v1/workflows/"+wf+"/steps", key, step, "Idempotency-Key", "step-1")
		if s1.Status != 201 || s2.Status != 201 || s2.Header.Get("Idempotent-Replayed") != "true" || s2.Header.Get("ETag") != `"2"` {
			t.Fatalf("add-step replay: %d / %d %q %q", s1.Status, s2.Status, s2.Header.Get("Idempotent-Replayed"), s2.Header.Get("ETag"))
		}
		if got := e.must(200, "GET", "/v1/workflows/"+wf, key, nil); got["version"].(float64) != 2 || len(got["steps"].([]any)) != 2 {
			t.Fatalf("after a replayed add-step: version %v, %d steps", got["version"], len(got["steps"].([]any)))
		}

		// An action: reorder-rules with a key answers the same twice.
		r1 := e.must(201, "POST", "/v1/assignment-rules", key, ruleBody("a", wf))
		r2 := e.must(201, "POST", "/v1/assignment-rules", key, ruleBody("b", wf))
		order := map[string]any{"rule_ids": []any{r2["id"], r1["id"]}}
		o1 := e.call("POST", "/v1/assignment-rules/reorder", key, order, "Idempotency-Key", "order-1")
		o2 := e.call("POST", "/v1/assignment-rules/reorder", key, order, "Idempotent-Key-Unused", "x", "Idempotency-Key", "order-1")
		if o1.Status != 200 || o2.Status != 200 || o2.Header.Get("Idempotent-Replayed") != "true" || string(o1.Raw) == "" {
			t.Fatalf("reorder replay: %d / %d %s", o1.Status, o2.Status, o2.Raw)
		}
		// The same key with another body is still refused by name.
		other := map[string]any{"rule_ids": []any{r1["id"], r2["id"]}}
		if loc := e.problem(e.call("POST", "/v1/assignment-rules/reorder", key, other, "Idempotency-Key", "order-1"), 422, "validation"); loc != "header.Idempotency-Key" {
			t.Fatalf("location %q", loc)
		}

		// create-api-key: the replay says the key exists, without the
		// secret, which is never stored.
		k1 := e.call("POST", "/v1/api-keys", key, map[string]any{"role": "app"}, "Idempotency-Key", "key-1")
		k2 := e.call("POST", "/v1/api-keys", key, map[string]any{"role": "app"}, "Idempotency-Key", "key-1")
		if k1.Status != 201 || str(k1.JSON["key"]) == "" || k2.Status != 201 || k2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("key create: %d %s / %d", k1.Status, k1.Raw, k2.Status)
		}
		if k2.JSON["id"] != k1.JSON["id"] || k2.JSON["key"] != nil {
			t.Fatalf("replayed key answer %s", k2.Raw)
		}
		if n := len(e.must(200, "GET", "/v1/api-keys", key, nil)["items"].([]any)); n != 2 {
			t.Fatalf("%d keys after a replayed create, want 2", n)
		}
	})
}

func TestCursorsAreOpaqueAndValidated(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		for range 3 {
			e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "L"})
		}
		page := e.must(200, "GET", "/v1/leads?limit=2", key, nil)
		next := str(page["next_cursor"])
		if !strings.HasPrefix(next, "c1.") || strings.Contains(next, str(page["items"].([]any)[1].(map[string]any)["id"])) {
			t.Fatalf("cursor %q is not opaque", next)
		}
		if got := e.must(200, "GET", "/v1/leads?limit=2&cursor="+next, key, nil)["items"].([]any); len(got) != 1 {
			t.Fatalf("second page has %d leads, want 1", len(got))
		}
		for _, path := range []string{"/v1/leads", "/v1/quotes", "/v1/workflows", "/v1/events", "/v1/runs", "/v1/messages"} {
			for _, bad := range []string{"zzz", "c1.", "c1.%21%21", "c2.MDE"} {
				if loc := e.problem(e.call("GET", path+"?cursor="+bad, key, nil), 422, "validation"); loc != "query.cursor" {
					t.Fatalf("%s?cursor=%s: location %q", path, bad, loc)
				}
			}
		}

		// Versions: limit honoured, newest first, with a cursor.
		wf := str(e.must(201, "POST", "/v1/workflows", key, workflowBody("W"))["id"])
		for i := range 3 {
			e.must(200, "PATCH", "/v1/workflows/"+wf, key, map[string]any{"name": fmt.Sprint("W", i)})
		}
		var versions []float64
		cursor, pages := "", 0
		for {
			out := e.must(200, "GET", "/v1/workflows/"+wf+"/versions?limit=1&cursor="+cursor, key, nil)
			pages++
			items := out["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("page %d has %d versions, want 1", pages, len(items))
			}
			versions = append(versions, items[0].(map[string]any)["version"].(float64))
			if cursor = str(out["next_cursor"]); cursor == "" {
				break
			}
		}
		if !slices.Equal(versions, []float64{4, 3, 2, 1}) || pages != 4 {
			t.Fatalf("versions %v on %d pages", versions, pages)
		}
		if loc := e.problem(e.call("GET", "/v1/workflows/"+wf+"/versions?cursor=zzz", key, nil), 422, "validation"); loc != "query.cursor" {
			t.Fatalf("versions cursor location %q", loc)
		}

		// Lists that are whole never send a cursor.
		e.must(201, "POST", "/v1/assignment-rules", key, ruleBody("a", wf))
		for _, path := range []string{"/v1/assignment-rules", "/v1/api-keys", "/v1/circuits"} {
			r := e.call("GET", path+"?limit=1", key, nil)
			if r.Status != 200 || strings.Contains(string(r.Raw), "next_cursor") {
				t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
			}
		}
	})
}

func TestIfMatchFollowsRFC9110(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		wf := str(e.must(201, "POST", "/v1/workflows", key, workflowBody("W"))["id"])
		patch := func(ifMatch, name string) response {
			return e.call("PATCH", "/v1/workflows/"+wf, key, map[string]any{"name": name}, "If-Match", ifMatch)
		}
		// A list matches when the current version is in it.
		if r := patch(`"7", "1"`, "A"); r.Status != 200 || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		e.problem(patch(`"1", "3"`, "B"), 412, "version-mismatch")
		// * matches any current version.
		if r := patch("*", "C"); r.Status != 200 || r.Header.Get("ETag") != `"3"` {
			t.Fatalf("*: %d %s", r.Status, r.Raw)
		}
		// A weak tag never matches (strong comparison), and the problem
		// says so, naming the header.
		r := patch(`W/"3"`, "D")
		if loc := e.problem(r, 412, "version-mismatch"); loc != "header.If-Match" || !strings.Contains(str(r.JSON["detail"]), "weak") {
			t.Fatalf("weak: %q %s", loc, r.Raw)
		}
		if loc := e.problem(patch(`"3`, "E"), 412, "version-mismatch"); loc != "header.If-Match" {
			t.Fatalf("malformed: %q", loc)
		}
		if got := e.must(200, "GET", "/v1/workflows/"+wf, key, nil); got["name"] != "C" {
			t.Fatalf("a refused edit changed the workflow: %v", got["name"])
		}
		// The other editable resources take lists too.
		l := e.call("POST", "/v1/leads", key, map[string]any{"first_name": "Ana"})
		lead := str(l.JSON["id"])
		e.must(200, "PATCH", "/v1/leads/"+lead, key, map[string]any{"stage": "won"}, "If-Match", `"9", `+l.Header.Get("ETag"))
		e.problem(e.call("PATCH", "/v1/leads/"+lead, key, map[string]any{"stage": "lost"}, "If-Match", `"9", "1"`), 412, "version-mismatch")
		e.must(200, "PATCH", "/v1/tenant", key, map[string]any{"name": "Acme 2"}, "If-Match", `"5", "1"`)
		quote := str(e.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": lead, "number": quoteNumber(), "amount": 10, "currency": "EUR"})["id"])
		e.must(200, "PATCH", "/v1/quotes/"+quote, key, map[string]any{"amount": 20}, "If-Match", `"4", "1"`)
		e.problem(e.call("PATCH", "/v1/quotes/"+quote, key, map[string]any{"amount": 30}, "If-Match", `W/"2"`), 412, "version-mismatch")
		rule := str(e.must(201, "POST", "/v1/assignment-rules", key, ruleBody("r", wf))["id"])
		e.must(200, "PATCH", "/v1/assignment-rules/"+rule, key, map[string]any{"name": "r2"}, "If-Match", `"1", "4"`)
		e.problem(e.call("PATCH", "/v1/assignment-rules/"+rule, key, map[string]any{"name": "r3"}, "If-Match", `"1", "4"`), 412, "version-mismatch")
	})
}

func TestIfNoneMatchAnswers304(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		w := e.call("POST", "/v1/workflows", key, workflowBody("W"))
		wf, tag := str(w.JSON["id"]), w.Header.Get("ETag")
		lead := str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana"})["id"])
		quote := str(e.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": lead, "number": quoteNumber(), "amount": 10, "currency": "EUR"})["id"])
		rule := str(e.must(201, "POST", "/v1/assignment-rules", key, ruleBody("r", wf))["id"])
		for _, path := range []string{"/v1/workflows/" + wf, "/v1/leads/" + lead, "/v1/quotes/" + quote, "/v1/assignment-rules/" + rule, "/v1/tenant"} {
			for _, inm := range []string{tag, `W/` + tag, `"8", ` + tag, "*"} {
				r := e.call("GET", path, key, nil, "If-None-Match", inm)
				if r.Status != http.StatusNotModified || len(r.Raw) != 0 || r.Header.Get("ETag") != tag || r.Header.Get("Content-Type") != "" {
					t.Fatalf("GET %s If-None-Match %s: %d %q etag %q", path, inm, r.Status, r.Raw, r.Header.Get("ETag"))
				}
			}
			if r := e.call("GET", path, key, nil, "If-None-Match", `"8"`); r.Status != 200 || len(r.Raw) == 0 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("GET %s with a stale tag: %d", path, r.Status)
			}
		}
		// After an edit the old tag no longer matches.
		e.must(200, "PATCH", "/v1/workflows/"+wf, key, map[string]any{"name": "W2"})
		if r := e.call("GET", "/v1/workflows/"+wf, key, nil, "If-None-Match", tag); r.Status != 200 || r.JSON["name"] != "W2" {
			t.Fatalf("after an edit: %d %s", r.Status, r.Raw)
		}
	})
}

func TestRateLimitPerKey(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			// A rate so low that no token comes back during the test, and a
			// burst of 3: the fourth request is over, deterministically.
			e := setupWith(t, d, api.Options{RateLimit: 0.001, RateBurst: 3})
			key := e.tenant("Acme", nil)
			other := e.tenant("Other", nil)
			for i := range 3 {
				r := e.call("GET", "/v1/tenant", key, nil)
				if r.Status != 200 || r.Header.Get("RateLimit-Policy") != `"per-key";q=3;w=3000` {
					t.Fatalf("request %d: %d policy %q", i, r.Status, r.Header.Get("RateLimit-Policy"))
				}
				if got, want := r.Header.Get("RateLimit"), fmt.Sprintf(`"per-key";r=%d;`, 2-i); !strings.HasPrefix(got, want) {
					t.Fatalf("request %d: RateLimit %q, want %s...", i, got, want)
				}
			}
			r := e.call("GET", "/v1/tenant", key, nil)
			e.problem(r, http.StatusTooManyRequests, "rate-limited")
			retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || retry < 1 || retry > 1000 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
			if got := r.Header.Get("RateLimit"); got != fmt.Sprintf(`"per-key";r=0;t=%d`, retry) {
				t.Fatalf("RateLimit %q with Retry-After %d", got, retry)
			}
			// Another key, of another tenant, is not affected.
			if r := e.call("GET", "/v1/tenant", other, nil); r.Status != 200 {
				t.Fatalf("another key: %d %s", r.Status, r.Raw)
			}
			// The operator token is not limited.
			for range 5 {
				e.must(201, "POST", "/v1/tenants", operatorToken, map[string]any{"name": "T", "timezone": "UTC"})
			}
		})
	}
}

func TestLegacyRoutesAnnounceTheirSunset(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		r := e.call("GET", "/v1/legacy/settings", key, nil)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		dep := r.Header.Get("Deprecation")
		if !regexp.MustCompile(`^@[0-9]+$`).MatchString(dep) {
			t.Fatalf("Deprecation %q, want @<unix seconds>", dep)
		}
		sunset, err := http.ParseTime(r.Header.Get("Sunset"))
		if err != nil {
			t.Fatalf("Sunset %q: %v", r.Header.Get("Sunset"), err)
		}
		since, _ := strconv.ParseInt(dep[1:], 10, 64)
		if sunset.Before(time.Unix(since, 0).AddDate(0, 6, 0)) {
			t.Fatalf("Sunset %v is less than six months after the Deprecation %v", sunset, time.Unix(since, 0))
		}
		link := r.Header.Get("Link")
		if !strings.Contains(link, `rel="deprecation"`) || !strings.HasPrefix(link, "</") {
			t.Fatalf("Link %q must point at a page of this server", link)
		}
		target := strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
		if got := e.call("GET", target, "", nil); got.Status != 200 {
			t.Fatalf("the deprecation link %s answers %d", target, got.Status)
		}
		// Errors of a deprecated route carry the headers too.
		if r := e.call("PUT", "/v1/legacy/settings", "", nil); r.Status != 401 || r.Header.Get("Sunset") == "" {
			t.Fatalf("401 without Sunset: %d %v", r.Status, r.Header)
		}
		// A route that is not deprecated has none of them.
		if r := e.call("GET", "/v1/tenant", key, nil); r.Header.Get("Deprecation") != "" || r.Header.Get("Sunset") != "" {
			t.Fatalf("a current route announces a deprecation: %v", r.Header)
		}
	})
}
