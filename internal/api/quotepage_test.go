package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// browserAccept is what Chromium sends for a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// quotePageFixture is a tenant, a lead and one sent quote of it.
type quotePageFixture struct {
	*env
	key, quote, token, number string
}

// sentQuote makes a tenant in Europe/Lisbon, a lead with the fields given
// (first_name Joana unless given), and a quote of 1250 in currency, valid
// until validUntil, sent.
func sentQuote(t *testing.T, e *env, lead map[string]any, currency, validUntil string) *quotePageFixture {
	t.Helper()
	f := &quotePageFixture{env: e, key: e.tenant("Padaria Lusa", nil), number: quoteNumber()}
	body := map[string]any{"first_name": "Joana", "email": "joana@example.com"}
	for k, v := range lead {
		body[k] = v
	}
	leadID := str(e.must(201, "POST", "/v1/leads", f.key, body)["id"])
	q := map[string]any{"lead_id": leadID, "number": f.number, "amount": 1250.0, "currency": currency}
	if validUntil != "" {
		q["valid_until"] = validUntil
	}
	created := e.must(201, "POST", "/v1/quotes", f.key, q)
	f.quote, f.token = str(created["id"]), str(created["public_token"])
	e.must(200, "POST", "/v1/quotes/"+f.quote+"/send", f.key, nil)
	return f
}

// page gets the quote's page as a browser does.
func (f *quotePageFixture) page() response {
	f.t.Helper()
	r := f.call("GET", "/v1/public/quotes/"+f.token, "", nil, "Accept", browserAccept)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		f.t.Fatalf("the page: %d %s: %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	return r
}

// events returns the triggers of the quote's events, oldest first.
func (f *quotePageFixture) events() []string {
	f.t.Helper()
	var out []string
	for _, ev := range f.must(200, "GET", "/v1/events?quote_id="+f.quote, f.key, nil)["items"].([]any) {
		out = append(out, str(ev.(map[string]any)["trigger"]))
	}
	return out
}

func (f *quotePageFixture) status() string {
	f.t.Helper()
	return str(f.must(200, "GET", "/v1/quotes/"+f.quote, f.key, nil)["status"])
}

func TestQuotePageForBrowsersJSONForClients(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := sentQuote(t, e, nil, "EUR", "2030-03-05T15:00:00Z")
		page := f.page()
		html := string(page.Raw)
		for _, want := range []string{`<html lang="en">`, "Padaria Lusa", "Quote " + f.number, "€1,250.00", "5 March 2030",
			"Waiting for your answer", "Hello Joana,", `id="qp-accept"`, `id="qp-reject"`, `role="status"`} {
			if !strings.Contains(html, want) {
				t.Errorf("the page lacks %q:\n%s", want, html)
			}
		}
		if v := page.Header.Get("Vary"); !strings.Contains(v, "Accept") {
			t.Errorf("Vary %q: a cache would give a browser's page to a JSON client", v)
		}
		if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}

		want := map[string]any{"number": f.number, "amount": 1250.0, "currency": "EUR", "status": "sent",
			"valid_until": "2030-03-05T15:00:00Z", "company": "Padaria Lusa", "customer_name": "Joana"}
		for _, accept := range []string{"application/json", "", "*/*", "text/html, application/json", "application/json, text/html;q=0.9"} {
			r := f.call("GET", "/v1/public/quotes/"+f.token, "", nil, "Accept", accept)
			if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("Accept %q: %d %s", accept, r.Status, r.Header.Get("Content-Type"))
			}
			if fmt.Sprint(r.JSON) != fmt.Sprint(want) {
				t.Errorf("Accept %q: %v, want %v", accept, r.JSON, want)
			}
		}

		// Neither the page nor the JSON is a view: a mail scanner gets
		// both the same way.
		if got := f.events(); strings.Join(got, ",") != "quote.sent" || f.status() != "sent" {
			t.Fatalf("after the GETs: events %v, status %s", got, f.status())
		}
	})
}

func TestQuotePageViewIsRecordedOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := sentQuote(t, e, nil, "EUR", "")
		for range 2 {
			if got := f.must(200, "POST", "/v1/public/quotes/"+f.token+"/view", "", nil); got["status"] != "viewed" || got["number"] != f.number {
				t.Fatalf("view: %v", got)
			}
		}
		if got := f.events(); strings.Join(got, ",") != "quote.sent,quote.viewed" {
			t.Fatalf("events after two views: %v", got)
		}
		// A page open twice at once reports twice at once.
		g := sentQuote(t, e, nil, "EUR", "")
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = g.call("POST", "/v1/public/quotes/"+g.token+"/view", "", nil).Status
			})
		}
		wg.Wait()
		if got := g.events(); strings.Join(got, ",") != "quote.sent,quote.viewed" || fmt.Sprint(statuses) != "[200 200 200 200]" {
			t.Fatalf("concurrent views: %v, events %v", statuses, got)
		}
		// The page reports the view: after it, it shows the quote viewed,
		// still waiting for an answer, and reports nothing more.
		if html := string(g.page().Raw); !strings.Contains(html, `data-status="viewed"`) || !strings.Contains(html, `id="qp-accept"`) {
			t.Fatalf("the page of a viewed quote:\n%s", html)
		}

		draft := str(e.must(201, "POST", "/v1/quotes", f.key, map[string]any{"lead_id": e.must(200, "GET", "/v1/quotes/"+f.quote, f.key, nil)["lead_id"],
			"number": quoteNumber(), "amount": 1.0, "currency": "EUR"})["public_token"])
		if got := f.must(200, "POST", "/v1/public/quotes/"+draft+"/view", "", nil); got["status"] != "draft" {
			t.Fatalf("view of a draft: %v", got)
		}
		f.problem(f.call("POST", "/v1/public/quotes/qt_no-such-quote/view", "", nil), 404, "not-found")
	})
}

func TestQuotePageSpeaksTheLeadsLanguage(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			name     string
			lead     map[string]any
			currency string
			want     []string
		}{
			{"Portuguese in Brazil", map[string]any{"language": "pt", "country": "BR"}, "BRL",
				[]string{`<html lang="pt-BR">`, "Orçamento ", "R$\u00a01.250,00", "Válido até", "5 de março de 2030",
					"Aguardando a sua resposta", "Aceitar orçamento", "Recusar orçamento", "Motivo da recusa (opcional)", "Olá, Joana!"}},
			{"Portuguese in Portugal", map[string]any{"language": "pt-PT"}, "EUR",
				[]string{`<html lang="pt-PT">`, "1250,00\u00a0€", "A aguardar a sua resposta", "Aceitar orçamento"}},
			{"Spanish in Spain", map[string]any{"language": "es", "country": "ES"}, "EUR",
				[]string{`<html lang="es-ES">`, "Presupuesto ", "1250,00\u00a0€", "Válido hasta", "5 de marzo de 2030",
					"Pendiente de su respuesta", "Aceptar presupuesto", "Rechazar presupuesto"}},
			{"Spanish in Mexico", map[string]any{"language": "es-MX"}, "MXN",
				[]string{`<html lang="es-MX">`, "$1,250.00", "Aceptar presupuesto"}},
			{"English in the US", map[string]any{"language": "en", "country": "US"}, "USD",
				[]string{`<html lang="en-US">`, "$1,250.00", "March 5, 2030", "Accept quote"}},
			{"a language not in the catalogue", map[string]any{"language": "de", "country": "DE"}, "EUR",
				[]string{`<html lang="en">`, "€1,250.00", "5 March 2030", "Accept quote"}},
			// The lead's own zone: 01:30 UTC is the evening before there.
			{"the lead's time zone", map[string]any{"language": "pt", "country": "BR", "timezone": "America/Sao_Paulo"}, "BRL",
				[]string{"4 de março de 2030"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := &env{t: t, srv: e.srv, app: e.app}
				valid := "2030-03-05T15:00:00Z"
				if c.lead["timezone"] != nil {
					valid = "2030-03-05T01:30:00Z"
				}
				html := string(sentQuote(t, e, c.lead, c.currency, valid).page().Raw)
				for _, w := range c.want {
					if !strings.Contains(html, w) {
						t.Errorf("the page lacks %q:\n%s", w, html)
					}
				}
			})
		}
	})
}

// attrURL finds every attribute of the page that the browser resolves as
// an address, and the data-base its script requests from.
var attrURL = regexp.MustCompile(`(?i)\s(src|href|action|formaction|poster|data-base)\s*=\s*"([^"]*)"`)

// TestQuotePageLoadsNothingFromElsewhere: every address on the page is
// relative to it, its script and style sheet are served by the same
// server and name no other origin, and the Content-Security-Policy lets
// the browser load from this server only.
func TestQuotePageLoadsNothingFromElsewhere(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := sentQuote(t, e, nil, "EUR", "")
		page := f.page()
		html := string(page.Raw)
		if strings.Contains(html, "://") {
			t.Errorf("the page names an absolute address:\n%s", html)
		}
		pageURL, _ := url.Parse(e.srv.URL + "/v1/public/quotes/" + f.token)
		found := map[string]bool{}
		for _, m := range attrURL.FindAllStringSubmatch(html, -1) {
			ref := m[2]
			u, err := url.Parse(ref)
			if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "//") {
				t.Errorf("%s=%q is not an address on this server", m[1], ref)
				continue
			}
			found[m[1]] = true
			if m[1] == "data-base" {
				if got := pageURL.ResolveReference(u).Path; got != pageURL.Path {
					t.Errorf("the script requests from %s, not the page's own address %s", got, pageURL.Path)
				}
				continue
			}
			target := pageURL.ResolveReference(u)
			r := e.call("GET", target.RequestURI(), "", nil)
			if r.Status != 200 {
				t.Errorf("%s %s: %d", m[1], target.RequestURI(), r.Status)
				continue
			}
			// An SVG names its XML namespace, which nothing loads.
			body := strings.ReplaceAll(string(r.Raw), `xmlns="http://www.w3.org/2000/svg"`, "")
			if strings.Contains(body, "://") || strings.Contains(body, "@import") {
				t.Errorf("%s names an absolute address or imports", target.Path)
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("ETag") == "" {
				t.Errorf("%s headers %v", target.Path, r.Header)
			}
			if again := e.call("GET", target.RequestURI(), "", nil, "If-None-Match", r.Header.Get("ETag")); again.Status != http.StatusNotModified {
				t.Errorf("%s with its ETag: %d, want 304", target.Path, again.Status)
			}
		}
		if !found["src"] || !found["href"] || !found["data-base"] {
			t.Fatalf("found %v on the page, want its script, style sheet and base", found)
		}

		csp := page.Header.Get("Content-Security-Policy")
		directives := map[string]string{}
		for d := range strings.SplitSeq(csp, ";") {
			name, sources, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = sources
			for src := range strings.FieldsSeq(sources) {
				if src != "'self'" && src != "'none'" {
					t.Errorf("CSP %s allows %s", name, src)
				}
			}
		}
		if directives["default-src"] != "'none'" || directives["script-src"] != "'self'" || directives["connect-src"] != "'self'" ||
			directives["frame-ancestors"] != "'none'" {
			t.Errorf("CSP %q", csp)
		}
		if page.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("Referrer-Policy %q: the address holds the quote's token", page.Header.Get("Referrer-Policy"))
		}
		f.problem(e.call("GET", "/v1/public/assets/no-such-file.js", "", nil), 404, "not-found")
	})
}

func TestQuotePageAnswers(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		t.Run("accept through the public route, as the page's script does", func(t *testing.T) {
			f := sentQuote(t, &env{t: t, srv: e.srv, app: e.app}, nil, "EUR", "")
			// The page is shown, and reports the view: the quote is viewed,
			// and the page still offers the answers.
			f.page()
			f.must(200, "POST", "/v1/public/quotes/"+f.token+"/view", "", nil)
			if html := string(f.page().Raw); !strings.Contains(html, `id="qp-accept"`) || !strings.Contains(html, `data-status="viewed"`) {
				t.Fatalf("the page of a viewed quote:\n%s", html)
			}
			// A double click: the same Idempotency-Key twice.
			for range 2 {
				got := f.must(200, "POST", "/v1/public/quotes/"+f.token+"/accept", "", nil, "Idempotency-Key", "qp-0123456789abcdef", "Accept", "application/json")
				if got["status"] != "accepted" {
					t.Fatalf("accept: %v", got)
				}
			}
			if got := f.events(); strings.Join(got, ",") != "quote.sent,quote.viewed,quote.accepted" {
				t.Fatalf("events after a double click: %v", got)
			}
			html := string(f.page().Raw)
			if strings.Contains(html, `id="qp-accept"`) || strings.Contains(html, `id="qp-reject"`) ||
				!strings.Contains(html, "Thank you. You accepted this quote, and Padaria Lusa has been told.") || !strings.Contains(html, ">Accepted<") {
				t.Fatalf("the page of an accepted quote:\n%s", html)
			}
			// The page's script shows the route's problem for what can no
			// longer be done.
			f.problem(f.call("POST", "/v1/public/quotes/"+f.token+"/reject", "", map[string]any{"reason": "late"}), 409, "conflict")
		})
		t.Run("rejected, with the reason", func(t *testing.T) {
			f := sentQuote(t, &env{t: t, srv: e.srv, app: e.app}, map[string]any{"language": "es"}, "EUR", "")
			f.must(200, "POST", "/v1/public/quotes/"+f.token+"/reject", "", map[string]any{"reason": "Demasiado caro <b>"})
			html := string(f.page().Raw)
			if strings.Contains(html, `id="qp-accept"`) || !strings.Contains(html, "Ha rechazado este presupuesto") ||
				!strings.Contains(html, "Demasiado caro &lt;b&gt;") || !strings.Contains(html, ">Rechazado<") {
				t.Fatalf("the page of a rejected quote:\n%s", html)
			}
		})
		t.Run("expired", func(t *testing.T) {
			f := sentQuote(t, &env{t: t, srv: e.srv, app: e.app}, map[string]any{"language": "pt"}, "EUR", "")
			f.must(200, "POST", "/v1/quotes/"+f.quote+"/expire", f.key, nil)
			html := string(f.page().Raw)
			if strings.Contains(html, `id="qp-accept"`) || !strings.Contains(html, "Este orçamento expirou.") || !strings.Contains(html, ">Expirado<") {
				t.Fatalf("the page of an expired quote:\n%s", html)
			}
		})
		t.Run("a link to no quote", func(t *testing.T) {
			r := e.call("GET", "/v1/public/quotes/qt_no-such-quote", "", nil, "Accept", browserAccept, "Accept-Language", "es-ES,es;q=0.9")
			if r.Status != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(string(r.Raw), "Presupuesto no encontrado") || r.Header.Get("Content-Security-Policy") == "" {
				t.Fatalf("unknown token for a browser: %d %v\n%s", r.Status, r.Header, r.Raw)
			}
			e.problem(e.call("GET", "/v1/public/quotes/qt_no-such-quote", "", nil, "Accept", "application/json"), 404, "not-found")
		})
	})
}
