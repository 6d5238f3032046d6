package engine

import (
	"math"
	"testing"
	"time"
)

func TestRetryPolicyNext(t *testing.T) {
	email := DefaultRetryPolicies()[ChannelEmail]
	wa := DefaultRetryPolicies()[ChannelWhatsApp]
	huge := RetryPolicy{MaxAttempts: math.MaxInt, Base: time.Second, Max: 0}
	tests := []struct {
		name       string
		p          RetryPolicy
		attempt    int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
		wantOK     bool
	}{
		{"email first, top of range", email, 1, 0, 0.999999, 29999970 * time.Microsecond, true},
		{"email first, half", email, 1, 0, 0.5, 15 * time.Second, true},
		{"email first, zero jitter", email, 1, 0, 0, 0, true},
		{"email doubles", email, 2, 0, 0.5, 30 * time.Second, true},
		{"email seventh", email, 7, 0, 0.5, 16 * time.Minute, true},
		{"email last try used", email, 8, 0, 0.5, 0, false},
		{"email past the limit", email, 20, 0, 0.5, 0, false},
		{"whatsapp first", wa, 1, 0, 0.5, 7500 * time.Millisecond, true},
		{"whatsapp fifth", wa, 5, 0, 1, 4 * time.Minute, true},
		{"whatsapp done", wa, 6, 0, 0.5, 0, false},

		{"retry-after is a floor", wa, 1, 90 * time.Second, 0.5, 90 * time.Second, true},
		{"retry-after below jitter", email, 7, time.Second, 0.5, 16 * time.Minute, true},
		{"retry-after capped", wa, 1, 30 * 24 * time.Hour, 0.5, MaxRetryAfter, true},
		{"negative retry-after ignored", wa, 1, -time.Hour, 0.5, 7500 * time.Millisecond, true},
		{"retry-after does not grant a try", wa, 6, time.Minute, 0.5, 0, false},

		{"cap reached", RetryPolicy{MaxAttempts: 100, Base: time.Second, Max: time.Minute}, 10, 0, 1, time.Minute, true},
		{"no overflow at 63", RetryPolicy{MaxAttempts: 1000, Base: time.Second, Max: 6 * time.Hour}, 63, 0, 1, 6 * time.Hour, true},
		{"no overflow at 500", RetryPolicy{MaxAttempts: 1000, Base: time.Second, Max: 6 * time.Hour}, 500, 0, 0.5, 3 * time.Hour, true},
		{"uncapped, large", huge, 30, 0, 0.5, (time.Second << 29) / 2, true},
		{"uncapped, past overflow", huge, 80, 0, 1, math.MaxInt64, true},
		{"base above max", RetryPolicy{MaxAttempts: 3, Base: time.Hour, Max: time.Minute}, 1, 0, 1, time.Minute, true},
		{"zero base", RetryPolicy{MaxAttempts: 3}, 1, 5 * time.Second, 0.5, 5 * time.Second, true},
		{"attempt zero counts as one", email, 0, 0, 1, 30 * time.Second, true},
		{"negative rnd", email, 1, 0, -3, 0, true},
		{"NaN rnd", email, 1, 0, math.NaN(), 0, true},
		{"rnd above one", email, 1, 0, 7, 30 * time.Second, true},
		{"no attempts allowed", RetryPolicy{}, 1, 0, 0.5, 0, false},
	}
	for _, tc := range tests {
		got, ok := tc.p.Next(tc.attempt, tc.retryAfter, tc.rnd)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: Next(%d, %v, %v) = %v, %v; want %v, %v", tc.name, tc.attempt, tc.retryAfter, tc.rnd, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestRetryPolicyNeverOverflows(t *testing.T) {
	for _, p := range []RetryPolicy{
		{MaxAttempts: math.MaxInt, Base: 1, Max: math.MaxInt64},
		{MaxAttempts: math.MaxInt, Base: math.MaxInt64 / 3, Max: 0},
		{MaxAttempts: math.MaxInt, Base: 7 * time.Second, Max: -1},
	} {
		prev := time.Duration(0)
		for attempt := 1; attempt < 200; attempt++ {
			c := p.Ceiling(attempt)
			if c < prev || c <= 0 {
				t.Fatalf("%+v: ceiling at %d is %v after %v", p, attempt, c, prev)
			}
			prev = c
			for _, rnd := range []float64{0, 0.5, math.Nextafter(1, 0), 1} {
				d, ok := p.Next(attempt, 0, rnd)
				if !ok || d < 0 || d > c {
					t.Fatalf("%+v: Next(%d, %v) = %v, %v with ceiling %v", p, attempt, rnd, d, ok, c)
				}
			}
		}
	}
}

// TestDefaultRetryBudget pins what the documentation of DefaultRetryPolicies says:
// the worst-case total wait before a message fails.
func TestDefaultRetryBudget(t *testing.T) {
	budget := func(p RetryPolicy) time.Duration {
		var total time.Duration
		for a := 1; ; a++ {
			d, ok := p.Next(a, 0, 1)
			if !ok {
				return total
			}
			total += d
		}
	}
	policies := DefaultRetryPolicies()
	if got := budget(policies[ChannelEmail]); got != 63*time.Minute+30*time.Second {
		t.Errorf("email worst case %v", got)
	}
	if got := budget(policies[ChannelWhatsApp]); got != 7*time.Minute+45*time.Second {
		t.Errorf("whatsapp worst case %v", got)
	}
	// RetryPolicyFor, which fell back to email's policy, is gone: nothing
	// used it. Delivery looks its channel up, and a channel the policies do
	// not name is not retried.
	if _, ok := policies["sms"].Next(1, 0, 0); ok {
		t.Error("a channel without a policy is retried")
	}
}
