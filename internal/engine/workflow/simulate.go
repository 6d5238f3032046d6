package workflow

import (
	"fmt"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
)

// PlannedStep is one step of a dry run: when it would run, whether its
// condition holds, where it would go and what it would say.
type PlannedStep struct {
	StepID   string          `json:"step_id"`
	Position int             `json:"position"` // 0-based, as stored
	Type     engine.StepType `json:"type"`
	// At is when the step would run: for a wait, when it starts; for a
	// send, when the message would be delivered, after quiet hours and
	// holidays; for a skipped or suppressed send, when that is recorded.
	At time.Time `json:"at"`
	// When is the step's condition: "true" (or no condition), "false" or
	// "unknown"; MissingFields names what made it unknown.
	When          string   `json:"when"`
	MissingFields []string `json:"missing_fields,omitempty"`
	Skipped       bool     `json:"skipped"`
	// Channel, To, Suppressed, Reason, Fallback and FallbackReason are the
	// send's SendPlan. Reason is also set on a skipped step:
	// condition_false or condition_unknown.
	Channel        string `json:"channel,omitempty"`
	To             string `json:"to,omitempty"`
	Suppressed     bool   `json:"suppressed"`
	Reason         string `json:"reason,omitempty"`
	Fallback       bool   `json:"fallback"`
	FallbackReason string `json:"fallback_reason,omitempty"`
	// Text is set when a WhatsApp step would go as its free-form text
	// (the customer-service window still open at At), not its template.
	Text bool `json:"text,omitempty"`
	// DeferredBy says why At is later than the step's turn: quiet_hours or
	// holiday (what blocked that turn); empty when it is not deferred.
	DeferredBy string `json:"deferred_by,omitempty"`
	// Rendered is the content on Channel; RenderError is set instead when
	// a template fails on this lead's context.
	Rendered    *tmpl.Rendered `json:"rendered,omitempty"`
	RenderError string         `json:"render_error,omitempty"`
	// WaitUntil is when a wait step ends and the next step runs.
	WaitUntil *time.Time `json:"wait_until,omitempty"`
}

// Simulate is the dry run of w for the lead context ctx, starting at
// start; it writes nothing and reads no clock. It walks the steps in
// order with a clock that starts at start:
//
//   - A wait step moves the clock by its duration (WaitUntil).
//   - Any step whose when condition is false or unknown is skipped
//     (Reason condition_false or condition_unknown); a skipped wait does
//     not move the clock.
//   - A send step is planned with PlanSendAt against the tenant's channels
//     and the customer-service window in ctx (WhatsAppWindowEnd),
//     and rendered on the planned channel by r (also when it is
//     suppressed, so the author sees what it would have said). Its At is
//     NextAllowed(clock) in zones.Of(lead, tenant) under the tenant's quiet
//     hours and holidays, unless it is suppressed, which is recorded at
//     once. A deferred send does not move the clock: the run goes on to the
//     next step while the message waits in the outbox for its time, so a
//     later wait counts from the step's turn, not from the delivery.
//
// At and WaitUntil are in start's location. An email fallback after a later
// WhatsApp failure is not simulated. A step whose condition or duration
// does not parse (never the case for a saved workflow) is an EINVALID
// error with fields under steps[i].
func Simulate(w *engine.Workflow, ctx *engine.Context, start time.Time, r *tmpl.Renderer, zones *engine.TimeZones) ([]PlannedStep, error) {
	if w == nil {
		return nil, engine.Errorf(engine.EINVALID, "no workflow to simulate")
	}
	if ctx == nil {
		ctx = &engine.Context{}
	}
	var (
		loc      = zones.Of(ctx.Lead, ctx.Tenant)
		quiet    *engine.QuietHours
		holidays []string
		channels engine.Channels
	)
	if t := ctx.Tenant; t != nil {
		quiet, holidays, channels = t.QuietHours, t.Holidays, t.Channels
	}
	out := make([]PlannedStep, 0, len(w.Steps))
	clock := start
	for i := range w.Steps {
		step := &w.Steps[i]
		prefix := fmt.Sprintf("steps[%d]", i)
		ps := PlannedStep{StepID: step.ID, Position: i, Type: step.Type, At: clock}

		truth, missing, err := condition.EvalWhen(step, ctx)
		if err != nil {
			return nil, engine.PrefixFields(err, prefix)
		}
		ps.When = truth.String()
		if truth != condition.TruthTrue {
			ps.Skipped = true
			ps.MissingFields = missing
			ps.Reason = engine.ReasonConditionFalse
			if truth == condition.TruthUnknown {
				ps.Reason = engine.ReasonConditionUnknown
			}
			out = append(out, ps)
			continue
		}

		switch step.Type {
		case engine.StepWait:
			if step.Wait == nil {
				return nil, engine.Invalid(prefix+".wait", "is required for a wait step")
			}
			d, err := engine.ParseISODuration(step.Wait.Duration)
			if err != nil {
				return nil, engine.PrefixFields(err, prefix+".wait.duration")
			}
			clock = clock.Add(d)
			until := clock
			ps.WaitUntil = &until
		case engine.StepSendEmail, engine.StepSendWhatsApp:
			// The window is judged when the message would go, after quiet
			// hours and holidays: a reply's 24 hours may end meanwhile.
			plan := engine.PlanSendAt(step, ctx.Lead, channels, engine.NextAllowed(clock, loc, quiet, holidays), ctx.WhatsAppWindowEnd)
			ps.Channel, ps.To, ps.Suppressed = plan.Channel, plan.To, plan.Suppressed
			ps.Reason, ps.Fallback, ps.FallbackReason, ps.Text = plan.Reason, plan.Fallback, plan.FallbackReason, plan.Text
			if rendered, err := r.RenderStep(step, plan.Channel, ctx); err != nil {
				ps.RenderError = err.Error()
			} else {
				ps.Rendered = &rendered
			}
			if !plan.Suppressed {
				ps.At = engine.NextAllowed(clock, loc, quiet, holidays)
				if !ps.At.Equal(clock) {
					ps.DeferredBy = engine.BlockedBy(clock, loc, quiet, holidays)
				}
			}
		default:
			return nil, engine.Invalid(prefix+".type", "must be send_email, send_whatsapp or wait")
		}
		out = append(out, ps)
	}
	return out, nil
}
