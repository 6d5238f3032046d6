package api_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestIdempotentAnswersAreStoredWithTheirWrite calls every operation that
// takes an Idempotency-Key, with a key, and checks that its answer was
// stored inside the transaction of its write: the app passes the point
// before the commit, with the answer written, and then the point after it
// (app.Config.Hold). An operation that stored its answer only after the
// commit would let a retry after a crash run it twice. Its replay is then
// the first answer, byte for byte. The quote actions keep their key with
// their trigger event, in their own transaction, and are not among them.
func TestIdempotentAnswersAreStoredWithTheirWrite(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var points []string
			f := setupAuthz(t, d, func(c *app.Config) {
				c.Hold = func(_ context.Context, point string) {
					mu.Lock()
					defer mu.Unlock()
					points = append(points, point)
				}
			})
			taken := func() []string {
				mu.Lock()
				defer mu.Unlock()
				p := points
				points = nil
				return p
			}
			checked := 0
			for _, op := range servedOperations(t, f.e) {
				if !op.idempotent || isQuoteAction(op) {
					continue
				}
				want := authzOps[op.id]
				okStatus := want.ok
				if okStatus == 0 {
					okStatus = op.success
				}
				t.Run(op.id, func(t *testing.T) {
					prev := f.e.t
					f.e.t = t
					defer func() { f.e.t = prev }()
					r := want.build(f)
					taken()
					headers := append(slices.Clone(r.headers), "Idempotency-Key", "in-tx-"+op.id)
					first := f.e.call(op.method, r.path, f.admin, r.body, headers...)
					if first.Status != okStatus {
						t.Fatalf("%s %s: %d, want %d: %s", op.method, r.path, first.Status, okStatus, first.Raw)
					}
					if got := taken(); !slices.Equal(got, []string{app.HoldBeforeCommit, app.HoldAfterCommit}) {
						t.Fatalf("%s passed %v, want its answer stored before its commit: [%s %s]", op.id, got, app.HoldBeforeCommit, app.HoldAfterCommit)
					}
					again := f.e.call(op.method, r.path, f.admin, r.body, headers...)
					if again.Status != first.Status || again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("ETag") != first.Header.Get("ETag") {
						t.Fatalf("replay: %d %v, want %d with the first ETag %q", again.Status, again.Header, first.Status, first.Header.Get("ETag"))
					}
					// create-api-key's secret is never stored, so its replay
					// is the first answer without it.
					if op.id != "create-api-key" && !bytes.Equal(again.Raw, first.Raw) {
						t.Fatalf("the replay differs from the first answer:\n%s\n%s", again.Raw, first.Raw)
					}
					if got := taken(); len(got) != 0 {
						t.Fatalf("the replay wrote again: %v", got)
					}
					checked++
				})
			}
			if checked < 13 {
				t.Fatalf("%d operations checked, want the 13 that take an Idempotency-Key besides the quote actions", checked)
			}
		})
	}
}

// isQuoteAction reports whether op is a quote action, whose key is kept
// with its trigger event by app.QuoteAction.
func isQuoteAction(op authzOperation) bool {
	return op.method == http.MethodPost && (strings.HasPrefix(op.path, "/v1/quotes/{") || strings.HasPrefix(op.path, "/v1/public/quotes/{")) &&
		!strings.HasSuffix(op.path, "/unsubscribe")
}
