package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestCheckTransition(t *testing.T) {
	// allowed[action] is the set of statuses it is allowed from; every
	// other pair of QuoteStatuses × actions must be a conflict.
	allowed := map[Action]string{
		ActionSend:   "draft sent viewed",
		ActionView:   "sent viewed",
		ActionAccept: "sent viewed",
		ActionReject: "sent viewed",
		ActionExpire: "sent viewed",
	}
	actions := []Action{ActionSend, ActionView, ActionAccept, ActionReject, ActionExpire}
	statuses := append(append([]QuoteStatus{}, QuoteStatuses...), "", "archived")
	for _, a := range actions {
		ok := map[QuoteStatus]bool{}
		for _, s := range strings.Fields(allowed[a]) {
			ok[QuoteStatus(s)] = true
		}
		for _, from := range statuses {
			err := CheckTransition(from, a)
			if ok[from] {
				if err != nil {
					t.Errorf("%s from %q: %v, want allowed", a, from, err)
				}
				continue
			}
			if ErrorCode(err) != ECONFLICT {
				t.Errorf("%s from %q: %v (%s), want ECONFLICT", a, from, err, ErrorCode(err))
			}
		}
	}

	msgs := []struct {
		from QuoteStatus
		a    Action
		want string
	}{
		{QuoteAccepted, ActionSend, "a quote that is accepted cannot be sent"},
		{QuoteRejected, ActionAccept, "a quote that is rejected cannot be accepted"},
		{QuoteExpired, ActionView, "a quote that is expired cannot be viewed"},
		{QuoteDraft, ActionAccept, "a quote that is a draft cannot be accepted"},
		{QuoteAccepted, ActionExpire, "a quote that is accepted cannot be expired"},
		{"", ActionView, "a quote that is in no status cannot be viewed"},
	}
	for _, m := range msgs {
		if err := CheckTransition(m.from, m.a); err == nil || err.Error() != m.want {
			t.Errorf("CheckTransition(%q, %s) = %v, want %q", m.from, m.a, err, m.want)
		}
	}

	if err := CheckTransition(QuoteSent, "archive"); ErrorCode(err) != EINVALID {
		t.Errorf("unknown action: %v, want EINVALID", err)
	}
}

func TestAdvanceByReceipt(t *testing.T) {
	// want[cur] lists the result of the receipts sent, delivered, read,
	// failed and a bogus one; "-" means unchanged.
	receipts := []string{"sent", "delivered", "read", "failed", "bounced"}
	want := map[MessageStatus][5]MessageStatus{
		MsgScheduled:  {MsgSent, MsgDelivered, MsgRead, MsgFailed, "-"},
		MsgQueued:     {MsgSent, MsgDelivered, MsgRead, MsgFailed, "-"},
		MsgSending:    {MsgSent, MsgDelivered, MsgRead, MsgFailed, "-"},
		MsgUnknown:    {MsgSent, MsgDelivered, MsgRead, MsgFailed, "-"},
		MsgSent:       {"-", MsgDelivered, MsgRead, MsgFailed, "-"},
		MsgDelivered:  {"-", "-", MsgRead, "-", "-"},
		MsgRead:       {"-", "-", "-", "-", "-"},
		MsgFailed:     {"-", "-", "-", "-", "-"},
		MsgCancelled:  {"-", "-", "-", "-", "-"},
		MsgSuppressed: {"-", "-", "-", "-", "-"},
		MsgShadow:     {"-", "-", "-", "-", "-"},
	}
	all := MessageStatuses
	if len(all) != len(want) {
		t.Fatalf("table covers %d statuses, want %d", len(want), len(all))
	}
	for _, cur := range all {
		row, ok := want[cur]
		if !ok {
			t.Fatalf("no row for %s", cur)
		}
		for i, r := range receipts {
			t.Run(fmt.Sprintf("%s+%s", cur, r), func(t *testing.T) {
				exp, expMoved := row[i], true
				if exp == "-" {
					exp, expMoved = cur, false
				}
				got, moved := AdvanceByReceipt(cur, r)
				if got != exp || moved != expMoved {
					t.Errorf("AdvanceByReceipt(%s, %s) = %s, %v; want %s, %v", cur, r, got, moved, exp, expMoved)
				}
				// Applying the same receipt again never moves it further.
				if again, moved := AdvanceByReceipt(got, r); again != got || moved {
					t.Errorf("repeated %s receipt moved %s to %s", r, got, again)
				}
			})
		}
	}
}

// TestAdvanceByReceiptOrderIndependent applies sent, delivered and read in
// every order: a message always ends read, however the webhooks arrive.
func TestAdvanceByReceiptOrderIndependent(t *testing.T) {
	perms := [][]string{}
	var permute func(prefix, rest []string)
	permute = func(prefix, rest []string) {
		if len(rest) == 0 {
			perms = append(perms, append([]string(nil), prefix...))
			return
		}
		for i := range rest {
			next := append(append([]string(nil), rest[:i]...), rest[i+1:]...)
			permute(append(prefix, rest[i]), next)
		}
	}
	permute(nil, []string{"sent", "delivered", "read"})
	for _, p := range perms {
		cur := MsgSending
		for _, r := range p {
			cur, _ = AdvanceByReceipt(cur, r)
		}
		if cur != MsgRead {
			t.Errorf("%v ends in %s, want read", p, cur)
		}
	}
}

func TestCancelledBy(t *testing.T) {
	tests := []struct {
		exit []QuoteStatus
		want []QuoteStatus
	}{
		{nil, []QuoteStatus{}},
		{[]QuoteStatus{QuoteAccepted}, []QuoteStatus{QuoteAccepted}},
		{[]QuoteStatus{QuoteExpired, QuoteAccepted, QuoteRejected, QuoteAccepted}, []QuoteStatus{QuoteAccepted, QuoteRejected, QuoteExpired}},
		{[]QuoteStatus{"bogus", QuoteViewed}, []QuoteStatus{QuoteViewed}},
	}
	for _, tc := range tests {
		if got := CancelledBy(&Workflow{ExitOn: tc.exit}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CancelledBy(%v) = %v, want %v", tc.exit, got, tc.want)
		}
	}
	if got := CancelledBy(nil); got == nil || len(got) != 0 {
		t.Errorf("CancelledBy(nil) = %#v", got)
	}
}
