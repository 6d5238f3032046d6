package api_test

import (
	"strings"
	"testing"
)

// TestWhatsAppParameterLimits: a WhatsApp step takes at most 100 template
// parameters of at most 1,024 characters each, refused at save naming the
// field; 10,000 parameters are refused as one problem, not 10,000 (the
// issue's 100,000 took 7 s, each compiled as a template), and nothing is
// stored (issue 12, defect 6).
func TestWhatsAppParameterLimits(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Params", nil)
		step := func(params []string) map[string]any {
			return map[string]any{"type": "send_whatsapp", "whatsapp": map[string]any{"template": "t", "language": "en_US", "parameters": params}}
		}
		n := func(count int, p string) []string {
			out := make([]string, count)
			for i := range out {
				out[i] = p
			}
			return out
		}
		create := func(params []string) response {
			return e.call("POST", "/v1/workflows", admin, map[string]any{"name": "W", "trigger": "quote.sent", "steps": []any{step(params)}})
		}
		for name, params := range map[string][]string{"101": n(101, "x"), "10,000": n(10000, "x")} {
			r := create(params)
			if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].whatsapp.parameters" {
				t.Errorf("%s parameters: location %q", name, loc)
			}
			if errs := r.JSON["errors"].([]any); len(errs) != 1 {
				t.Errorf("%s parameters: %d problems, want 1", name, len(errs))
			}
		}
		long := []string{"ok", strings.Repeat("x", 1025)}
		if loc := e.problem(create(long), 422, "validation"); loc != "body.steps[0].whatsapp.parameters[1]" {
			t.Errorf("a 1,025-character parameter: location %q", loc)
		}
		if list := e.must(200, "GET", "/v1/workflows", admin, nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("a workflow was stored: %v", list["items"])
		}
		w := e.must(201, "POST", "/v1/workflows", admin, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{step(append(n(99, "{{ lead.first_name }}"), strings.Repeat("x", 1024)))}})
		r := e.call("POST", "/v1/workflows/"+str(w["id"])+"/steps", admin, step(n(101, "x")))
		if loc := e.problem(r, 422, "validation"); loc != "body.whatsapp.parameters" {
			t.Errorf("adding a step with 101 parameters: location %q", loc)
		}
	})
}

// TestEmailAddressLengths: RFC 5321's limits (local part 64, address 254,
// which keeps the domain within its 255) on a lead's email and the tenant's from address are a 422
// naming the field (issue 12, defect 6).
func TestEmailAddressLengths(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Mail", nil)
		label := strings.Repeat("d", 63)
		for name, addr := range map[string]string{
			"local part of 65": strings.Repeat("a", 65) + "@example.com",
			"address of 255":   strings.Repeat("a", 64) + "@" + label + "." + label + "." + strings.Repeat("d", 59) + ".pt",
			"domain over 255":  "a@" + strings.Repeat(label+".", 4) + "pt",
		} {
			if loc := e.problem(e.call("POST", "/v1/leads", admin, map[string]any{"first_name": "Ana", "email": addr}), 422, "validation"); loc != "body.email" {
				t.Errorf("lead email with a %s: location %q", name, loc)
			}
			r := e.call("PATCH", "/v1/tenant", admin, map[string]any{"channels": map[string]any{"email": map[string]any{"provider": "log", "from": "Acme <" + addr + ">"}}})
			if loc := e.problem(r, 422, "validation"); loc != "body.channels.email.from" {
				t.Errorf("from with a %s: location %q", name, loc)
			}
		}
		longest := strings.Repeat("a", 64) + "@" + label + "." + label + "." + strings.Repeat("d", 58) + ".pt"
		if len(longest) != 254 {
			t.Fatalf("the longest address has %d characters", len(longest))
		}
		e.must(201, "POST", "/v1/leads", admin, map[string]any{"first_name": "Ana", "email": longest})
		e.must(200, "PATCH", "/v1/tenant", admin, map[string]any{"channels": map[string]any{"email": map[string]any{"provider": "log", "from": "Acme <" + longest + ">"}}})
	})
}

// TestInstantsInRange: instants a client stores or filters by are between
// 1970 and the end of 9999 in UTC: year 10000 in UTC (reached with an
// offset) used to be stored and then fail every read, and year 1 was
// stored as no date at all. Each is a 422 naming the field, and nothing is
// stored (issue 12, defect 6).
func TestInstantsInRange(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Dates", nil)
		lead := str(e.must(201, "POST", "/v1/leads", admin, map[string]any{"first_name": "Ana"})["id"])
		quote := func(at string) map[string]any {
			return map[string]any{"lead_id": lead, "number": "Q-" + at, "amount": 1.0, "currency": "EUR", "valid_until": at}
		}
		bad := []string{"9999-12-31T23:00:00-05:00", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z"}
		for _, at := range bad {
			if loc := e.problem(e.call("POST", "/v1/quotes", admin, quote(at)), 422, "validation"); loc != "body.valid_until" {
				t.Errorf("valid_until %s: location %q", at, loc)
			}
			r := e.call("POST", "/v1/leads/"+lead+"/overrides", admin, map[string]any{"trigger": "*", "action": "suppress", "expires_at": at})
			if loc := e.problem(r, 422, "validation"); loc != "body.expires_at" {
				t.Errorf("expires_at %s: location %q", at, loc)
			}
			if at == "0001-01-01T00:00:00Z" {
				continue // the zero instant is no bound in a query
			}
			if loc := e.problem(e.call("GET", "/v1/messages?from="+at, admin, nil), 422, "validation"); loc != "query.from" {
				t.Errorf("messages from %s: location %q", at, loc)
			}
		}
		if list := e.must(200, "GET", "/v1/quotes", admin, nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("a quote was stored: %v", list["items"])
		}
		q := str(e.must(201, "POST", "/v1/quotes", admin, quote("9999-12-31T23:59:59Z"))["id"])
		if loc := e.problem(e.call("PATCH", "/v1/quotes/"+q, admin, map[string]any{"valid_until": bad[0]}), 422, "validation"); loc != "body.valid_until" {
			t.Errorf("PATCH valid_until: location %q", loc)
		}
		if got := e.must(200, "GET", "/v1/quotes/"+q, admin, nil); got["valid_until"] != "9999-12-31T23:59:59Z" {
			t.Errorf("valid_until after a refused PATCH: %v", got["valid_until"])
		}
		for _, h := range []string{"1969-12-31", "0001-01-01"} {
			if loc := e.problem(e.call("PATCH", "/v1/tenant", admin, map[string]any{"holidays": []string{"2026-12-25", h}}), 422, "validation"); loc != "body.holidays[1]" {
				t.Errorf("holiday %s: location %q", h, loc)
			}
		}
		if loc := e.problem(e.call("GET", "/v1/shadow/report?from=9999-12-31T00:00:00Z&to=9999-12-31T23:00:00-05:00", admin, nil), 422, "validation"); loc != "query.to" {
			t.Errorf("shadow report to year 10000: location %q", loc)
		}
	})
}

// TestAbsurdLoopRefusedAtSave: a template loop over a literal range that
// can never render is refused when the workflow is saved, naming the
// field and the line, and nothing is stored (issue 12, defect 6).
func TestAbsurdLoopRefusedAtSave(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.tenant("Loops", nil)
		r := e.call("POST", "/v1/workflows", admin, map[string]any{"name": "W", "trigger": "quote.sent", "steps": []any{
			map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "Hi\n{% for i in (1..100000000) %}x{% endfor %}"}}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].email.text" {
			t.Fatalf("location %q: %s", loc, r.Raw)
		}
		if fe := r.JSON["errors"].([]any)[0].(map[string]any); fe["line"] != 2.0 {
			t.Errorf("problem %v, want line 2", fe)
		}
		if list := e.must(200, "GET", "/v1/workflows", admin, nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("a workflow was stored: %v", list["items"])
		}
	})
}

// TestBodySizeLimit: a body over 1 MiB is a 413 problem and nothing is
// stored, on a route with a decoded body and on the public routes that
// read raw bytes (the webhook, one-click unsubscribe), which huma's
// default limit did not cover: they read any size.
func TestBodySizeLimit(t *testing.T) {
	e := setup(t, "sqlite")
	admin := e.tenant("Big", nil)
	big := `{"first_name":"` + strings.Repeat("a", 1<<20) + `"}`
	e.problem(e.call("POST", "/v1/leads", admin, big), 413, "request-too-large")
	e.problem(e.call("POST", "/v1/webhooks/whatsapp/0190b0f0-0000-7000-8000-000000000000", "", big), 413, "request-too-large")
	e.problem(e.call("POST", "/v1/public/quotes/no-such-token/unsubscribe", "", big), 413, "request-too-large")
	if list := e.must(200, "GET", "/v1/leads", admin, nil); len(list["items"].([]any)) != 0 {
		t.Fatalf("a lead was stored")
	}
}
