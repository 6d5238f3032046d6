package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Rate limit defaults, for cmd/quoteflow's flags: far above what a CRM
// integration or the web editor sends (a page of the editor makes a
// handful of requests; an import of leads one per lead), so a normal
// client never meets them, while one key in a loop cannot take the
// service from every other tenant.
const (
	DefaultRateLimit = 50.0
	DefaultRateBurst = 100
)

// rateLimitKeys bounds how many keys' limiters are held. A key that falls
// out starts again with a full bucket, which only ever favours it; 10,000
// keys active at once is far beyond this service's tenants.
const rateLimitKeys = 10_000

// rateLimits are the token buckets of the API keys, one per key.
type rateLimits struct {
	limit rate.Limit
	burst int
	keys  *lru.Cache[string, *rate.Limiter]
	now   func() time.Time
}

// newRateLimits returns the limits of perSecond requests per key with
// burst at once; nil (no limit) when perSecond is 0 or less.
func newRateLimits(perSecond float64, burst int) *rateLimits {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	keys, err := lru.New[string, *rate.Limiter](rateLimitKeys)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &rateLimits{limit: rate.Limit(perSecond), burst: burst, keys: keys, now: time.Now}
}

func (l *rateLimits) limiter(key string) *rate.Limiter {
	if lim, ok := l.keys.Get(key); ok {
		return lim
	}
	lim := rate.NewLimiter(l.limit, l.burst)
	if prev, found, _ := l.keys.PeekOrAdd(key, lim); found {
		return prev
	}
	return lim
}

// policy is the RateLimit-Policy field (draft-ietf-httpapi-ratelimit-headers-10,
// a structured-field list): a token bucket of burst requests refilled at
// the rate is stated as a quota of burst requests per the seconds it takes
// to refill it.
func (l *rateLimits) policy() string {
	w := int(math.Ceil(float64(l.burst) / float64(l.limit)))
	return fmt.Sprintf(`"per-key";q=%d;w=%d`, l.burst, max(w, 1))
}

// withRateLimit spends one token of the caller's key per request, and
// answers 429 when none is left. Only key-authenticated operations are
// limited: it runs after authenticate, and the operator token and the
// public routes have no key. The public routes are left to the reverse
// proxy in front: a customer's link is one unguessable token, Meta's
// webhooks must not be refused (their status updates would be lost), and
// a per-IP limit here would need to trust X-Forwarded-For, which this
// service has no configuration for, so every customer behind one proxy
// would share one bucket.
func (s *Server) withRateLimit(ctx huma.Context, next func(huma.Context)) {
	p := principal(ctx.Context())
	if s.limits == nil || p.KeyID == "" {
		next(ctx)
		return
	}
	l := s.limits
	lim := l.limiter(p.KeyID)
	now := l.now()
	r := lim.ReserveN(now, 1)
	ctx.SetHeader("RateLimit-Policy", l.policy())
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		wait := max(1, int(math.Ceil(delay.Seconds())))
		ctx.SetHeader("Retry-After", strconv.Itoa(wait))
		ctx.SetHeader("RateLimit", fmt.Sprintf(`"per-key";r=0;t=%d`, wait))
		_ = huma.WriteErr(s.api, ctx, http.StatusTooManyRequests,
			fmt.Sprintf("this API key is over its rate limit of %g requests per second (bursts of %d); retry after %d s", float64(l.limit), l.burst, wait))
		return
	}
	left := lim.TokensAt(now)
	full := max(0, int(math.Ceil((float64(l.burst)-left)/float64(l.limit))))
	ctx.SetHeader("RateLimit", fmt.Sprintf(`"per-key";r=%d;t=%d`, max(0, int(left)), full))
	next(ctx)
}
