// Package envvar reads typed flag defaults from the environment, so that
// every command's flags override the same QUOTEFLOW_* variables the same
// way. A variable that is unset or does not parse gives the default.
package envvar

import (
	"strconv"
	"time"
)

// Int returns the variable k as an int, or def.
func Int(getenv func(string) string, k string, def int) int {
	if n, err := strconv.Atoi(getenv(k)); err == nil {
		return n
	}
	return def
}

// Float returns the variable k as a float64, or def.
func Float(getenv func(string) string, k string, def float64) float64 {
	if f, err := strconv.ParseFloat(getenv(k), 64); err == nil {
		return f
	}
	return def
}

// Duration returns the variable k as a time.Duration ("1s", "5m"), or def.
func Duration(getenv func(string) string, k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(getenv(k)); err == nil {
		return d
	}
	return def
}
