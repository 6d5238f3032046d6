package store_test

import (
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// TestQuoteNumberUniquePerTenant: a tenant numbers its quotes once. A
// second quote with a number the tenant used, created or edited to it, is
// ECONFLICT on body.number and stores nothing; another tenant may use the
// same number; a public token used twice is still its own conflict.
func TestQuoteNumberUniquePerTenant(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		la, lb := b.lead(t, b.a.ID), b.lead(t, b.b.ID)
		first := &engine.Quote{TenantID: b.a.ID, LeadID: la.ID, Number: "Q-100", Currency: "EUR",
			Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}
		must(t, b.db.CreateQuote(b.ctx, first))

		again := &engine.Quote{TenantID: b.a.ID, LeadID: la.ID, Number: "Q-100", Currency: "EUR",
			Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}
		wantCode(t, b.db.CreateQuote(b.ctx, again), engine.ECONFLICT, "body.number")
		if again.ID != "" {
			t.Fatal("a refused create filled in the id")
		}
		quotes, _, err := b.db.ListQuotes(b.ctx, b.a.ID, engine.QuoteFilter{}, engine.Page{})
		must(t, err)
		if len(quotes) != 1 {
			t.Fatalf("%d quotes after a refused duplicate, want 1", len(quotes))
		}

		// Another tenant's numbers are its own.
		must(t, b.db.CreateQuote(b.ctx, &engine.Quote{TenantID: b.b.ID, LeadID: lb.ID, Number: "Q-100", Currency: "EUR",
			Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}))

		// An edit to a number the tenant used is refused the same way, and
		// the quote keeps its own.
		second := &engine.Quote{TenantID: b.a.ID, LeadID: la.ID, Number: "Q-101", Currency: "EUR",
			Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}
		must(t, b.db.CreateQuote(b.ctx, second))
		edited := *second
		edited.Number = "Q-100"
		wantCode(t, b.db.UpdateQuote(b.ctx, &edited, 0), engine.ECONFLICT, "body.number")
		got, err := b.db.GetQuote(b.ctx, b.a.ID, second.ID)
		must(t, err)
		if got.Number != "Q-101" || got.Version != 1 {
			t.Fatalf("after a refused edit the quote is %s at version %d, want Q-101 at 1", got.Number, got.Version)
		}
		// Saving a quote under its own number is no conflict.
		edited.Number = "Q-101"
		must(t, b.db.UpdateQuote(b.ctx, &edited, 0))

		// A public token used twice is still told apart from a number.
		dup := &engine.Quote{TenantID: b.a.ID, LeadID: la.ID, Number: "Q-102", Currency: "EUR",
			Status: engine.QuoteDraft, Revision: 1, PublicToken: first.PublicToken}
		wantCode(t, b.db.CreateQuote(b.ctx, dup), engine.ECONFLICT, "public_token")
	})
}

// TestQuoteNumberMigrationRenamesDuplicates: migration quote_number_unique
// (number 5 when written) runs on a
// database that already holds quotes sharing a number in a tenant (a
// retried create stored two before numbers were unique). It does not fail:
// the first quote (the oldest id) keeps the number, each later one is
// renamed "<number> #<id>" at a new version, quotes of other tenants and
// other numbers are untouched, and the number is unique from then on.
func TestQuoteNumberMigrationRenamesDuplicates(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		// Back to before the migration: no index, and the migration not
		// applied (the migrations after it find nothing to do again).
		version, err := store.MigrationVersion(b.db.Dialect(), "quote_number_unique")
		must(t, err)
		must(t, b.db.RawExec(b.ctx, `DROP INDEX quotes_tenant_number`))
		must(t, b.db.RawExec(b.ctx, `DELETE FROM schema_migrations WHERE version = ?`, version))

		la, lb := b.lead(t, b.a.ID), b.lead(t, b.b.ID)
		mk := func(tenant, lead, number string) *engine.Quote {
			q := &engine.Quote{TenantID: tenant, LeadID: lead, Number: number, Currency: "EUR",
				Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}
			must(t, b.db.CreateQuote(b.ctx, q))
			return q
		}
		dups := []*engine.Quote{mk(b.a.ID, la.ID, "Q-7"), mk(b.a.ID, la.ID, "Q-7"), mk(b.a.ID, la.ID, "Q-7")}
		other := mk(b.a.ID, la.ID, "Q-8")
		elsewhere := mk(b.b.ID, lb.ID, "Q-7")

		must(t, b.db.Migrate(b.ctx))

		for i, q := range dups {
			got, err := b.db.GetQuote(b.ctx, b.a.ID, q.ID)
			must(t, err)
			want, version := "Q-7", int64(1)
			if i > 0 {
				want, version = "Q-7 #"+q.ID, 2
			}
			if got.Number != want || got.Version != version {
				t.Errorf("duplicate %d after the migration: %q at version %d, want %q at %d", i, got.Number, got.Version, want, version)
			}
		}
		for _, q := range []*engine.Quote{other, elsewhere} {
			got, err := b.db.GetQuote(b.ctx, q.TenantID, q.ID)
			must(t, err)
			if got.Number != q.Number || got.Version != 1 {
				t.Errorf("an unduplicated quote became %q at version %d", got.Number, got.Version)
			}
		}
		again := &engine.Quote{TenantID: b.a.ID, LeadID: la.ID, Number: "Q-7", Currency: "EUR",
			Status: engine.QuoteDraft, Revision: 1, PublicToken: randomToken(t)}
		wantCode(t, b.db.CreateQuote(b.ctx, again), engine.ECONFLICT, "body.number")
	})
}
