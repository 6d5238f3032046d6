package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

const demoTenantName = "Demo Roofing"

// seedDemo makes sure the demo tenant exists with its leads, quotes,
// workflows, rules and override, and returns its id and a fresh admin key
// for it. A
// database that already holds the demo tenant is reused as it is, so that
// what a person changed in the demo survives a restart.
func seedDemo(ctx context.Context, db *store.DB, a *app.App) (tenantID, key string, err error) {
	err = db.SQL().QueryRowContext(ctx, "SELECT id FROM tenants WHERE name = '"+demoTenantName+"' ORDER BY created_at LIMIT 1").Scan(&tenantID)
	if err != nil {
		if tenantID, err = createDemoTenant(ctx, a); err != nil {
			return "", "", err
		}
	}
	// Only hashes are stored, so the earlier run's key cannot be shown again.
	_, key, err = a.CreateAPIKey(ctx, tenantID, engine.RoleAdmin)
	return tenantID, key, err
}

func createDemoTenant(ctx context.Context, a *app.App) (string, error) {
	t := &engine.Tenant{
		Name: demoTenantName, Timezone: "Europe/Lisbon", Mode: engine.ModeEngine,
		// No quiet hours, so that the demo's messages flow at any hour.
		Holidays: []string{"2026-12-25", "2027-01-01"},
		Channels: engine.Channels{
			Email:    &engine.EmailChannel{Provider: "log", From: "Demo Roofing <quotes@demo-roofing.example>"},
			WhatsApp: &engine.WhatsAppChannel{Provider: "log"},
		},
	}
	if _, _, err := a.CreateTenant(ctx, t); err != nil {
		return "", err
	}
	legacy := engine.LegacySettings{
		engine.TriggerSent: {Enabled: true, Channels: []string{"email"},
			Email: &engine.EmailContent{Subject: "Your quote {{ quote.number }}", Text: "Hello {{ lead.first_name }},\n\nyour quote is ready: {{ quote.url }}\n"}},
		engine.TriggerAccepted: {Enabled: true, Channels: []string{"email"},
			Email: &engine.EmailContent{Subject: "Thank you for accepting {{ quote.number }}", Text: "Hello {{ lead.first_name }}, we will be in touch to schedule the work."}},
		engine.TriggerExpired: {Enabled: false, Channels: []string{}},
	}
	if err := a.PutLegacySettings(ctx, t.ID, legacy); err != nil {
		return "", err
	}

	followUp := &engine.Workflow{TenantID: t.ID, Name: "Quote sent follow-up", Trigger: engine.TriggerSent, Enabled: true,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted, engine.QuoteRejected},
		Steps: []engine.Step{
			{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Your quote {{ quote.number }}",
				Text: "Hi {{ lead.first_name }},\n\nhere is your quote for {{ quote.amount | money }}: {{ quote.url }}\n\n{{ tenant.name }}"}},
			{Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P2D"}},
			{Type: engine.StepSendWhatsApp,
				When:            json.RawMessage(`{"all":[{"field":"quote.amount","op":"gte","value":1000}]}`),
				WhatsApp:        &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"{{ lead.first_name }}", "{{ quote.number }}"}},
				FallbackChannel: "email",
				Email:           &engine.EmailContent{Subject: "About quote {{ quote.number }}", Text: "Hi {{ lead.first_name }}, any questions about {{ quote.number }}?"}},
		}}
	winBack := &engine.Workflow{TenantID: t.ID, Name: "Rejected win-back", Trigger: engine.TriggerRejected, Enabled: true,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted},
		Steps: []engine.Step{
			{Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P7D"}},
			{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Can we do better on {{ quote.number }}?",
				Text: "Hi {{ lead.first_name }}, thanks for considering us. Reply to this email and we will revisit the quote."}},
		}}
	for _, w := range []*engine.Workflow{followUp, winBack} {
		if err := a.CreateWorkflow(ctx, w); err != nil {
			return "", err
		}
	}
	rules := []engine.Rule{
		{Name: "Web leads get the follow-up", Trigger: string(engine.TriggerSent), Enabled: true, WorkflowID: followUp.ID,
			Condition: json.RawMessage(`{"all":[{"field":"lead.source","op":"eq","value":"web"}]}`)},
		{Name: "Large rejected quotes: win-back", Trigger: string(engine.TriggerRejected), Enabled: true, WorkflowID: winBack.ID,
			Condition: json.RawMessage(`{"all":[{"field":"quote.amount","op":"gte","value":2000},{"field":"lead.tags","op":"contains","value":"roofing"}]}`)},
		{Name: "Referrals (paused)", Trigger: engine.AnyTrigger, Enabled: false, WorkflowID: followUp.ID,
			Condition: json.RawMessage(`{"any":[{"field":"lead.source","op":"eq","value":"referral"}]}`)},
	}
	for i := range rules {
		rules[i].TenantID = t.ID
		if err := a.CreateRule(ctx, &rules[i], nil); err != nil {
			return "", err
		}
	}

	names := [][2]string{{"Ana", "Silva"}, {"João", "Costa"}, {"Maria", "Santos"}, {"Pedro", "Ferreira"}, {"Inês", "Oliveira"},
		{"Rui", "Pereira"}, {"Sofia", "Rodrigues"}, {"Tiago", "Martins"}, {"Beatriz", "Sousa"}, {"Miguel", "Gomes"},
		{"Carla", "Lopes"}, {"Nuno", "Almeida"}}
	sources := []string{"web", "referral", "web", "phone", "web", "partner"}
	statuses := []engine.QuoteStatus{engine.QuoteDraft, engine.QuoteSent, engine.QuoteViewed, engine.QuoteAccepted, engine.QuoteRejected, engine.QuoteExpired}
	now := a.Now()
	for i, n := range names {
		l := &engine.Lead{TenantID: t.ID, FirstName: n[0], LastName: n[1],
			Email: fmt.Sprintf("lead%02d@demo-customer.example", i+1), Phone: fmt.Sprintf("+3519123456%02d", i+10),
			Language: "pt", Country: "PT", Source: sources[i%len(sources)], Stage: "quoted",
			Tags: []string{"roofing"}, Owner: "joao", Custom: map[string]any{"roof_type": []string{"tile", "slate", "metal"}[i%3]},
			WhatsAppOptIn: i%2 == 0}
		if err := a.CreateLead(ctx, l); err != nil {
			return "", err
		}
		valid := now.Add(30 * 24 * time.Hour)
		q := &engine.Quote{TenantID: t.ID, LeadID: l.ID, Number: fmt.Sprintf("Q-%d", 1001+i), Currency: "EUR", ValidUntil: &valid}
		if err := a.CreateQuote(ctx, q, float64(800+450*i)); err != nil {
			return "", err
		}
		// Real quote actions, so that the demo has events, decisions, runs
		// and messages flowing to the log provider.
		if st := statuses[i%len(statuses)]; st != engine.QuoteDraft {
			actions := []engine.Action{engine.ActionSend}
			switch st {
			case engine.QuoteViewed:
				actions = append(actions, engine.ActionView)
			case engine.QuoteAccepted:
				actions = append(actions, engine.ActionView, engine.ActionAccept)
			case engine.QuoteRejected:
				actions = append(actions, engine.ActionReject)
			case engine.QuoteExpired:
				actions = append(actions, engine.ActionExpire)
			}
			for _, act := range actions {
				req := app.ActionRequest{TenantID: t.ID, QuoteID: q.ID, Action: act}
				if act == engine.ActionReject {
					req.RejectionReason = "too expensive"
				}
				if _, err := a.QuoteAction(ctx, req); err != nil {
					return "", fmt.Errorf("%s quote %s: %w", act, q.Number, err)
				}
			}
		}
		if i == 3 {
			o := &engine.Override{TenantID: t.ID, LeadID: l.ID, Trigger: engine.AnyTrigger, Action: engine.OverrideSuppress,
				Reason: "customer asked for no follow-ups"}
			if err := a.CreateOverride(ctx, o); err != nil {
				return "", err
			}
		}
	}
	return t.ID, nil
}
