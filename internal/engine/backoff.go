package engine

import (
	"math"
	"time"
)

// RetryPolicy is how a channel retries transient delivery errors:
// exponential backoff with full jitter, at most MaxAttempts attempts in
// all (the first one included).
type RetryPolicy struct {
	MaxAttempts int
	// Base is the ceiling of the delay after the first attempt; each
	// further attempt doubles it, up to Max.
	Base, Max time.Duration
}

// MaxRetryAfter caps a provider's Retry-After. A longer one is taken as
// this long, so that a malformed or hostile header cannot park a message
// for months; if the provider still refuses, the next Retry-After defers it
// again, within MaxAttempts.
const MaxRetryAfter = 24 * time.Hour

// RetryPolicies is the retry policy of each channel, by channel name. A
// channel it does not name is not retried.
type RetryPolicies map[string]RetryPolicy

// DefaultRetryPolicies returns the retry policy of each channel that
// quoteflow delivers with; the caller keeps the value and may change its
// copy.
//
//   - Email: 8 attempts, base 30 s, ceiling 6 h. The usual transient email
//     errors are SMTP 4xx replies (greylisting, a full mailbox, a busy
//     relay), which clear in minutes to an hour; greylisting in particular
//     refuses retries sooner than a few minutes. The ceilings grow 30 s,
//     1 m, 2 m, ... 32 m, so the seven delays add up to at most about 64
//     minutes (32 expected), and a quote email is still timely when it
//     goes. The 6 h cap only matters if the policy is given more attempts.
//   - WhatsApp: 6 attempts, base 15 s, ceiling 1 h. Cloud API transient
//     errors are rate limits and brief 5xx, which clear in seconds to
//     minutes (a 429 brings its own Retry-After, honoured as a floor). The
//     delays add up to at most about 8 minutes: a conversational message
//     that arrives much later is worse than the email fallback, which a
//     request- or recipient-class failure triggers.
func DefaultRetryPolicies() RetryPolicies {
	return RetryPolicies{
		ChannelEmail:    {MaxAttempts: 8, Base: 30 * time.Second, Max: 6 * time.Hour},
		ChannelWhatsApp: {MaxAttempts: 6, Base: 15 * time.Second, Max: 1 * time.Hour},
	}
}

// Next returns how long to wait before the next attempt, after attempt
// attempts (1 after the first) have failed transiently, and ok false when
// attempt >= MaxAttempts: no more tries, the message fails.
//
// The delay is full jitter, rnd × min(Max, Base × 2^(attempt-1)), computed
// without overflow for any attempt; rnd is a uniform random number in
// [0, 1) that the caller draws, so that tests are deterministic (values
// outside are clamped; NaN is 0). A provider's Retry-After is a floor:
// the delay is max(retryAfter, jittered), with retryAfter capped at
// MaxRetryAfter and a negative one ignored. attempt below 1 counts as 1;
// Max of zero or less means no cap; Base of zero or less means a delay of
// zero (Retry-After still applies).
func (p RetryPolicy) Next(attempt int, retryAfter time.Duration, rnd float64) (delay time.Duration, ok bool) {
	if attempt >= p.MaxAttempts {
		return 0, false
	}
	ceiling := p.Ceiling(attempt)
	switch {
	case !(rnd > 0): // negative or NaN
		rnd = 0
	case rnd > 1:
		rnd = 1
	}
	delay = time.Duration(rnd * float64(ceiling))
	if delay < 0 || delay > ceiling { // float rounding near MaxInt64
		delay = ceiling
	}
	retryAfter = min(max(retryAfter, 0), MaxRetryAfter)
	return max(delay, retryAfter), true
}

// Ceiling is the most Next may wait after attempt failed attempts, before
// Retry-After: min(Max, Base × 2^(attempt-1)).
func (p RetryPolicy) Ceiling(attempt int) time.Duration {
	limit := p.Max
	if limit <= 0 {
		limit = math.MaxInt64
	}
	if p.Base <= 0 {
		return 0
	}
	if p.Base >= limit {
		return limit
	}
	shift := max(attempt, 1) - 1
	if shift >= 63 || p.Base > limit>>shift {
		return limit
	}
	return p.Base << shift
}
