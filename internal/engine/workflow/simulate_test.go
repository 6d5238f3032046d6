package workflow

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
)

// simWorkflow is the workflow of SPEC Appendix A: an email, a two-day wait,
// and a WhatsApp message for quotes of 1,000 or more with an email fallback.
func simWorkflow() *engine.Workflow {
	return &engine.Workflow{
		ID: "wf1", Name: "Follow-up", Trigger: engine.TriggerRejected, Enabled: true,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted},
		Steps: []engine.Step{
			{ID: "s1", Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "About quote {{ quote.number }}", Text: "Hi {{ lead.first_name }}"}},
			{ID: "s2", Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P2D"}},
			{ID: "s3", Type: engine.StepSendWhatsApp,
				When:            json.RawMessage(`{"all": [{"field": "quote.amount", "op": "gte", "value": 1000}]}`),
				WhatsApp:        &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"{{ lead.first_name }}", "{{ quote.number }}"}},
				FallbackChannel: "email",
				Email:           &engine.EmailContent{Subject: "Still thinking about {{ quote.number }}?", Text: "Hi {{ lead.first_name }}, ..."},
			},
		},
	}
}

func simContext(mod func(*engine.Context)) *engine.Context {
	ctx := &engine.Context{
		Tenant: &engine.Tenant{ID: "t1", Name: "Acme", Timezone: "Europe/Lisbon",
			QuietHours: &engine.QuietHours{Start: "21:00", End: "08:00"},
			Holidays:   []string{"2026-12-25"},
			Channels:   engine.Channels{Email: &engine.EmailChannel{Provider: "log"}, WhatsApp: &engine.WhatsAppChannel{Provider: "log"}},
		},
		Lead:  &engine.Lead{ID: "l1", FirstName: "Ana", Email: "ana@example.com", Phone: "+351912345678"},
		Quote: &engine.Quote{ID: "q1", Number: "Q-1001", AmountMinor: 125000, Currency: "EUR", Status: engine.QuoteRejected},
	}
	if mod != nil {
		mod(ctx)
	}
	return ctx
}

func TestSimulate(t *testing.T) {
	// Tuesday 22 December 2026, 22:30 in Lisbon (WET, UTC+0): quiet hours.
	start := schedUTC(2026, 12, 22, 22, 30)
	waitEnd := schedUTC(2026, 12, 24, 22, 30)

	email := PlannedStep{StepID: "s1", Position: 0, Type: engine.StepSendEmail, When: "true",
		At: schedUTC(2026, 12, 23, 8, 0), DeferredBy: engine.BlockedQuietHours,
		Channel: "email", To: "ana@example.com",
		Rendered: &tmpl.Rendered{Subject: "About quote Q-1001", Text: "Hi Ana"}}
	wait := PlannedStep{StepID: "s2", Position: 1, Type: engine.StepWait, When: "true", At: start, WaitUntil: &waitEnd}
	// The wait ends on the 24th at 22:30, in quiet hours that run into
	// Christmas: the message goes on the 26th when quiet hours end.
	fallback := PlannedStep{StepID: "s3", Position: 2, Type: engine.StepSendWhatsApp, When: "true",
		At: schedUTC(2026, 12, 26, 8, 0), DeferredBy: engine.BlockedQuietHours,
		Channel: "email", To: "ana@example.com", Reason: engine.ReasonWhatsAppNotOptedIn, Fallback: true,
		Rendered: &tmpl.Rendered{Subject: "Still thinking about Q-1001?", Text: "Hi Ana, ..."}}

	tests := []struct {
		name  string
		ctx   *engine.Context
		start time.Time
		want  []PlannedStep
	}{
		{"quiet hours, holiday and fallback", simContext(nil), start, []PlannedStep{email, wait, fallback}},
		{"whatsapp opted in", simContext(func(c *engine.Context) { c.Lead.WhatsAppOptIn = true }), start, []PlannedStep{email, wait, func() PlannedStep {
			p := fallback
			p.Channel, p.To, p.Reason, p.Fallback = "whatsapp", "+351912345678", "", false
			p.Rendered = &tmpl.Rendered{Template: &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"Ana", "Q-1001"}}}
			return p
		}()}},
		{"condition false", simContext(func(c *engine.Context) { c.Quote.AmountMinor = 50000 }), start, []PlannedStep{email, wait, {
			StepID: "s3", Position: 2, Type: engine.StepSendWhatsApp, When: "false", Skipped: true, Reason: engine.ReasonConditionFalse, At: waitEnd,
		}}},
		{"condition unknown", simContext(func(c *engine.Context) { c.Quote = nil }), start, []PlannedStep{func() PlannedStep {
			p := email
			p.Rendered = &tmpl.Rendered{Subject: "About quote", Text: "Hi Ana"}
			return p
		}(), wait, {
			StepID: "s3", Position: 2, Type: engine.StepSendWhatsApp, When: "unknown", Skipped: true, Reason: engine.ReasonConditionUnknown,
			MissingFields: []string{"quote.amount"}, At: waitEnd,
		}}},
		{"no consent anywhere", simContext(func(c *engine.Context) { c.Lead.EmailOptOut = true }), start, []PlannedStep{{
			StepID: "s1", Position: 0, Type: engine.StepSendEmail, When: "true", At: start,
			Channel: "email", Suppressed: true, Reason: engine.ReasonEmailOptOut,
			Rendered: email.Rendered,
		}, wait, {
			StepID: "s3", Position: 2, Type: engine.StepSendWhatsApp, When: "true", At: waitEnd,
			Channel: "whatsapp", Suppressed: true, Reason: engine.ReasonWhatsAppNotOptedIn, FallbackReason: engine.ReasonEmailOptOut,
			Rendered: &tmpl.Rendered{Template: &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"Ana", "Q-1001"}}},
		}}},
		{"lead's own timezone", simContext(func(c *engine.Context) { c.Lead.Timezone = "America/New_York" }), start, []PlannedStep{func() PlannedStep {
			p := email // 17:30 in New York: no quiet hours
			p.At, p.DeferredBy = start, ""
			return p
		}(), wait, func() PlannedStep {
			p := fallback // 17:30 on the 24th in New York; the 25th is a holiday there too
			p.At, p.DeferredBy = waitEnd, ""
			return p
		}()}},
		{"holiday blocks the turn", simContext(nil), schedUTC(2026, 12, 23, 12, 0), []PlannedStep{func() PlannedStep {
			p := email
			p.At, p.DeferredBy = schedUTC(2026, 12, 23, 12, 0), ""
			return p
		}(), func() PlannedStep {
			p := wait
			p.At = schedUTC(2026, 12, 23, 12, 0)
			p.WaitUntil = new(time.Time)
			*p.WaitUntil = schedUTC(2026, 12, 25, 12, 0)
			return p
		}(), func() PlannedStep {
			p := fallback
			p.DeferredBy = engine.BlockedHoliday
			return p
		}()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Simulate(simWorkflow(), tc.ctx, tc.start, testRenderer, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d steps, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if !g.At.Equal(w.At) {
					t.Errorf("step %d: At %v, want %v", i, g.At, w.At)
				}
				if (g.WaitUntil == nil) != (w.WaitUntil == nil) || g.WaitUntil != nil && !g.WaitUntil.Equal(*w.WaitUntil) {
					t.Errorf("step %d: WaitUntil %v, want %v", i, g.WaitUntil, w.WaitUntil)
				}
				g.At, w.At, g.WaitUntil, w.WaitUntil = time.Time{}, time.Time{}, nil, nil
				if !reflect.DeepEqual(g, w) {
					t.Errorf("step %d:\n got %+v %+v\nwant %+v %+v", i, g, g.Rendered, w, w.Rendered)
				}
			}
		})
	}
}

func TestSimulateDeferralDoesNotMoveTheClock(t *testing.T) {
	wf := &engine.Workflow{Steps: []engine.Step{
		{ID: "a", Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t"}},
		{ID: "b", Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "PT1H"}},
		{ID: "c", Type: engine.StepWait, When: json.RawMessage(`{"any": []}`), Wait: &engine.WaitSpec{Duration: "P10D"}},
		{ID: "d", Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t"}},
	}}
	ctx := simContext(nil)
	start := schedUTC(2026, 6, 10, 20, 30) // 21:30 in Lisbon (WEST)
	got, err := Simulate(wf, ctx, start, testRenderer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := schedUTC(2026, 6, 11, 7, 0); !got[0].At.Equal(want) {
		t.Errorf("a: %v, want %v", got[0].At, want)
	}
	if !got[1].At.Equal(start) || !got[1].WaitUntil.Equal(start.Add(time.Hour)) {
		t.Errorf("b: wait from %v until %v; the deferred send must not move the clock", got[1].At, got[1].WaitUntil)
	}
	if !got[2].Skipped || got[2].WaitUntil != nil || !got[2].At.Equal(start.Add(time.Hour)) {
		t.Errorf("c: a skipped wait must not move the clock: %+v", got[2])
	}
	if want := schedUTC(2026, 6, 11, 7, 0); !got[3].At.Equal(want) {
		t.Errorf("d: %v, want %v", got[3].At, want)
	}
}

func TestSimulateRenderError(t *testing.T) {
	wf := &engine.Workflow{Steps: []engine.Step{{ID: "a", Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "\n{{ lead.first_name | plus: 1 }}"}}}}
	got, err := Simulate(wf, simContext(nil), schedUTC(2026, 6, 10, 12, 0), testRenderer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Rendered != nil || !strings.Contains(got[0].RenderError, "email.text") {
		t.Errorf("render error not reported: %+v", got[0])
	}
}

func TestSimulateErrors(t *testing.T) {
	tests := []struct {
		name  string
		wf    *engine.Workflow
		field string
	}{
		{"bad duration", &engine.Workflow{Steps: []engine.Step{{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t"}}, {Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P1M"}}}}, "steps[1].wait.duration"},
		{"missing wait", &engine.Workflow{Steps: []engine.Step{{Type: engine.StepWait}}}, "steps[0].wait"},
		{"bad when", &engine.Workflow{Steps: []engine.Step{{Type: engine.StepSendEmail, When: json.RawMessage(`{"all": [{"field": "x"}]}`)}}}, "steps[0].when.all[0].field"},
		{"bad type", &engine.Workflow{Steps: []engine.Step{{Type: "send_sms"}}}, "steps[0].type"},
	}
	for _, tc := range tests {
		_, err := Simulate(tc.wf, simContext(nil), time.Time{}, testRenderer, nil)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != tc.field {
			t.Errorf("%s: %v, want EINVALID at %s", tc.name, err, tc.field)
		}
	}
	if _, err := Simulate(nil, nil, time.Time{}, testRenderer, nil); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("nil workflow: %v", err)
	}
	// A nil context simulates with nothing configured.
	got, err := Simulate(simWorkflow(), nil, schedUTC(2026, 6, 10, 12, 0), testRenderer, nil)
	if err != nil || len(got) != 3 || got[0].Reason != engine.ReasonNoEmailAddress || got[2].When != "unknown" {
		t.Errorf("nil context: %+v, %v", got, err)
	}
}

// testRenderer renders steps as the application does.
var testRenderer = tmpl.NewRenderer(engine.NewTimeZones())

func schedUTC(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}
