package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// SignInCodeTTL is how long a sign-in code can be exchanged.
const SignInCodeTTL = 10 * time.Minute

// maxSignInCodes bounds the codes held at once: each is a live admin key
// in memory, and only a process that made its own key issues them.
const maxSignInCodes = 64

// SignInCodes are one-time codes that stand for an admin key, so that a
// link can sign the editor in without the key itself in the address. They
// live in the memory of the process that issued them and nowhere else:
// only `quoteflow demo` issues one, for the key it has just made, and a
// restart forgets them all (docs/DECISIONS.md, issue 11).
type SignInCodes struct {
	mu    sync.Mutex
	codes map[string]signInCode
}

type signInCode struct {
	key, tenantID string
	expires       time.Time
}

// NewSignInCodes returns an empty set of codes.
func NewSignInCodes() *SignInCodes {
	return &SignInCodes{codes: map[string]signInCode{}}
}

// Issue registers a new code for key, an admin key of tenantID, valid
// until now+SignInCodeTTL, and returns it.
func (c *SignInCodes) Issue(now time.Time, key, tenantID string) string {
	// 256 random bits: a code cannot be guessed in the 10 minutes it lives,
	// which is why the public exchange needs no limit of its own.
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	code := base64.RawURLEncoding.EncodeToString(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.codes {
		if !now.Before(v.expires) {
			delete(c.codes, k)
		}
	}
	for k := range c.codes {
		if len(c.codes) < maxSignInCodes {
			break
		}
		delete(c.codes, k)
	}
	c.codes[code] = signInCode{key: key, tenantID: tenantID, expires: now.Add(SignInCodeTTL)}
	return code
}

// redeem removes code and returns what it stood for, if it was unexpired.
func (c *SignInCodes) redeem(now time.Time, code string) (signInCode, bool) {
	if c == nil {
		return signInCode{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.codes[code]
	if !ok {
		return signInCode{}, false
	}
	// Used or expired, the code is gone: single use even when the answer
	// below is lost on the way to the browser.
	delete(c.codes, code)
	return v, now.Before(v.expires)
}

// SignIn is what a sign-in code is exchanged for.
type SignIn struct {
	Key      string
	TenantID string
}

// ExchangeSignInCode trades a code from codes for the admin key it stands
// for. An unknown, used or expired code, or one whose key was revoked
// since, is not_found: the caller learns nothing about which.
func (a *App) ExchangeSignInCode(ctx context.Context, codes *SignInCodes, code string) (SignIn, error) {
	notFound := engine.Errorf(engine.ENOTFOUND, "unknown, used or expired sign-in code")
	v, ok := codes.redeem(a.Now(), code)
	if !ok {
		return SignIn{}, notFound
	}
	p, err := a.Authenticate(ctx, v.key)
	if engine.ErrorCode(err) == engine.EUNAUTHORIZED || (err == nil && p.TenantID != v.tenantID) {
		return SignIn{}, notFound
	}
	if err != nil {
		return SignIn{}, err
	}
	return SignIn{Key: v.key, TenantID: v.tenantID}, nil
}
