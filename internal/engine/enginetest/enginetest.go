// Package enginetest holds the fixtures the engine's packages test with: a
// lead context in which every catalogue field is present. Only tests
// import it.
package enginetest

import (
	"encoding/json"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Created and Valid are FullContext's lead's and quote's creation time and
// the quote's expiry.
var (
	Created = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	Valid   = time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC)
)

// FullContext is a context in which every catalogue field but lead.timezone is
// present, with custom fields of every JSON type.
func FullContext() *engine.Context {
	valid := Valid
	return &engine.Context{
		Tenant: &engine.Tenant{Name: "Acme Roofing", Timezone: "Europe/Lisbon"},
		Lead: &engine.Lead{
			ID: "lead_1", FirstName: "Ana", LastName: "Silva", Email: "ana@example.com",
			Phone: "+351912345678", Language: "pt", Country: "PT", Source: "web", Stage: "new",
			Tags: []string{"roofing", "vip"}, Owner: "joao", WhatsAppOptIn: true, CreatedAt: Created,
			Custom: map[string]any{
				"roof_type":    "tile",
				"floors":       2.0,
				"solar":        true,
				"areas":        []any{"north", "south"},
				"sizes":        []any{1.0, 2.0},
				"labels":       []string{"a", "b"},
				"inspected_at": "2026-03-01T10:00:00+01:00",
				"meta":         map[string]any{"a": 1.0},
				"nothing":      nil,
				"go_int":       3,
				"json_number":  json.Number("4"),
			},
		},
		Quote: &engine.Quote{
			ID: "q_1", Number: "Q-1001", AmountMinor: 125000, Currency: "EUR", Status: engine.QuoteSent,
			ValidUntil: &valid, Revision: 2, CreatedAt: Created.Add(time.Hour),
		},
		QuoteURL: "https://quotes.example/t/abc",
	}
}
