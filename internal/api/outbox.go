package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
)

type listEventsInput struct {
	PageParams
	LeadID  string `query:"lead_id"`
	QuoteID string `query:"quote_id"`
	Trigger string `query:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Outcome string `query:"outcome" enum:"workflow,legacy,suppressed,none"`
}

func (s *Server) listEvents(ctx context.Context, in *listEventsInput) (*body[List[EventOut]], error) {
	evs, next, err := s.app.ListEvents(ctx, principal(ctx).TenantID, engine.EventFilter{LeadID: in.LeadID, QuoteID: in.QuoteID,
		Trigger: engine.Trigger(in.Trigger), Outcome: engine.Outcome(in.Outcome)}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[EventOut]]{Body: listOf(evs, next, eventOut)}, nil
}

// EventPath names a trigger event.
type EventPath struct {
	EventID string `path:"event_id"`
}

// EventDetailOut is an event with the lead context it was decided on.
type EventDetailOut struct {
	EventOut
	Context json.RawMessage `json:"context"`
}

func (s *Server) getEvent(ctx context.Context, in *EventPath) (*body[EventDetailOut], error) {
	e, err := s.app.GetEvent(ctx, principal(ctx).TenantID, in.EventID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[EventDetailOut]{Body: EventDetailOut{EventOut: eventOut(e), Context: e.Context}}, nil
}

// RunStepOut is what one step of a run did.
type RunStepOut struct {
	StepID      string     `json:"step_id"`
	Position    int        `json:"position"`
	Type        string     `json:"type"`
	Status      string     `json:"status" enum:"scheduled,completed,skipped,cancelled,failed"`
	Outcome     string     `json:"outcome"`
	Detail      string     `json:"detail"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
}

// RunOut is a run, with its steps when read one at a time.
type RunOut struct {
	ID              string       `json:"id"`
	EventID         string       `json:"event_id"`
	LeadID          string       `json:"lead_id"`
	QuoteID         string       `json:"quote_id"`
	WorkflowID      string       `json:"workflow_id"`
	WorkflowVersion int64        `json:"workflow_version"`
	Trigger         string       `json:"trigger"`
	Status          string       `json:"status" enum:"active,completed,cancelled,failed"`
	Shadow          bool         `json:"shadow"`
	Reason          string       `json:"reason,omitempty"`
	CreatedAt       time.Time    `json:"created_at"`
	FinishedAt      *time.Time   `json:"finished_at,omitempty"`
	Steps           []RunStepOut `json:"steps,omitempty"`
}

func runOut(r *engine.Run) RunOut {
	return RunOut{ID: r.ID, EventID: r.EventID, LeadID: r.LeadID, QuoteID: r.QuoteID, WorkflowID: r.WorkflowID,
		WorkflowVersion: r.WorkflowVersion, Trigger: string(r.Trigger), Status: string(r.Status), Shadow: r.Shadow,
		Reason: r.Reason, CreatedAt: r.CreatedAt, FinishedAt: timePtr(r.FinishedAt)}
}

func runStepOut(rs *engine.RunStep) RunStepOut {
	return RunStepOut{StepID: rs.StepID, Position: rs.Position, Type: string(rs.Type), Status: string(rs.Status),
		Outcome: rs.Outcome, Detail: rs.Detail, ScheduledAt: timePtr(rs.ScheduledAt), FinishedAt: timePtr(rs.FinishedAt)}
}

type listRunsInput struct {
	PageParams
	LeadID  string `query:"lead_id"`
	QuoteID string `query:"quote_id"`
	Status  string `query:"status" enum:"active,completed,cancelled,failed"`
}

func (s *Server) listRuns(ctx context.Context, in *listRunsInput) (*body[List[RunOut]], error) {
	runs, next, err := s.app.ListRuns(ctx, principal(ctx).TenantID, engine.RunFilter{LeadID: in.LeadID, QuoteID: in.QuoteID,
		Status: engine.RunStatus(in.Status)}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[RunOut]]{Body: listOf(runs, next, runOut)}, nil
}

// RunPath names a run.
type RunPath struct {
	RunID string `path:"run_id"`
}

func (s *Server) runWithSteps(ctx context.Context, r *engine.Run) (RunOut, error) {
	steps, err := s.app.ListRunSteps(ctx, r.TenantID, r.ID)
	if err != nil {
		return runOut(r), err
	}
	return runStepsOut(r, steps), nil
}

func runStepsOut(r *engine.Run, steps []engine.RunStep) RunOut {
	out := runOut(r)
	out.Steps = make([]RunStepOut, len(steps))
	for i := range steps {
		out.Steps[i] = runStepOut(&steps[i])
	}
	return out
}

func (s *Server) getRun(ctx context.Context, in *RunPath) (*body[RunOut], error) {
	r, err := s.app.GetRun(ctx, principal(ctx).TenantID, in.RunID)
	return s.runBody(ctx, r, err)
}

func (s *Server) cancelRun(ctx context.Context, in *RunPath) (*body[RunOut], error) {
	out := func(rs *app.RunSteps) *body[RunOut] { return &body[RunOut]{Body: runStepsOut(rs.Run, rs.Steps)} }
	answerWith(ctx, out)
	rs, err := s.app.CancelRun(ctx, principal(ctx).TenantID, in.RunID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(rs), nil
}

// runBody answers with a run and its steps, or with the problem err is.
func (s *Server) runBody(ctx context.Context, r *engine.Run, err error) (*body[RunOut], error) {
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out, err := s.runWithSteps(ctx, r)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[RunOut]{Body: out}, nil
}

// MessageOut is an outbox message.
type MessageOut struct {
	ID                string                  `json:"id"`
	Status            string                  `json:"status" enum:"scheduled,queued,sending,sent,delivered,read,failed,unknown,suppressed,cancelled,shadow"`
	Channel           string                  `json:"channel" enum:"email,whatsapp"`
	Provider          string                  `json:"provider"`
	Trigger           string                  `json:"trigger"`
	LeadID            string                  `json:"lead_id"`
	QuoteID           string                  `json:"quote_id"`
	EventID           string                  `json:"event_id"`
	WorkflowID        string                  `json:"workflow_id,omitempty"`
	WorkflowVersion   int64                   `json:"workflow_version,omitempty"`
	RunID             string                  `json:"run_id,omitempty"`
	StepID            string                  `json:"step_id,omitempty"`
	To                string                  `json:"to"`
	Subject           string                  `json:"subject,omitempty"`
	Body              string                  `json:"body,omitempty"`
	HTML              string                  `json:"html,omitempty"`
	Template          *engine.WhatsAppContent `json:"template,omitempty"`
	Attempts          int                     `json:"attempts"`
	LastError         string                  `json:"last_error,omitempty"`
	ErrorClass        string                  `json:"error_class,omitempty"`
	Reason            string                  `json:"reason,omitempty"`
	ProviderMessageID string                  `json:"provider_message_id,omitempty"`
	FallbackOf        string                  `json:"fallback_of,omitempty"`
	ScheduledAt       *time.Time              `json:"scheduled_at,omitempty"`
	SentAt            *time.Time              `json:"sent_at,omitempty"`
	DeliveredAt       *time.Time              `json:"delivered_at,omitempty"`
	ReadAt            *time.Time              `json:"read_at,omitempty"`
	CreatedAt         time.Time               `json:"created_at"`
	UpdatedAt         time.Time               `json:"updated_at"`
}

func messageOut(m *engine.Message) MessageOut {
	return MessageOut{ID: m.ID, Status: string(m.Status), Channel: m.Channel, Provider: m.Provider, Trigger: string(m.Trigger),
		LeadID: m.LeadID, QuoteID: m.QuoteID, EventID: m.EventID, WorkflowID: m.WorkflowID, WorkflowVersion: m.WorkflowVersion,
		RunID: m.RunID, StepID: m.StepID, To: m.To, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Template: m.Template,
		Attempts: m.Attempts, LastError: m.LastError, ErrorClass: m.ErrorClass, Reason: m.Reason,
		ProviderMessageID: m.ProviderMessageID, FallbackOf: m.FallbackOf, ScheduledAt: timePtr(m.ScheduledAt),
		SentAt: timePtr(m.SentAt), DeliveredAt: timePtr(m.DeliveredAt), ReadAt: timePtr(m.ReadAt),
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

type listMessagesInput struct {
	PageParams
	Status  string    `query:"status" enum:"scheduled,queued,sending,sent,delivered,read,failed,unknown,suppressed,cancelled,shadow"`
	Channel string    `query:"channel" enum:"email,whatsapp"`
	Trigger string    `query:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	LeadID  string    `query:"lead_id"`
	QuoteID string    `query:"quote_id"`
	RunID   string    `query:"run_id"`
	From    time.Time `query:"from" doc:"Created at or after (RFC 3339)"`
	To      time.Time `query:"to" doc:"Created before (RFC 3339)"`
	Order   string    `query:"order" enum:"oldest,newest" default:"oldest" doc:"oldest: oldest first (by created_at, then id); newest: newest first"`
}

func (s *Server) listMessages(ctx context.Context, in *listMessagesInput) (*body[List[MessageOut]], error) {
	ms, next, err := s.app.ListMessages(ctx, principal(ctx).TenantID, engine.MessageFilter{Status: engine.MessageStatus(in.Status),
		Channel: in.Channel, Trigger: engine.Trigger(in.Trigger), LeadID: in.LeadID, QuoteID: in.QuoteID, RunID: in.RunID,
		From: in.From, To: in.To, NewestFirst: in.Order == "newest"}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[MessageOut]]{Body: listOf(ms, next, messageOut)}, nil
}

// MessagePath names an outbox message.
type MessagePath struct {
	MessageID string `path:"message_id"`
}

// AttemptOut is one delivery attempt.
type AttemptOut struct {
	Number            int        `json:"number"`
	Provider          string     `json:"provider"`
	StartedAt         time.Time  `json:"started_at"`
	FinishedAt        *time.Time `json:"finished_at,omitempty"`
	Outcome           string     `json:"outcome" doc:"sent, retry, failed or unknown; empty while in flight"`
	Error             string     `json:"error,omitempty"`
	ErrorClass        string     `json:"error_class,omitempty" enum:"transient,recipient,request,tenant,unknown"`
	ProviderMessageID string     `json:"provider_message_id,omitempty"`
	RetryAt           *time.Time `json:"retry_at,omitempty"`
}

// ReceiptOut is a provider's report on a message.
type ReceiptOut struct {
	Status            string    `json:"status"`
	ProviderTimestamp time.Time `json:"provider_timestamp"`
	ErrorCode         string    `json:"error_code,omitempty"`
	ErrorClass        string    `json:"error_class,omitempty"`
	ReceivedAt        time.Time `json:"received_at"`
}

// MessageDetailOut is a message with its attempts and receipts.
type MessageDetailOut struct {
	MessageOut
	AttemptList []AttemptOut `json:"attempt_list"`
	Receipts    []ReceiptOut `json:"receipts"`
}

func (s *Server) messageDetail(ctx context.Context, m *engine.Message) (MessageDetailOut, error) {
	out := MessageDetailOut{MessageOut: messageOut(m), AttemptList: []AttemptOut{}, Receipts: []ReceiptOut{}}
	atts, err := s.app.ListAttempts(ctx, m.TenantID, m.ID)
	if err != nil {
		return out, err
	}
	for _, a := range atts {
		out.AttemptList = append(out.AttemptList, AttemptOut{Number: a.Number, Provider: a.Provider, StartedAt: a.StartedAt,
			FinishedAt: timePtr(a.FinishedAt), Outcome: a.Outcome, Error: a.Error, ErrorClass: attemptClass(a.ErrorClass),
			ProviderMessageID: a.ProviderMessageID, RetryAt: timePtr(a.RetryAt)})
	}
	rs, err := s.app.ListReceipts(ctx, m.TenantID, m.ID)
	if err != nil {
		return out, err
	}
	for _, r := range rs {
		out.Receipts = append(out.Receipts, ReceiptOut{Status: r.Status, ProviderTimestamp: r.ProviderTimestamp,
			ErrorCode: r.ErrorCode, ErrorClass: r.ErrorClass, ReceivedAt: r.ReceivedAt})
	}
	return out, nil
}

func (s *Server) getMessage(ctx context.Context, in *MessagePath) (*body[MessageDetailOut], error) {
	m, err := s.app.GetMessage(ctx, principal(ctx).TenantID, in.MessageID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out, err := s.messageDetail(ctx, m)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[MessageDetailOut]{Body: out}, nil
}

func (s *Server) retryMessage(ctx context.Context, in *MessagePath) (*body[MessageOut], error) {
	answerWith(ctx, messageBody)
	m, err := s.app.RetryMessage(ctx, principal(ctx).TenantID, in.MessageID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return messageBody(m), nil
}

func (s *Server) cancelMessage(ctx context.Context, in *MessagePath) (*body[MessageOut], error) {
	answerWith(ctx, messageBody)
	m, err := s.app.CancelMessage(ctx, principal(ctx).TenantID, in.MessageID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return messageBody(m), nil
}

func messageBody(m *engine.Message) *body[MessageOut] { return &body[MessageOut]{Body: messageOut(m)} }

// CircuitOut is an open circuit: sends of the tenant through a provider
// are stopped after a credentials, policy or quality error, or after
// transient failures past the threshold.
type CircuitOut struct {
	Provider   string     `json:"provider"`
	Reason     string     `json:"reason"`
	ErrorCode  string     `json:"error_code"`
	OpenedAt   time.Time  `json:"opened_at"`
	Until      time.Time  `json:"until" doc:"When one message will probe the provider again"`
	State      string     `json:"state" enum:"open,half_open" doc:"open: nothing is sent until 'until'; half_open: 'until' has passed and one message at a time probes the provider"`
	Cause      string     `json:"cause" enum:"tenant,transient" doc:"tenant: the provider refused the tenant's account; transient: the provider failed transiently too often"`
	Opens      int        `json:"opens" doc:"Consecutive openings: 1, plus one for each probe that failed; the time open doubles with each"`
	ProbeUntil *time.Time `json:"probe_until,omitempty" doc:"While a probe is in flight: when its lease ends and another message may probe"`
}

func (s *Server) listCircuits(ctx context.Context, _ *struct{}) (*body[Items[CircuitOut]], error) {
	cs, err := s.app.ListCircuits(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	now := s.app.Now()
	return &body[Items[CircuitOut]]{Body: itemsOf(cs, func(c *engine.Circuit) CircuitOut {
		out := CircuitOut{Provider: c.Provider, Reason: c.Reason, ErrorCode: c.ErrorCode, OpenedAt: c.OpenedAt, Until: c.Until,
			State: string(c.StateAt(now)), Cause: c.Cause, Opens: c.Opens}
		if c.ProbeInFlight(now) {
			out.ProbeUntil = c.ProbeUntil
		}
		return out
	})}, nil
}

// CircuitPath names a provider's circuit.
type CircuitPath struct {
	Provider string `path:"provider" enum:"smtp,cloud_api,log"`
}

func (s *Server) closeCircuit(ctx context.Context, in *CircuitPath) (*struct{}, error) {
	if err := s.app.CloseCircuit(ctx, principal(ctx).TenantID, in.Provider); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return nil, nil
}

// TemplateOut is a WhatsApp message template of the tenant's business
// account.
type TemplateOut struct {
	Name           string `json:"name"`
	Language       string `json:"language"`
	Status         string `json:"status" doc:"APPROVED templates can be sent"`
	Category       string `json:"category"`
	BodyParameters int    `json:"body_parameters"`
}

type templatesInput struct {
	Fresh bool `query:"fresh" doc:"Sync from the business account now instead of using the list synced in the last minutes"`
}

func (s *Server) listTemplates(ctx context.Context, in *templatesInput) (*body[Items[TemplateOut]], error) {
	t, err := s.app.GetTenant(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	ts, ok, err := s.app.WhatsAppTemplates(ctx, t, in.Fresh)
	if err != nil {
		return nil, toProblem(ctx, s.log, engine.Errorf(engine.ECONFLICT, "could not list the templates of the WhatsApp business account: %v", err))
	}
	if !ok {
		return nil, toProblem(ctx, s.log, engine.Errorf(engine.ECONFLICT, "the tenant has no WhatsApp Cloud API account with a business_account_id"))
	}
	return &body[Items[TemplateOut]]{Body: itemsOf(ts, func(t *whatsapp.Template) TemplateOut {
		return TemplateOut{Name: t.Name, Language: t.Language, Status: t.Status, Category: t.Category, BodyParameters: t.BodyParameters}
	})}, nil
}

// attemptClass is an attempt's error class as v1 shows it. The attempt's
// error_class is a closed list in the released contract, which the window
// class (a free-form text outside the 24-hour window, issue 13) is not on:
// it shows as recipient, what it is to SPEC's classes (permanent for this
// recipient now, try the fallback); the message's error_class and reason
// (window, outside_window) and the attempt's error say which it was.
func attemptClass(c string) string {
	if c == string(channel.Window) {
		return string(channel.Recipient)
	}
	return c
}
