package engine

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// simWorkflow is the workflow of SPEC Appendix A: an email, a two-day wait,
// and a WhatsApp message for quotes of 1,000 or more with an email fallback.
func simWorkflow() *Workflow {
	return &Workflow{
		ID: "wf1", Name: "Follow-up", Trigger: TriggerRejected, Enabled: true,
		ExitOn: []QuoteStatus{QuoteAccepted},
		Steps: []Step{
			{ID: "s1", Type: StepSendEmail, Email: &EmailContent{Subject: "About quote {{ quote.number }}", Text: "Hi {{ lead.first_name }}"}},
			{ID: "s2", Type: StepWait, Wait: &WaitSpec{Duration: "P2D"}},
			{ID: "s3", Type: StepSendWhatsApp,
				When:            json.RawMessage(`{"all": [{"field": "quote.amount", "op": "gte", "value": 1000}]}`),
				WhatsApp:        &WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"{{ lead.first_name }}", "{{ quote.number }}"}},
				FallbackChannel: "email",
				Email:           &EmailContent{Subject: "Still thinking about {{ quote.number }}?", Text: "Hi {{ lead.first_name }}, ..."},
			},
		},
	}
}

func simContext(mod func(*Context)) *Context {
	ctx := &Context{
		Tenant: &Tenant{ID: "t1", Name: "Acme", Timezone: "Europe/Lisbon",
			QuietHours: &QuietHours{Start: "21:00", End: "08:00"},
			Holidays:   []string{"2026-12-25"},
			Channels:   Channels{Email: &EmailChannel{Provider: "log"}, WhatsApp: &WhatsAppChannel{Provider: "log"}},
		},
		Lead:  &Lead{ID: "l1", FirstName: "Ana", Email: "ana@example.com", Phone: "+351912345678"},
		Quote: &Quote{ID: "q1", Number: "Q-1001", AmountMinor: 125000, Currency: "EUR", Status: QuoteRejected},
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

	email := PlannedStep{StepID: "s1", Position: 0, Type: StepSendEmail, When: "true",
		At: schedUTC(2026, 12, 23, 8, 0), DeferredBy: BlockedQuietHours,
		Channel: "email", To: "ana@example.com",
		Rendered: &Rendered{Subject: "About quote Q-1001", Text: "Hi Ana"}}
	wait := PlannedStep{StepID: "s2", Position: 1, Type: StepWait, When: "true", At: start, WaitUntil: &waitEnd}
	// The wait ends on the 24th at 22:30, in quiet hours that run into
	// Christmas: the message goes on the 26th when quiet hours end.
	fallback := PlannedStep{StepID: "s3", Position: 2, Type: StepSendWhatsApp, When: "true",
		At: schedUTC(2026, 12, 26, 8, 0), DeferredBy: BlockedQuietHours,
		Channel: "email", To: "ana@example.com", Reason: ReasonWhatsAppNotOptedIn, Fallback: true,
		Rendered: &Rendered{Subject: "Still thinking about Q-1001?", Text: "Hi Ana, ..."}}

	tests := []struct {
		name  string
		ctx   *Context
		start time.Time
		want  []PlannedStep
	}{
		{"quiet hours, holiday and fallback", simContext(nil), start, []PlannedStep{email, wait, fallback}},
		{"whatsapp opted in", simContext(func(c *Context) { c.Lead.WhatsAppOptIn = true }), start, []PlannedStep{email, wait, func() PlannedStep {
			p := fallback
			p.Channel, p.To, p.Reason, p.Fallback = "whatsapp", "+351912345678", "", false
			p.Rendered = &Rendered{Template: &WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"Ana", "Q-1001"}}}
			return p
		}()}},
		{"condition false", simContext(func(c *Context) { c.Quote.AmountMinor = 50000 }), start, []PlannedStep{email, wait, {
			StepID: "s3", Position: 2, Type: StepSendWhatsApp, When: "false", Skipped: true, Reason: ReasonConditionFalse, At: waitEnd,
		}}},
		{"condition unknown", simContext(func(c *Context) { c.Quote = nil }), start, []PlannedStep{func() PlannedStep {
			p := email
			p.Rendered = &Rendered{Subject: "About quote", Text: "Hi Ana"}
			return p
		}(), wait, {
			StepID: "s3", Position: 2, Type: StepSendWhatsApp, When: "unknown", Skipped: true, Reason: ReasonConditionUnknown,
			MissingFields: []string{"quote.amount"}, At: waitEnd,
		}}},
		{"no consent anywhere", simContext(func(c *Context) { c.Lead.EmailOptOut = true }), start, []PlannedStep{{
			StepID: "s1", Position: 0, Type: StepSendEmail, When: "true", At: start,
			Channel: "email", Suppressed: true, Reason: ReasonEmailOptOut,
			Rendered: email.Rendered,
		}, wait, {
			StepID: "s3", Position: 2, Type: StepSendWhatsApp, When: "true", At: waitEnd,
			Channel: "whatsapp", Suppressed: true, Reason: ReasonWhatsAppNotOptedIn, FallbackReason: ReasonEmailOptOut,
			Rendered: &Rendered{Template: &WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"Ana", "Q-1001"}}},
		}}},
		{"lead's own timezone", simContext(func(c *Context) { c.Lead.Timezone = "America/New_York" }), start, []PlannedStep{func() PlannedStep {
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
			p.DeferredBy = BlockedHoliday
			return p
		}()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Simulate(simWorkflow(), tc.ctx, tc.start)
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
	wf := &Workflow{Steps: []Step{
		{ID: "a", Type: StepSendEmail, Email: &EmailContent{Subject: "s", Text: "t"}},
		{ID: "b", Type: StepWait, Wait: &WaitSpec{Duration: "PT1H"}},
		{ID: "c", Type: StepWait, When: json.RawMessage(`{"any": []}`), Wait: &WaitSpec{Duration: "P10D"}},
		{ID: "d", Type: StepSendEmail, Email: &EmailContent{Subject: "s", Text: "t"}},
	}}
	ctx := simContext(nil)
	start := schedUTC(2026, 6, 10, 20, 30) // 21:30 in Lisbon (WEST)
	got, err := Simulate(wf, ctx, start)
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
	wf := &Workflow{Steps: []Step{{ID: "a", Type: StepSendEmail, Email: &EmailContent{Subject: "s", Text: "\n{{ lead.first_name | plus: 1 }}"}}}}
	got, err := Simulate(wf, simContext(nil), schedUTC(2026, 6, 10, 12, 0))
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
		wf    *Workflow
		field string
	}{
		{"bad duration", &Workflow{Steps: []Step{{Type: StepSendEmail, Email: &EmailContent{Subject: "s", Text: "t"}}, {Type: StepWait, Wait: &WaitSpec{Duration: "P1M"}}}}, "steps[1].wait.duration"},
		{"missing wait", &Workflow{Steps: []Step{{Type: StepWait}}}, "steps[0].wait"},
		{"bad when", &Workflow{Steps: []Step{{Type: StepSendEmail, When: json.RawMessage(`{"all": [{"field": "x"}]}`)}}}, "steps[0].when.all[0].field"},
		{"bad type", &Workflow{Steps: []Step{{Type: "send_sms"}}}, "steps[0].type"},
	}
	for _, tc := range tests {
		_, err := Simulate(tc.wf, simContext(nil), time.Time{})
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != tc.field {
			t.Errorf("%s: %v, want EINVALID at %s", tc.name, err, tc.field)
		}
	}
	if _, err := Simulate(nil, nil, time.Time{}); ErrorCode(err) != EINVALID {
		t.Errorf("nil workflow: %v", err)
	}
	// A nil context simulates with nothing configured.
	got, err := Simulate(simWorkflow(), nil, schedUTC(2026, 6, 10, 12, 0))
	if err != nil || len(got) != 3 || got[0].Reason != ReasonNoEmailAddress || got[2].When != "unknown" {
		t.Errorf("nil context: %+v, %v", got, err)
	}
}
