package engine

// Quote transitions and message receipts: the two small state machines of
// SPEC §3.

// quoteTransitions lists, per action, the statuses a quote may be in for the
// action to be allowed. Sending again from sent or viewed re-sends the quote
// (and supersedes the earlier run); viewing again is allowed so that a
// customer who opens the link twice is no error, the caller deciding whether
// an action that leaves the status unchanged emits a trigger.
var quoteTransitions = map[Action][]QuoteStatus{
	ActionSend:   {QuoteDraft, QuoteSent, QuoteViewed},
	ActionView:   {QuoteSent, QuoteViewed},
	ActionAccept: {QuoteSent, QuoteViewed},
	ActionReject: {QuoteSent, QuoteViewed},
	ActionExpire: {QuoteSent, QuoteViewed},
}

// CheckTransition reports whether action a is allowed on a quote in status
// from. It returns nil when it is; an ECONFLICT *Error such as "a quote that
// is accepted cannot be sent" when the quote's status forbids it (including
// a status this version does not know); and an EINVALID *Error for an
// action that is not one of send, view, accept, reject and expire, which is
// a bad request rather than a conflict with stored state.
func CheckTransition(from QuoteStatus, a Action) error {
	allowed, ok := quoteTransitions[a]
	if !ok {
		return Errorf(EINVALID, "unknown quote action %q; use send, view, accept, reject or expire", string(a))
	}
	for _, s := range allowed {
		if s == from {
			return nil
		}
	}
	state := string(from)
	switch from {
	case QuoteDraft:
		state = "a draft"
	case "":
		state = "in no status"
	}
	return Errorf(ECONFLICT, "a quote that is %s cannot be %s", state, string(a.Status()))
}

// receiptRank orders the statuses a delivery receipt may move a message
// through. Statuses not listed (failed, cancelled, suppressed, shadow) are
// never moved by a sent, delivered or read receipt.
var receiptRank = map[MessageStatus]int{
	MsgScheduled: 0,
	MsgQueued:    0,
	MsgSending:   0,
	MsgUnknown:   0,
	MsgSent:      1,
	MsgDelivered: 2,
	MsgRead:      3,
}

// AdvanceByReceipt applies a provider receipt ("sent", "delivered", "read"
// or "failed", as WhatsApp status webhooks name them) to a message in
// status cur and returns its new status and whether it changed. Receipts
// only move a message forward, so out-of-order and repeated webhooks are
// safe:
//
//   - queued, sending, unknown and scheduled < sent < delivered < read. A
//     receipt moves a message to its status when that is further along;
//     otherwise it returns (cur, false). read implies delivered: a read
//     receipt on a sent message moves it straight to read, and the caller
//     stamps DeliveredAt too if it is unset.
//   - failed is final: a message that failed stays failed whatever comes
//     after. A failed receipt moves scheduled, queued, sending, unknown and
//     sent to failed (the receipt settles an unknown outcome; a receipt can
//     overtake the worker that is still recording the send).
//   - A failed receipt after delivered or read does not move the message
//     back: the customer's phone confirmed it, and a later failure (out of
//     order, or about something else) cannot un-deliver it. The receipt is
//     still recorded by the caller, and no fallback is triggered.
//   - cancelled, suppressed and shadow messages were never handed to the
//     provider by this system and never move.
//   - An unknown receipt status never moves anything.
//
// When a receipt moves a scheduled message (a retry pending after an
// unknown outcome), the caller cancels that retry.
func AdvanceByReceipt(cur MessageStatus, receipt string) (MessageStatus, bool) {
	curRank, movable := receiptRank[cur]
	if !movable {
		return cur, false
	}
	if receipt == string(MsgFailed) {
		if curRank <= receiptRank[MsgSent] {
			return MsgFailed, true
		}
		return cur, false
	}
	next := MessageStatus(receipt)
	switch next {
	case MsgSent, MsgDelivered, MsgRead:
	default:
		return cur, false
	}
	if receiptRank[next] > curRank {
		return next, true
	}
	return cur, false
}

// CancelledBy returns the events that cancel a run of w in flight (its
// exit_on): the quote statuses, each once, in lifecycle order, then
// ExitOnReplied (the lead's inbound message) when listed; never nil.
// Re-sending the quote also supersedes an active run of the same workflow
// for that quote (SPEC §3), whatever exit_on says; that is not listed here.
func CancelledBy(w *Workflow) []QuoteStatus {
	out := []QuoteStatus{}
	if w == nil {
		return out
	}
	for _, s := range append(QuoteStatuses[:len(QuoteStatuses):len(QuoteStatuses)], ExitOnReplied) {
		for _, x := range w.ExitOn {
			if x == s {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
