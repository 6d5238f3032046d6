// Command quoteflow runs the quoteflow service: serve, migrate, demo.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	// Lead and tenant timezones must resolve on machines without a zoneinfo
	// database (minimal containers).
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quoteflow:", err)
		os.Exit(1)
	}
}
