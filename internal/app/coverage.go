package app

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
	"github.com/quoteflow/quoteflow/internal/store"
)

// CoverageWindow is how far back GET /v1/coverage counts, per rule and
// field, the events that lacked a field the rule reads.
const CoverageWindow = 30 * 24 * time.Hour

// upTo is the end of a window that includes the instant now: events are
// stored to the microsecond, and one written at this very instant counts.
func upTo(now time.Time) time.Time { return now.Truncate(time.Microsecond).Add(time.Microsecond) }

// zeroTime is how the zero time.Time, which is a missing time to
// conditions, reads in an event's snapshot.
var zeroTime = func() string {
	b, _ := json.Marshal(time.Time{})
	return strings.Trim(string(b), `"`)
}()

// snapshot fields by condition path, as encoding/json writes them (the
// engine's Lead and Quote have no JSON tags): text fields, missing when
// empty.
var (
	leadText = map[string]string{"lead.id": "ID", "lead.first_name": "FirstName", "lead.last_name": "LastName",
		"lead.email": "Email", "lead.phone": "Phone", "lead.language": "Language", "lead.country": "Country",
		"lead.timezone": "Timezone", "lead.source": "Source", "lead.stage": "Stage", "lead.owner": "Owner"}
	quoteText = map[string]string{"quote.id": "ID", "quote.number": "Number", "quote.currency": "Currency",
		"quote.status": "Status", "quote.rejection_reason": "RejectionReason"}
)

// snapshotProbe says how to tell that an event's stored context (a
// snapshot, actions.go) lacked field, with the meaning conditions give
// "missing" (engine.Fields): an empty string, a zero time, an absent or
// null custom key, any quote field when there was no quote. ok is false
// for fields every event has: lists, booleans and the tenant's fields (the
// tenant is not in the snapshot, and its name and timezone are never
// empty).
func snapshotProbe(field string) (p store.FieldProbe, ok bool) {
	p.Field = field
	switch {
	case leadText[field] != "":
		p.Paths, p.Blank = [][]string{{"lead", leadText[field]}}, []string{""}
	case field == "lead.name":
		p.Paths, p.Blank = [][]string{{"lead", "FirstName"}, {"lead", "LastName"}}, []string{""}
	case field == "lead.created_at":
		p.Paths, p.Blank = [][]string{{"lead", "CreatedAt"}}, []string{"", zeroTime}
	case quoteText[field] != "":
		p.Paths, p.Blank = [][]string{{"quote", quoteText[field]}}, []string{""}
	case field == "quote.amount" || field == "quote.revision" || field == "quote.url":
		// Present whenever the quote is.
		p.Paths = [][]string{{"quote"}}
	case field == "quote.valid_until":
		p.Paths, p.Blank = [][]string{{"quote", "ValidUntil"}}, []string{"", zeroTime}
	case field == "quote.created_at":
		p.Paths, p.Blank = [][]string{{"quote", "CreatedAt"}}, []string{"", zeroTime}
	case strings.HasPrefix(field, engine.CustomPrefix):
		// An empty string or false is a value; only absent and null are
		// missing.
		p.Paths = [][]string{{"lead", "Custom", strings.TrimPrefix(field, engine.CustomPrefix)}}
	default:
		return p, false
	}
	return p, true
}

// probes returns the probes of fields, each once, leaving out those every
// event has.
func probes(fields []string) []store.FieldProbe {
	seen := map[string]bool{}
	var out []store.FieldProbe
	for _, f := range fields {
		if seen[f] {
			continue
		}
		seen[f] = true
		if p, ok := snapshotProbe(f); ok {
			out = append(out, p)
		}
	}
	return out
}

// triggerTotals sums field counts over the triggers a rule of trigger
// applies to (all of them for "*").
func triggerTotals(counts []store.FieldCounts, trigger string) (events int64, missing map[string]int64) {
	missing = map[string]int64{}
	for _, c := range counts {
		if trigger != engine.AnyTrigger && c.Trigger != trigger {
			continue
		}
		events += c.Events
		for f, n := range c.Missing {
			missing[f] += n
		}
	}
	return events, missing
}

// countRuleFields fills in, for each rule of rep, how many of the last 30
// days' events of its trigger lacked each field its condition reads.
func (a *App) countRuleFields(ctx context.Context, tenantID string, rep *resolver.CoverageReport, now time.Time) error {
	var fields []string
	for _, r := range rep.Rules {
		for _, f := range r.Fields {
			fields = append(fields, f.Field)
		}
	}
	from, to := now.Add(-CoverageWindow), upTo(now)
	counts, err := a.db.MissingFieldCounts(ctx, tenantID, store.Window{From: from, To: to}, probes(fields))
	if err != nil {
		return err
	}
	rep.FieldsFrom, rep.FieldsTo = &from, &now
	for i := range rep.Rules {
		r := &rep.Rules[i]
		events, missing := triggerTotals(counts, r.Trigger)
		r.Events = events
		for j := range r.Fields {
			f := &r.Fields[j]
			f.Missing = missing[f.Field]
			if events > 0 {
				f.MissingShare = float64(f.Missing) / float64(events)
			}
		}
	}
	return nil
}
