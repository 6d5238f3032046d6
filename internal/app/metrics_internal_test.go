package app

import (
	"slices"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// TestInFlightIsWhatIsNotFinal: the gauge's zero series are the statuses
// that still have delivery work, the same ones the store counts.
func TestInFlightIsWhatIsNotFinal(t *testing.T) {
	all := []engine.MessageStatus{engine.MsgScheduled, engine.MsgQueued, engine.MsgSending, engine.MsgSent,
		engine.MsgDelivered, engine.MsgRead, engine.MsgFailed, engine.MsgUnknown, engine.MsgSuppressed,
		engine.MsgCancelled, engine.MsgShadow}
	for _, st := range all {
		if got := slices.Contains(inFlight, st); got == st.Final() {
			t.Errorf("%s: in the gauge's statuses %v, final %v", st, got, st.Final())
		}
	}
}
