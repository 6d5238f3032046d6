package api_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// scrape is one parsed answer of /metrics.
type scrape map[string]*dto.MetricFamily

func (o *observedEnv) scrape() scrape {
	o.t.Helper()
	res, err := http.Get(o.srv.URL + "/metrics")
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		raw, _ := io.ReadAll(res.Body)
		o.t.Fatalf("/metrics: %d %s", res.StatusCode, raw)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		o.t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value returns the value of the series of name whose labels include
// labels ("k=v" pairs), summed over the series that match; for a
// histogram, its count. found is false when no series matches.
func (s scrape) value(name string, labels ...string) (v float64, found bool) {
	fam := s[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range labels {
			k, want, _ := strings.Cut(kv, "=")
			if have[k] != want {
				match = false
			}
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
	}
	return v, found
}

// series lists the label sets of name, for failure messages.
func (s scrape) series(name string) string {
	fam := s[name]
	if fam == nil {
		return "(none)"
	}
	var out []string
	for _, m := range fam.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		val := ""
		switch {
		case m.Counter != nil:
			val = fmt.Sprint(m.Counter.GetValue())
		case m.Gauge != nil:
			val = fmt.Sprint(m.Gauge.GetValue())
		case m.Histogram != nil:
			val = fmt.Sprint(m.Histogram.GetSampleCount())
		}
		out = append(out, "{"+strings.Join(ls, ",")+"} "+val)
	}
	sort.Strings(out)
	return strings.Join(out, "\n  ")
}

func (o *observedEnv) wantMetric(s scrape, want float64, name string, labels ...string) {
	o.t.Helper()
	if got, _ := s.value(name, labels...); got != want {
		o.t.Errorf("%s%v = %v, want %v; series:\n  %s", name, labels, got, want, s.series(name))
	}
}

// TestMetricsAfterAKnownHistory scrapes /metrics of a running server after
// a history whose every count is known and compares each figure.
func TestMetricsAfterAKnownHistory(t *testing.T) {
	forEachObservedDB(t, func(t *testing.T, o *observedEnv) {
		c := newWACase(t, o.execEnv)
		// 1. quote.sent: WhatsApp rate-limits once, then takes it.
		c.wa.Script(c.phone, whatsapptest.Fail(130429, whatsapptest.WithRetryAfter(1)), whatsapptest.OK())
		q1 := c.send()
		ms := c.settled(c.key, "quote_id="+q1)
		if len(ms) != 1 || ms[0]["status"] != "sent" {
			t.Fatalf("first quote's messages %v", ms)
		}
		// 2. Its delivery receipt.
		var req whatsapptest.Request
		for _, r := range c.wa.Requests() {
			if strings.HasSuffix(c.phone, r.Body.To) && r.HTTPStatus == 200 {
				req = r
			}
		}
		body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret, req.Receipt("delivered"))
		c.must(200, "POST", "/v1/webhooks/whatsapp/"+c.tenantID, "", string(body), "X-Hub-Signature-256", sig)
		// 3. A second quote.sent whose send hits an expired access token:
		// the message fails and the tenant's cloud_api circuit opens.
		c.wa.Script(c.phone, whatsapptest.Fail(190))
		q2 := c.send()
		ms = c.settled(c.key, "quote_id="+q2)
		if len(ms) != 1 || ms[0]["status"] != "failed" || ms[0]["error_class"] != "tenant" {
			t.Fatalf("second quote's messages %v", ms)
		}
		// 4. The customer views the first quote: no rule, decision none.
		viewed := c.must(200, "POST", "/v1/quotes/"+q1+"/view", c.key, nil)
		dec, _ := viewed["decision"].(map[string]any)
		if dec == nil {
			dec, _ = viewed["event"].(map[string]any)["decision"].(map[string]any)
		}
		noneReason := str(dec["reason"])
		if dec["outcome"] != "none" || noneReason == "" {
			t.Fatalf("view decision %v", viewed)
		}
		// 5. quote.accepted runs a workflow that first waits two days: its
		// second step is a scheduled job.
		wait := str(c.must(201, "POST", "/v1/workflows", c.key, map[string]any{"name": "Thanks later", "trigger": "quote.accepted",
			"steps": []any{map[string]any{"type": "wait", "wait": map[string]any{"duration": "P2D"}},
				map[string]any{"type": "send_email", "email": map[string]any{"subject": "Thanks", "text": "Thanks {{ lead.first_name }}"}}}})["id"])
		c.rule(c.key, "quote.accepted", wait, true)
		c.must(200, "POST", "/v1/quotes/"+q1+"/accept", c.key, nil)
		var s scrape
		eventually(t, "the accepted quote's second step is scheduled", func() (bool, string) {
			s = o.scrape()
			v, _ := s.value("quoteflow_queue_jobs", "kind=run_step", "state=scheduled")
			return v == 1, s.series("quoteflow_queue_jobs")
		})

		wa := []string{"trigger=quote.sent", "channel=whatsapp", "provider=cloud_api"}
		o.wantMetric(s, 1, "quoteflow_attempts_total", append(wa, "outcome=retry", "error_class=transient")...)
		o.wantMetric(s, 1, "quoteflow_attempts_total", append(wa, "outcome=sent", "error_class=")...)
		o.wantMetric(s, 1, "quoteflow_attempts_total", append(wa, "outcome=failed", "error_class=tenant")...)
		o.wantMetric(s, 3, "quoteflow_attempts_total")
		o.wantMetric(s, 2, "quoteflow_decisions_total", "trigger=quote.sent", "outcome=workflow", "reason=rule_matched")
		o.wantMetric(s, 1, "quoteflow_decisions_total", "trigger=quote.viewed", "outcome=none", "reason="+noneReason)
		o.wantMetric(s, 1, "quoteflow_decisions_total", "trigger=quote.accepted", "outcome=workflow", "reason=rule_matched")
		o.wantMetric(s, 4, "quoteflow_decisions_total")
		// Every message has settled: none is in flight, and the gauge says
		// so with a zero rather than no series.
		o.wantMetric(s, 0, "quoteflow_messages")
		if _, found := s.value("quoteflow_messages", "trigger=quote.sent", "channel=whatsapp", "status=scheduled"); !found {
			t.Errorf("quoteflow_messages has no zero series for an empty outbox: %s", s.series("quoteflow_messages"))
		}
		o.wantMetric(s, 1, "quoteflow_event_to_sent_seconds", "trigger=quote.sent", "channel=whatsapp")
		o.wantMetric(s, 1, "quoteflow_sent_to_delivered_seconds", "channel=whatsapp")
		o.wantMetric(s, 1, "quoteflow_circuits_open", "provider=cloud_api")
		o.wantMetric(s, 0, "quoteflow_circuits_open", "provider=smtp")
		o.wantMetric(s, 0, "quoteflow_queue_oldest_due_seconds", "kind=run_step")
		o.wantMetric(s, 2, "quoteflow_http_requests_total", "method=POST", "route=/v1/quotes/{quote_id}/send", "status=200")
		o.wantMetric(s, 1, "quoteflow_http_requests_total", "method=POST", "route=/v1/webhooks/whatsapp/{tenant_id}", "status=200")

		// 6. A third quote.sent meets the open circuit: its message waits,
		// scheduled, and is the one message in flight.
		q3 := c.send()
		eventually(t, "the third quote's message waits on the circuit", func() (bool, string) {
			ms := c.messages(c.key, "quote_id="+q3)
			return len(ms) == 1 && ms[0]["status"] == "scheduled", fmt.Sprint(statuses(ms))
		})
		s = o.scrape()
		o.wantMetric(s, 1, "quoteflow_messages", "trigger=quote.sent", "channel=whatsapp", "status=scheduled")
		o.wantMetric(s, 1, "quoteflow_messages")

		// Every query of the Grafana dashboard names a series that exists.
		checkDashboard(t, s)

		// No series names a tenant, lead, quote or message, nor a raw path.
		for name, fam := range s {
			for _, m := range fam.Metric {
				for _, l := range m.Label {
					v := l.GetValue()
					if strings.Contains(v, c.tenantID) || strings.Contains(v, c.lead) || strings.Contains(v, q1) ||
						strings.Contains(v, str(ms[0]["id"])) {
						t.Errorf("%s has an id in label %s=%q", name, l.GetName(), v)
					}
					if l.GetName() == "tenant_id" || l.GetName() == "lead_id" {
						t.Errorf("%s has a %s label", name, l.GetName())
					}
				}
			}
		}
	})
}
