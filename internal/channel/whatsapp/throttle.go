package whatsapp

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Meta's default throughput for a Cloud API business phone number is 80
// messages per second (higher tiers exist on request; coexistence numbers get
// 20). Going over it earns error 130429, which is Transient but costs an
// attempt, so Send paces itself below the limit instead.
const (
	DefaultPerSecond = 80
	// DefaultBurst is small so that a backlog drains at the steady rate
	// rather than as a spike that Meta would count against the same second.
	DefaultBurst = 10
)

// defaultThrottle is shared by every Sender built without its own Throttle:
// Senders are cheap and may be built per send, but the limit belongs to the
// phone number, so the buckets must outlive them. It is per process; several
// quoteflow processes sharing a number each pace at this rate, and Meta's
// 130429 (Transient) catches the excess.
var defaultThrottle = NewThrottle(DefaultPerSecond, DefaultBurst)

// Throttle is a token bucket per WhatsApp phone number id. It is safe for
// concurrent use.
type Throttle struct {
	rate  float64 // tokens per second; <= 0 means unlimited
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time // tests replace it to make arithmetic deterministic
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewThrottle returns a Throttle that lets each phone number id send
// perSecond messages per second on average, and up to burst at once after a
// quiet spell. perSecond <= 0 disables throttling (benchmarks, fakes); burst
// below 1 is taken as 1.
func NewThrottle(perSecond float64, burst int) *Throttle {
	return &Throttle{
		rate:    perSecond,
		burst:   math.Max(1, float64(burst)),
		buckets: make(map[string]*bucket),
		now:     time.Now,
	}
}

// Wait blocks until key (a phone number id) may send one message, or until
// ctx ends. It gives up at once, returning context.DeadlineExceeded, when
// ctx's deadline comes before the token would, so a caller with a short
// budget learns now rather than at the deadline.
func (t *Throttle) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t == nil || t.rate <= 0 {
		return nil
	}
	now := t.now()
	d := t.reserve(key, now)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(d)) {
		t.cancel(key)
		return fmt.Errorf("send rate limit for phone number needs %v: %w", d, context.DeadlineExceeded)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		t.cancel(key)
		return ctx.Err()
	}
}

// reserve takes a token from key's bucket at time now and returns how long
// the caller must wait before using it. Tokens may go negative: each waiter
// owns the slot it reserved, so waiters are served in arrival order and the
// long-run rate holds however many wait at once.
func (t *Throttle) reserve(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[key]
	if b == nil {
		b = &bucket{tokens: t.burst, last: now}
		t.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(t.burst, b.tokens+el.Seconds()*t.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-b.tokens / t.rate * float64(time.Second)))
}

// cancel returns a reserved token that will not be used, so that a caller
// that gave up does not slow down the ones behind it.
func (t *Throttle) cancel(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.buckets[key]; b != nil {
		b.tokens = math.Min(t.burst, b.tokens+1)
	}
}
