package senders

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDefaultThrottlePaces: a registry given no throttle paces each phone
// number by itself, at Meta's default rate, rather than not at all. A wait
// that cannot be served within a millisecond is refused, so draining the
// bucket in a tight loop must meet a refusal long before the loop ends,
// however slowly the machine runs it (80 tokens a second return far slower
// than the loop spends them).
func TestDefaultThrottlePaces(t *testing.T) {
	t.Parallel()
	th := New(Options{}).opts.WhatsAppThrottle
	if th == nil {
		t.Fatal("no throttle")
	}
	for range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err := th.Wait(ctx, "106540352242922")
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("1000 sends went through at once: the default registry does not pace")
}
