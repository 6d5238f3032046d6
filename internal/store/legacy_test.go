package store_test

import (
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func TestLegacySettings(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		got, err := b.db.GetLegacySettings(b.ctx, b.a.ID)
		must(t, err)
		if got == nil || len(got) != 0 {
			t.Fatalf("no settings must read as an empty map, got %#v", got)
		}

		html := "<b>hi</b>"
		s := engine.LegacySettings{
			engine.TriggerSent: {Enabled: true, Channels: []string{"email", "whatsapp"},
				Email:    &engine.EmailContent{Subject: "Your quote {{ quote.number }}", Text: "...", HTML: &html},
				WhatsApp: &engine.WhatsAppContent{Template: "quote_sent", Language: "en_US", Parameters: []string{"{{ quote.url }}"}}},
			engine.TriggerAccepted: {Enabled: false, Channels: []string{}},
			engine.TriggerExpired:  {Enabled: true, Channels: nil, Email: &engine.EmailContent{Subject: "s", Text: "t"}},
		}
		cv := b.configVersion(t, b.a.ID)
		must(t, b.db.PutLegacySettings(b.ctx, b.a.ID, s))
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after put, want %d", got, cv+1)
		}
		got, err = b.db.GetLegacySettings(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "settings", got, s)

		// A put replaces: triggers it leaves out are gone.
		only := engine.LegacySettings{engine.TriggerExpired: {Enabled: true, Channels: []string{"email"}}}
		must(t, b.db.PutLegacySettings(b.ctx, b.a.ID, only))
		got, err = b.db.GetLegacySettings(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "settings after replace", got, only)
		other, err := b.db.GetLegacySettings(b.ctx, b.b.ID)
		must(t, err)
		equal(t, "B's settings", other, engine.LegacySettings{})

		wantCode(t, b.db.PutLegacySettings(b.ctx, "no-such-tenant", only), engine.ENOTFOUND, "")
	})
}

func TestResolverInputs(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		w1 := b.workflow(t, b.a.ID, engine.TriggerSent)
		w2 := b.workflow(t, b.a.ID, engine.TriggerRejected)
		w2.Enabled = false
		must(t, b.db.UpdateWorkflow(b.ctx, w2, 0))
		gone := b.workflow(t, b.a.ID, engine.TriggerSent)
		must(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, gone.ID))
		r2 := b.rule(t, b.a.ID, w2.ID, 20)
		r1 := b.rule(t, b.a.ID, w1.ID, 10)
		legacy := engine.LegacySettings{engine.TriggerSent: {Enabled: true, Channels: []string{"email"}}}
		must(t, b.db.PutLegacySettings(b.ctx, b.a.ID, legacy))
		b.rule(t, b.b.ID, b.workflow(t, b.b.ID, engine.TriggerSent).ID, 1)

		in, err := b.db.ResolverInputs(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "config version", in.ConfigVersion, b.configVersion(t, b.a.ID))
		equal(t, "mode", in.Mode, engine.ModeEngine)
		equal(t, "rules", canonRules(t, in.Rules), canonRules(t, []engine.Rule{*r1, *r2}))
		equal(t, "legacy", in.Legacy, legacy)
		strip := func(w *engine.Workflow) engine.Workflow { c := *w; c.Steps = nil; return c }
		equal(t, "workflows (current versions, no steps, deleted ones left out)", in.Workflows,
			[]engine.Workflow{strip(w1), strip(w2)})

		// Every input moves the version.
		before := in.ConfigVersion
		tn := *b.a
		tn.Mode = engine.ModeShadow
		must(t, b.db.UpdateTenant(b.ctx, &tn, 0))
		in, err = b.db.ResolverInputs(b.ctx, b.a.ID)
		must(t, err)
		if in.ConfigVersion <= before || in.Mode != engine.ModeShadow {
			t.Fatalf("after a mode change: version %d (was %d), mode %s", in.ConfigVersion, before, in.Mode)
		}

		_, err = b.db.ResolverInputs(b.ctx, "no-such-tenant")
		wantCode(t, err, engine.ENOTFOUND, "")

		empty, err := b.db.ResolverInputs(b.ctx, b.tenant(t, "Empty").ID)
		must(t, err)
		equal(t, "empty tenant", empty, store.ResolverInputs{ConfigVersion: 1, Mode: engine.ModeEngine,
			Legacy: engine.LegacySettings{}})
	})
}
