package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// fuzzAPI is the real API over a fresh SQLite database, one per fuzz
// process, with a tenant and one of each resource the bodies refer to.
// Bodies name them as {{lead}} and {{workflow}}, which send replaces, so
// that the committed corpus works against any database.
type fuzzAPI struct {
	srv            *httptest.Server
	key            string
	lead, workflow string
}

func newFuzzAPI(f *testing.F) *fuzzAPI {
	db := storetest.Open(f, "sqlite")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, nil, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}, log)
	srv := httptest.NewServer(api.New(a, log, api.Options{}))
	f.Cleanup(srv.Close)
	z := &fuzzAPI{srv: srv}
	created := func(method, path, token, body string) map[string]any {
		status, _, raw := z.do(f, method, path, token, body)
		var out map[string]any
		if status != http.StatusCreated || json.Unmarshal(raw, &out) != nil {
			f.Fatalf("%s %s: %d %s", method, path, status, raw)
		}
		return out
	}
	tenant := created("POST", "/v1/tenants", operatorToken, `{"name": "Fuzz", "timezone": "Europe/Lisbon"}`)
	z.key = tenant["api_key"].(map[string]any)["key"].(string)
	z.lead = created("POST", "/v1/leads", z.key, `{"first_name": "Ana", "email": "ana@example.com"}`)["id"].(string)
	z.workflow = created("POST", "/v1/workflows", z.key, `{"name": "W", "trigger": "quote.sent", "steps": [{"type": "send_email", "email": {"subject": "S", "text": "T"}}]}`)["id"].(string)
	return z
}

func (z *fuzzAPI) do(tb testing.TB, method, path, token, body string, headers ...string) (int, http.Header, []byte) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, z.srv.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := z.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, res.Header, raw
}

// send sends body (with its placeholders replaced) and checks what every
// answer must be: never a 5xx; an error is an RFC 9457 problem of the
// project's kind whose status is the answer's, whose field errors each
// name a location in the request, at least one for a 422; and the answer
// is one the OpenAPI document allows. It returns the status and the
// decoded body.
func (z *fuzzAPI) send(t *testing.T, method, path, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	body = strings.NewReplacer("{{lead}}", z.lead, "{{workflow}}", z.workflow).Replace(body)
	status, h, raw := z.do(t, method, path, z.key, body, headers...)
	if status >= 500 {
		t.Fatalf("%s %s %q: %d %s", method, path, body, status, raw)
	}
	checkConformance(t, method, path, status, h.Get("Content-Type"), raw)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d with a body that is not a JSON object: %q", method, path, status, raw)
		}
	}
	if status < 400 {
		return status, out
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s %s %q: %d with content type %q", method, path, body, status, ct)
	}
	if typ, _ := out["type"].(string); !strings.HasPrefix(typ, "urn:quoteflow:problem:") {
		t.Fatalf("%s %s %q: problem type %q", method, path, body, typ)
	}
	if s, _ := out["status"].(float64); int(s) != status {
		t.Fatalf("%s %s %q: problem status %v in a %d", method, path, body, out["status"], status)
	}
	errs, _ := out["errors"].([]any)
	if status == http.StatusUnprocessableEntity && len(errs) == 0 {
		t.Fatalf("%s %s %q: a 422 names no field: %s", method, path, body, raw)
	}
	for _, e := range errs {
		loc, _ := e.(map[string]any)["location"].(string)
		msg, _ := e.(map[string]any)["message"].(string)
		if msg == "" || !(loc == "body" || strings.HasPrefix(loc, "body.") || strings.HasPrefix(loc, "body[") ||
			strings.HasPrefix(loc, "query.") || strings.HasPrefix(loc, "path.") || strings.HasPrefix(loc, "header.")) {
			t.Fatalf("%s %s %q: field error %v does not name a location in the request", method, path, body, e)
		}
	}
	return status, out
}

// created checks that a 201 is durable: the resource it names reads back,
// with the same id and version.
func (z *fuzzAPI) created(t *testing.T, collection string, out map[string]any) string {
	t.Helper()
	id, _ := out["id"].(string)
	if id == "" {
		t.Fatalf("a 201 from %s names no id: %v", collection, out)
	}
	status, got := z.send(t, "GET", collection+"/"+url.PathEscape(id), "")
	if status != http.StatusOK || got["id"] != id || got["version"] != out["version"] {
		t.Fatalf("created %s %s is not stored as answered: %d %v (answered %v)", collection, id, status, got, out)
	}
	return id
}

// fuzzBody is the target every body shares: send it to create, and when
// it is created, check it is stored and send it again as an edit of what
// was created.
func fuzzBody(f *testing.F, collection string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	z := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, body string) {
		status, out := z.send(t, "POST", collection, body)
		if status != http.StatusCreated {
			return
		}
		id := z.created(t, collection, out)
		z.send(t, "PATCH", collection+"/"+id, body)
	})
}

// FuzzLeadBody sends arbitrary bodies to create a lead and edit it.
func FuzzLeadBody(f *testing.F) {
	fuzzBody(f, "/v1/leads",
		`{"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com", "phone": "+351912345678", "country": "PT", "language": "pt-PT", "timezone": "Europe/Lisbon", "source": "web", "tags": ["vip"], "custom": {"roof_type": "tile", "area": 120}}`,
		`{"email": "Ana <ana@example.com>", "phone": "912345678"}`,
		`{"custom": {"bad key": 1}, "tags": [""], "timezone": "Local"}`,
		`{"first_name": "\u0000", "last_name": "\ud800"}`,
		`{"first_name": 1}`, `[]`, `{`, `null`, `{"stage": "won", "unknown": true}`)
}

// FuzzQuoteBody sends arbitrary bodies to create a quote and edit it:
// amounts and currencies, numbers, and valid_until instants.
func FuzzQuoteBody(f *testing.F) {
	fuzzBody(f, "/v1/quotes",
		`{"lead_id": "{{lead}}", "number": "Q-1", "amount": 1250.5, "currency": "EUR", "valid_until": "2026-12-31T23:59:59Z"}`,
		`{"lead_id": "{{lead}}", "number": "Q-2", "amount": 10.001, "currency": "EUR"}`,
		`{"lead_id": "{{lead}}", "number": "Q-3", "amount": 1e300, "currency": "JPY", "valid_until": "0000-01-01T00:00:00Z"}`,
		`{"lead_id": "{{lead}}", "number": "Q-4", "amount": -1, "currency": "eur", "valid_until": "2026-02-30T00:00:00+25:00"}`,
		`{"lead_id": "00000000-0000-0000-0000-000000000000", "number": "Q-5", "amount": 1, "currency": "KWD"}`,
		`{"lead_id": "{{lead}}", "number": " ", "amount": "1", "currency": "USD", "valid_until": "9999-12-31T23:59:59.999999999Z"}`)
}

// FuzzWorkflowBody sends arbitrary bodies to create a workflow and edit
// it: steps, durations, templates, conditions.
func FuzzWorkflowBody(f *testing.F) {
	fuzzBody(f, "/v1/workflows",
		`{"name": "W", "trigger": "quote.sent", "steps": [{"type": "send_email", "email": {"subject": "Hi {{ lead.first_name }}", "text": "{{ quote.amount | money }}"}}, {"type": "wait", "wait": {"duration": "P1DT2H"}}]}`,
		`{"name": "W", "trigger": "quote.viewed", "steps": [{"type": "wait", "wait": {"duration": "P1Y"}}, {"type": "send_email", "email": {"subject": "{% for i in (1..100000000) %}x{% endfor %}", "text": "{{"}}]}`,
		`{"name": "W", "trigger": "quote.sent", "enabled": false, "steps": [{"type": "send_email", "condition": {"field": "lead.tags", "op": "contains", "value": "vip"}, "email": {"subject": "s", "text": "t"}}]}`,
		`{"name": "W", "trigger": "nope", "steps": []}`,
		`{"name": "", "trigger": "quote.sent", "steps": [{"id": "x", "type": "send_whatsapp", "whatsapp": {"template": "t", "language": "pt", "parameters": ["a"]}}]}`)
}

// FuzzRuleBody sends arbitrary bodies to create an assignment rule and
// edit it.
func FuzzRuleBody(f *testing.F) {
	fuzzBody(f, "/v1/assignment-rules",
		`{"name": "r", "trigger": "quote.sent", "workflow_id": "{{workflow}}", "condition": {"all": [{"field": "lead.source", "op": "eq", "value": "web"}]}}`,
		`{"name": "r", "trigger": "quote.sent", "workflow_id": "{{workflow}}", "priority": 5, "condition": {"any": [{"field": "quote.amount", "op": "gte", "value": 1000}, {"field": "lead.custom.roof", "op": "in", "value": ["tile", 1]}]}}`,
		`{"name": "r", "trigger": "quote.sent", "workflow_id": "{{workflow}}", "condition": {"field": "lead.nope", "op": "eq"}}`,
		`{"name": "r", "trigger": "quote.sent", "workflow_id": "00000000-0000-0000-0000-000000000000", "condition": {"all": []}}`)
}

// FuzzTenantPatch sends arbitrary changes to the caller's tenant. A
// refused change leaves the tenant as it was; an accepted one is what the
// tenant reads as afterwards.
func FuzzTenantPatch(f *testing.F) {
	for _, s := range []string{
		`{"name": "Acme 2", "timezone": "America/Sao_Paulo", "quiet_hours": {"start": "21:00", "end": "08:00"}, "holidays": ["2026-12-25"]}`,
		`{"quiet_hours": {"start": "24:00", "end": "8:00"}, "holidays": ["2026-02-30", "2026-12-25", "2026-12-25"]}`,
		`{"channels": {"email": {"provider": "smtp", "host": "smtp.acme.example", "port": 587, "tls": "starttls", "username": "u", "password": "p", "from": "Acme <quotes@acme.example>"}}}`,
		`{"channels": {"email": {"provider": "smtp", "host": "h", "port": 0, "tls": "ssl", "from": "a@[127.0.0.1]"}, "whatsapp": {"provider": "cloud_api"}}}`,
		`{"mode": "shadow"}`, `{"mode": "nope", "timezone": "Local"}`, `{"quiet_hours": null}`, `{"holidays": "x"}`,
	} {
		f.Add(s)
	}
	z := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, body string) {
		_, before := z.send(t, "GET", "/v1/tenant", "")
		status, out := z.send(t, "PATCH", "/v1/tenant", body)
		_, after := z.send(t, "GET", "/v1/tenant", "")
		if status >= 400 {
			if after["version"] != before["version"] {
				t.Fatalf("a refused change (%d) changed the tenant from version %v to %v", status, before["version"], after["version"])
			}
			return
		}
		if status != http.StatusOK || after["version"] != out["version"] {
			t.Fatalf("PATCH answered %d version %v, the tenant reads as version %v", status, out["version"], after["version"])
		}
		if a, b := mustJSON(t, out), mustJSON(t, after); !bytes.Equal(a, b) {
			t.Fatalf("PATCH answered %s, the tenant reads as %s", a, b)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzAuthorization sends arbitrary Authorization headers: every one but
// the tenant's key is a 401 problem with WWW-Authenticate, never a 5xx.
func FuzzAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer qf_", "Bearer qf_0190a0b0c0d07000800090a0b0c0d0e0_x", "bearer qf_zz_zz", "Basic YTpi", "Bearer " + strings.Repeat("a", 5000), "Bearer qf_{{key}}x"} {
		f.Add(s)
	}
	z := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, header string) {
		header = strings.ReplaceAll(header, "{{key}}", strings.TrimPrefix(z.key, "qf_"))
		for i := range len(header) {
			if c := header[i]; c < ' ' && c != '\t' || c == 0x7f {
				return // not a field value (RFC 9110 §5.5); no client can send it
			}
		}
		status, h, raw := z.do(t, "GET", "/v1/tenant", "", "", "Authorization", header)
		// The scheme's name is case-insensitive (RFC 9110 §11.1), as the
		// server reads it: "beArer <key>" is the key too.
		scheme, tok, _ := strings.Cut(strings.TrimSpace(header), " ")
		if strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) == z.key {
			return // the key itself, in some spelling
		}
		if status != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
			t.Fatalf("Authorization %q: %d %s", header, status, raw)
		}
		checkConformance(t, "GET", "/v1/tenant", status, h.Get("Content-Type"), raw)
	})
}

// FuzzInstantQuery sends arbitrary from and to instants to a listing that
// filters on them: an RFC 3339 instant is read (never a 5xx, and a 422
// only names query.from or query.to), and anything that is not one is a
// 422 naming its parameter.
func FuzzInstantQuery(f *testing.F) {
	for _, s := range [][2]string{{"2026-01-01T00:00:00Z", "2026-02-01T00:00:00+01:00"}, {"2026-01-01", "x"}, {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"},
		{"2026-01-01T24:00:00Z", "2026-01-01T00:00:00-23:59"}, {"2026-01-01t00:00:00z", ""}, {"-2026-01-01T00:00:00Z", "+2026-01-01T00:00:00Z"}} {
		f.Add(s[0], s[1])
	}
	z := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, from, to string) {
		q := url.Values{}
		if from != "" {
			q.Set("from", from)
		}
		if to != "" {
			q.Set("to", to)
		}
		status, out := z.send(t, "GET", "/v1/messages?"+q.Encode(), "")
		named := map[string]bool{}
		errs, _ := out["errors"].([]any)
		for _, e := range errs {
			loc, _ := e.(map[string]any)["location"].(string)
			named[loc] = true
		}
		for name, v := range map[string]string{"from": from, "to": to} {
			if v == "" {
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil && status < 400 {
				t.Fatalf("%s=%q is not RFC 3339 (%v) but the listing answered %d", name, v, err, status)
			}
		}
		if status == http.StatusUnprocessableEntity {
			for loc := range named {
				if loc != "query.from" && loc != "query.to" {
					t.Fatalf("from %q to %q: a 422 names %s", from, to, loc)
				}
			}
		}
	})
}
