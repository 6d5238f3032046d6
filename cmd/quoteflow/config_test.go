package main

import (
	"io"
	"testing"

	"github.com/quoteflow/quoteflow/internal/api"
)

func TestRateLimitConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := parseConfig("serve", nil, env(nil), io.Discard)
	if err != nil || c.RateLimit != api.DefaultRateLimit || c.RateBurst != api.DefaultRateBurst {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = parseConfig("serve", nil, env(map[string]string{"QUOTEFLOW_RATE_LIMIT": "2.5", "QUOTEFLOW_RATE_BURST": "7"}), io.Discard)
	if err != nil || c.RateLimit != 2.5 || c.RateBurst != 7 {
		t.Fatalf("environment: %+v %v", c, err)
	}
	c, err = parseConfig("serve", []string{"--rate-limit", "0"}, env(map[string]string{"QUOTEFLOW_RATE_LIMIT": "2.5"}), io.Discard)
	if err != nil || c.RateLimit != 0 {
		t.Fatalf("the flag over the environment: %+v %v", c, err)
	}
}
