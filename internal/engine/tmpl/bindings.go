package tmpl

import (
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Bindings.

// contextBindings builds the lead, quote and tenant maps a template sees.
// Times are shown in the lead's timezone, else the tenant's (looked up in
// zones), so that
// {{ quote.valid_until | date: "%d %B" }} is the customer's date; a zero
// time is missing and renders as empty.
func contextBindings(ctx *engine.Context, zones *engine.TimeZones) map[string]any {
	b := map[string]any{}
	if ctx == nil {
		return b
	}
	loc := time.UTC
	if ctx.Tenant != nil {
		if l := zones.Load(ctx.Tenant.Timezone); l != nil {
			loc = l
		}
	}
	if ctx.Lead != nil {
		if l := zones.Load(ctx.Lead.Timezone); l != nil {
			loc = l
		}
	}
	when := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.In(loc)
	}
	if l := ctx.Lead; l != nil {
		tags := l.Tags
		if tags == nil {
			tags = []string{}
		}
		custom := l.Custom
		if custom == nil {
			custom = map[string]any{}
		}
		b["lead"] = map[string]any{
			"id":              l.ID,
			"first_name":      l.FirstName,
			"last_name":       l.LastName,
			"name":            strings.TrimSpace(l.FirstName + " " + l.LastName),
			"email":           l.Email,
			"phone":           l.Phone,
			"language":        l.Language,
			"country":         l.Country,
			"timezone":        l.Timezone,
			"source":          l.Source,
			"stage":           l.Stage,
			"tags":            tags,
			"owner":           l.Owner,
			"email_opt_out":   l.EmailOptOut,
			"whatsapp_opt_in": l.WhatsAppOptIn,
			"created_at":      when(l.CreatedAt),
			"custom":          custom,
		}
	}
	if q := ctx.Quote; q != nil {
		var validUntil any
		if q.ValidUntil != nil {
			validUntil = when(*q.ValidUntil)
		}
		b["quote"] = map[string]any{
			"id":               q.ID,
			"number":           q.Number,
			"amount":           q.Amount(),
			"currency":         q.Currency,
			"status":           string(q.Status),
			"valid_until":      validUntil,
			"revision":         int(q.Revision),
			"url":              ctx.QuoteURL,
			"rejection_reason": q.RejectionReason,
			"created_at":       when(q.CreatedAt),
		}
	}
	if t := ctx.Tenant; t != nil {
		b["tenant"] = map[string]any{
			"name":     t.Name,
			"timezone": t.Timezone,
		}
	}
	return b
}
