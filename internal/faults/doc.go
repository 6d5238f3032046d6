// Package faults is the fault harness of issue 12: it builds quoteflow,
// serves it as separate processes, drives them over HTTP as a careful client
// would while it kills them, restarts a PostgreSQL server of its own under
// them and lets a WhatsApp stand-in fail, and then counts, per run step, the
// messages the provider accepted against the database.
//
// It is a test suite behind the build tag "faults", so that the ordinary
// `go test ./...` does not spend minutes on it; .ci/faults.sh runs it
// explicitly (see docs/RELIABILITY.md), and every scenario it runs either
// runs or fails, never skips. Nothing here is linked into the quoteflow
// binary.
package faults
