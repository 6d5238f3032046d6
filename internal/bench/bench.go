// Package bench is quoteflow bench: throughput of the resolver, of quote
// actions over HTTP and of deliveries, each measured beside the machine's own
// ceilings in the same run.
package bench

import (
	"context"
	"errors"
	"io"
)

// Run is the bench command.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("quoteflow bench is not built yet")
}
