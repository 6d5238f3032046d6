package app

import (
	"context"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// MaxShadowWindow is the longest window a shadow report covers: the
// retention of events (SPEC §3, 400 days).
const MaxShadowWindow = 400 * 24 * time.Hour

// shadowScanPage is how many events a shadow report reads per query.
const shadowScanPage = 200

// ShadowReport compares, over real trigger events, the legacy decision
// that was acted on with the engine's decision recorded beside it in
// shadow mode.
type ShadowReport struct {
	From, To time.Time
	// Triggers counts, for each of the five triggers, the events compared
	// and how many agreed; over the whole window whatever the page.
	Triggers []ShadowTriggerCount
	// Skipped counts the window's events that have no engine decision to
	// compare: made in legacy or engine mode, or duplicates.
	Skipped int
	// Disagreements is one page of the window's disagreeing events, oldest
	// first; NextCursor continues it ("" at the end).
	Disagreements []ShadowDisagreement
	NextCursor    string
}

// ShadowTriggerCount is one trigger's line of the report.
type ShadowTriggerCount struct {
	Trigger  engine.Trigger
	Events   int
	Agree    int
	Disagree int
}

// ShadowDisagreement is one event whose legacy and engine sides would send
// different messages.
type ShadowDisagreement struct {
	EventID   string
	LeadID    string
	QuoteID   string
	Trigger   engine.Trigger
	CreatedAt time.Time
	Legacy    ShadowSide
	Engine    ShadowSide
}

// ShadowSide is one side of an event: its decision and its messages.
type ShadowSide struct {
	Decision engine.Decision
	Messages []engine.Message
}

// ShadowReport builds the report of the events created in [from, to). A
// window that ends before it starts, or is longer than MaxShadowWindow, is
// EINVALID on the parameter at fault; so is a cursor no report gave.
//
// Two sides agree when they would send the lead the same messages: the
// same channels, recipients and rendered content, or the same suppression
// reasons, in any order. Timing is not compared (a workflow may wait on
// purpose). The legacy side is the event's own messages; the engine side
// is its shadow messages, or, when the engine's decision was itself the
// legacy fallback, the same legacy messages.
func (a *App) ShadowReport(ctx context.Context, tenantID string, from, to time.Time, p engine.Page) (*ShadowReport, error) {
	for i, t := range []time.Time{from, to} {
		if !engine.InstantInRange(t) {
			return nil, engine.Invalid([]string{"query.from", "query.to"}[i], engine.InstantRangeMessage)
		}
	}
	if !from.Before(to) {
		return nil, engine.Invalid("query.from", "must be before to")
	}
	if to.Sub(from) > MaxShadowWindow {
		return nil, engine.Invalid("query.to", "must be at most 400 days after from")
	}
	if err := checkCursor(p.After); err != nil {
		return nil, err
	}
	rep := &ShadowReport{From: from, To: to, Disagreements: []ShadowDisagreement{}}
	counts := map[engine.Trigger]*ShadowTriggerCount{}
	for _, t := range engine.Triggers {
		c := &ShadowTriggerCount{Trigger: t}
		counts[t] = c
	}
	limit := p.Size()
	err := a.db.ReadTx(ctx, func(tx *store.Tx) error {
		cursor := ""
		for {
			evs, next, err := tx.ListEvents(ctx, tenantID, engine.EventFilter{From: from, To: to}, engine.Page{Limit: shadowScanPage, After: cursor})
			if err != nil {
				return err
			}
			var ids []string
			for _, e := range evs {
				if e.Decision.Shadow != nil {
					ids = append(ids, e.ID)
				}
			}
			msgs, err := tx.ListEventMessages(ctx, tenantID, ids)
			if err != nil {
				return err
			}
			byEvent := map[string][]engine.Message{}
			for _, m := range msgs {
				byEvent[m.EventID] = append(byEvent[m.EventID], m)
			}
			for _, e := range evs {
				if e.Decision.Shadow == nil {
					rep.Skipped++
					continue
				}
				d := compareShadow(&e, byEvent[e.ID])
				c := counts[e.Trigger]
				if c == nil {
					continue
				}
				c.Events++
				if d == nil {
					c.Agree++
					continue
				}
				c.Disagree++
				if e.ID <= p.After {
					continue
				}
				if len(rep.Disagreements) < limit {
					rep.Disagreements = append(rep.Disagreements, *d)
				} else if rep.NextCursor == "" {
					rep.NextCursor = rep.Disagreements[limit-1].EventID
				}
			}
			if next == "" {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		return nil, err
	}
	for _, t := range engine.Triggers {
		rep.Triggers = append(rep.Triggers, *counts[t])
	}
	return rep, nil
}

// compareShadow returns the disagreement of one shadow-mode event, nil
// when both sides agree.
func compareShadow(e *engine.Event, msgs []engine.Message) *ShadowDisagreement {
	legacy, engineMsgs := []engine.Message{}, []engine.Message{}
	for _, m := range msgs {
		switch {
		case m.Status == engine.MsgShadow:
			engineMsgs = append(engineMsgs, m)
		case m.RunID == "" && m.FallbackOf == "":
			legacy = append(legacy, m)
		}
	}
	sd := e.Decision.Shadow
	if sd.Outcome == engine.OutcomeLegacy {
		// The engine would have fallen back to the legacy settings: the same
		// messages, rendered by the same code.
		engineMsgs = legacy
	}
	if sameMessages(plannedOf(legacy), plannedOf(engineMsgs)) {
		return nil
	}
	ld := e.Decision
	ld.Shadow = nil
	return &ShadowDisagreement{EventID: e.ID, LeadID: e.LeadID, QuoteID: e.QuoteID, Trigger: e.Trigger, CreatedAt: e.CreatedAt,
		Legacy: ShadowSide{Decision: ld, Messages: legacy}, Engine: ShadowSide{Decision: *sd, Messages: engineMsgs}}
}

// plannedOf puts stored messages in the form the comparison reads: a
// shadow message the engine would have suppressed says so in its reason.
func plannedOf(ms []engine.Message) []PlannedMessage {
	out := make([]PlannedMessage, len(ms))
	for i, m := range ms {
		pm := PlannedMessage{Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Body, HTML: m.HTML, Template: m.Template}
		switch {
		case m.Status == engine.MsgSuppressed:
			pm.Suppressed, pm.Reason, pm.To = true, m.Reason, ""
		case m.Status == engine.MsgShadow && strings.HasPrefix(m.Reason, "would be suppressed: "):
			pm.Suppressed, pm.Reason, pm.To = true, strings.TrimPrefix(m.Reason, "would be suppressed: "), ""
		}
		if pm.Suppressed {
			pm.Subject, pm.Text, pm.HTML, pm.Template = "", "", "", nil
		}
		out[i] = pm
	}
	return out
}
