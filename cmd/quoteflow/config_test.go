package main

import (
	"errors"
	"flag"
	"io"
	"strings"
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

// serve -h must not print the operator token or a database password taken
// from the environment, and both still come from there when no flag is given.
func TestHelpHidesSecretsFromTheEnvironment(t *testing.T) {
	vars := map[string]string{
		"QUOTEFLOW_OPERATOR_TOKEN": "op-token-from-env",
		"QUOTEFLOW_DATABASE_URL":   "postgres://quoteflow:db-password-from-env@127.0.0.1/qf",
	}
	getenv := func(k string) string { return vars[k] }
	var help strings.Builder
	if _, err := parseConfig("serve", []string{"-h"}, getenv, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve -h: %v", err)
	}
	for _, secret := range []string{"op-token-from-env", "db-password-from-env"} {
		if strings.Contains(help.String(), secret) {
			t.Errorf("serve -h printed %q:\n%s", secret, help.String())
		}
	}
	c, err := parseConfig("serve", nil, getenv, io.Discard)
	if err != nil || c.OperatorToken != vars["QUOTEFLOW_OPERATOR_TOKEN"] || c.DatabaseURL != vars["QUOTEFLOW_DATABASE_URL"] {
		t.Fatalf("from the environment: %+v %v", c, err)
	}
	c, err = parseConfig("serve", []string{"--operator-token", "flag-token", "--database-url", "x.db"}, getenv, io.Discard)
	if err != nil || c.OperatorToken != "flag-token" || c.DatabaseURL != "x.db" {
		t.Fatalf("the flags over the environment: %+v %v", c, err)
	}
	c, err = parseConfig("demo", nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.DatabaseURL != "./quoteflow-demo.db" || c.OperatorToken != "" {
		t.Fatalf("demo defaults: %+v %v", c, err)
	}
}
