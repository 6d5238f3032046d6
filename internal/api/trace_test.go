package api_test

import (
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// TestOneTraceFromActionToDelivery follows a quote action whose WhatsApp
// send is rate-limited once and delivered by a retry job: the HTTP span,
// the action's transaction, the step job and the delivery job are all in
// one trace, each job's span a child of the span that enqueued it.
func TestOneTraceFromActionToDelivery(t *testing.T) {
	forEachObservedDB(t, func(t *testing.T, o *observedEnv) {
		c := newWACase(t, o.execEnv)
		c.wa.Script(c.phone, whatsapptest.Fail(130429, whatsapptest.WithRetryAfter(1)), whatsapptest.OK())
		q := c.send()
		ms := c.settled(c.key, "quote_id="+q)
		if len(ms) != 1 || ms[0]["status"] != "sent" || ms[0]["attempts"].(float64) != 2 {
			t.Fatalf("messages %v", ms)
		}
		const (
			httpSpan = "POST /v1/quotes/{quote_id}/send"
			action   = "app.QuoteAction"
			stepJob  = "river.work/run_step"
			retryJob = "river.work/deliver"
		)
		find := func(spans tracetest.SpanStubs, name string) *tracetest.SpanStub {
			for i := range spans {
				if spans[i].Name == name {
					return &spans[i]
				}
			}
			return nil
		}
		var spans tracetest.SpanStubs
		// A job's span ends after the job's last commit, which settled saw.
		eventually(t, "the spans end", func() (bool, string) {
			spans = o.spans.GetSpans()
			for _, n := range []string{httpSpan, action, stepJob, retryJob} {
				if find(spans, n) == nil {
					var names []string
					for _, s := range spans {
						names = append(names, s.Name)
					}
					return false, fmt.Sprintf("no %s among %s", n, strings.Join(names, ", "))
				}
			}
			return true, ""
		})
		root := find(spans, httpSpan)
		trace := root.SpanContext.TraceID()
		for _, n := range []string{action, stepJob, retryJob, "app.RunStep", "app.Deliver", "app.send"} {
			s := find(spans, n)
			if s == nil {
				t.Errorf("no %s span", n)
				continue
			}
			if s.SpanContext.TraceID() != trace {
				t.Errorf("%s is in trace %s, the request's is %s", n, s.SpanContext.TraceID(), trace)
			}
		}
		if got := find(spans, action).Parent.SpanID(); got != root.SpanContext.SpanID() {
			t.Errorf("the action's span is not the request's child")
		}
		// Each job's work hangs under a span of the trace, not a new root.
		byID := map[string]string{}
		for _, s := range spans {
			byID[s.SpanContext.SpanID().String()] = s.Name
		}
		for _, n := range []string{stepJob, retryJob} {
			if p := find(spans, n).Parent; !p.IsValid() || byID[p.SpanID().String()] == "" {
				t.Errorf("%s has no parent among the trace's spans (parent %v)", n, p.SpanID())
			}
		}
		if a := find(spans, action); a.Attributes == nil {
			t.Errorf("the action's span has no attributes")
		}
	})
}
