package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"math"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
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

// maxPhoneNumbers bounds how many phone numbers a Throttle remembers. A
// number pushed out forgets only its recent sends, so at worst it gets a
// fresh burst, which Meta's 130429 (Transient) would catch; that needs this
// many other numbers to send after it, far more than one process serves.
const maxPhoneNumbers = 10_000

// Throttle paces sends with one token bucket (a rate.Limiter) per WhatsApp
// phone number id. The limit belongs to the phone number, not to a Sender,
// so one Throttle must outlive the Senders that share it: build it once per
// process and pass it in Options. It is per process; several quoteflow
// processes sharing a number each pace at this rate, and Meta's 130429
// (Transient) catches the excess. It is safe for concurrent use, and a nil
// Throttle does not pace at all.
type Throttle struct {
	limit    rate.Limit
	burst    int
	limiters *lru.Cache[string, *rate.Limiter]
}

// NewThrottle returns a Throttle that lets each phone number id send
// perSecond messages per second on average, and up to burst at once after a
// quiet spell. perSecond <= 0 disables throttling (benchmarks, fakes); burst
// below 1 is taken as 1.
func NewThrottle(perSecond float64, burst int) *Throttle {
	if !(perSecond > 0) || math.IsInf(perSecond, 1) {
		return &Throttle{limit: rate.Inf}
	}
	limiters, err := lru.New[string, *rate.Limiter](maxPhoneNumbers)
	if err != nil {
		panic(err) // only for a size <= 0, and the size is a constant
	}
	return &Throttle{limit: rate.Limit(perSecond), burst: max(1, burst), limiters: limiters}
}

// Wait blocks until key (a phone number id) may send one message, or until
// ctx ends. It gives up at once, returning an error that wraps
// context.DeadlineExceeded, when ctx's deadline comes before the token
// would, so a caller with a short budget learns now rather than at the
// deadline. Waiters are served in arrival order, and one that gives up
// returns its slot to those behind it.
func (t *Throttle) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t == nil || t.limit == rate.Inf {
		return nil
	}
	err := t.limiter(key).Wait(ctx)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		// rate refuses a wait that would outlast the deadline without
		// taking a token, and says so in an error of its own. Asking
		// ctx.Err() instead would race: the deadline may pass between
		// that refusal and the question, leaving the refusal unwrapped.
		return fmt.Errorf("send rate limit for phone number: %v: %w", err, context.DeadlineExceeded)
	}
	return err
}

// limiter returns key's limiter, making it on first use.
func (t *Throttle) limiter(key string) *rate.Limiter {
	if l, ok := t.limiters.Get(key); ok {
		return l
	}
	l := rate.NewLimiter(t.limit, t.burst)
	if prev, ok, _ := t.limiters.PeekOrAdd(key, l); ok {
		return prev // another caller made it first
	}
	return l
}
