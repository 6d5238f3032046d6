package engine

import "time"

// Page asks for one page of a list. Lists are ordered by id, which is
// creation order (UUIDv7).
type Page struct {
	// Limit is the page size: DefaultPageLimit when 0 or less, at most
	// MaxPageLimit.
	Limit int
	// After is the cursor a previous page returned: only items after it.
	// Clients treat it as opaque; it is the last id of that page.
	After string
}

// Page size bounds.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Size is the page size asked for, within its bounds.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// QuoteFilter narrows a list of quotes; empty fields do not filter.
type QuoteFilter struct {
	LeadID string
	Status QuoteStatus
}

// EventFilter narrows a list of trigger events; empty fields do not filter.
// From and To bound created_at: From <= created_at < To, a zero bound is
// open.
type EventFilter struct {
	LeadID  string
	QuoteID string
	Trigger Trigger
	Outcome Outcome
	From    time.Time
	To      time.Time
	// NewestFirst lists the newest messages first; the default is oldest
	// first.
	NewestFirst bool
}

// RunFilter narrows a list of runs; empty fields do not filter.
type RunFilter struct {
	LeadID  string
	QuoteID string
	Status  RunStatus
	EventID string
}

// MessageFilter narrows a list of outbox messages; empty fields do not
// filter. From and To bound created_at: From <= created_at < To, a zero
// bound is open.
type MessageFilter struct {
	Status  MessageStatus
	Channel string
	Trigger Trigger
	LeadID  string
	QuoteID string
	RunID   string
	EventID string
	From    time.Time
	To      time.Time
	// NewestFirst lists the newest messages first; the default is oldest
	// first.
	NewestFirst bool
}

// IdempotentRequest is a request made with an Idempotency-Key and, once it
// has succeeded, its answer. StatusCode 0 means it is still in progress.
type IdempotentRequest struct {
	Method      string
	Path        string
	RequestHash string
	StatusCode  int
	Response    []byte
}
