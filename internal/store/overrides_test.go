package store_test

import (
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func TestOverrides(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l, l2 := b.lead(t, b.a.ID), b.lead(t, b.a.ID)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		cv := b.configVersion(t, b.a.ID)

		expires := time.Date(2026, 6, 1, 12, 0, 0, 500, time.UTC)
		pin := &engine.Override{TenantID: b.a.ID, LeadID: l.ID, Trigger: string(engine.TriggerSent),
			Action: engine.OverrideWorkflow, WorkflowID: w.ID, ExpiresAt: &expires, Reason: "VIP"}
		must(t, b.db.CreateOverride(b.ctx, pin))
		if pin.ID == "" || !pin.CreatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) ||
			*pin.ExpiresAt != expires.Truncate(time.Microsecond) {
			t.Fatalf("CreateOverride did not fill in the override: %+v", pin)
		}
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after create, want %d", got, cv+1)
		}
		b.clock.Advance(time.Second)
		suppress := &engine.Override{TenantID: b.a.ID, LeadID: l.ID, Trigger: engine.AnyTrigger,
			Action: engine.OverrideSuppress, Reason: "asked for no follow-ups"}
		must(t, b.db.CreateOverride(b.ctx, suppress))
		other := &engine.Override{TenantID: b.a.ID, LeadID: l2.ID, Trigger: engine.AnyTrigger, Action: engine.OverrideSuppress}
		must(t, b.db.CreateOverride(b.ctx, other))

		got, err := b.db.GetOverride(b.ctx, b.a.ID, pin.ID)
		must(t, err)
		equal(t, "pinned override", got, pin)
		got, err = b.db.GetOverride(b.ctx, b.a.ID, suppress.ID)
		must(t, err)
		equal(t, "suppressing override (no workflow, no expiry)", got, suppress)

		list, err := b.db.ListOverrides(b.ctx, b.a.ID, l.ID)
		must(t, err)
		equal(t, "overrides of the lead", list, []engine.Override{*pin, *suppress})
		all, err := b.db.ListAllOverrides(b.ctx, b.a.ID)
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("%d overrides in the tenant, want 3", len(all))
		}

		// One per lead and trigger.
		dup := &engine.Override{TenantID: b.a.ID, LeadID: l.ID, Trigger: string(engine.TriggerSent), Action: engine.OverrideSuppress}
		wantCode(t, b.db.CreateOverride(b.ctx, dup), engine.ECONFLICT, "body.trigger")
		if dup.ID != "" {
			t.Fatal("a failed create filled in the id")
		}

		cv = b.configVersion(t, b.a.ID)
		wantCode(t, b.db.DeleteOverride(b.ctx, b.a.ID, l2.ID, pin.ID), engine.ENOTFOUND, "") // wrong lead
		must(t, b.db.DeleteOverride(b.ctx, b.a.ID, l.ID, pin.ID))
		wantCode(t, b.db.DeleteOverride(b.ctx, b.a.ID, l.ID, pin.ID), engine.ENOTFOUND, "")
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after delete, want %d", got, cv+1)
		}
		_, err = b.db.GetOverride(b.ctx, b.a.ID, pin.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		// The trigger is free again.
		must(t, b.db.CreateOverride(b.ctx, dup))
	})
}

func TestOverrideReferences(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		la, lb := b.lead(t, b.a.ID), b.lead(t, b.b.ID)
		wb := b.workflow(t, b.b.ID, engine.TriggerSent)

		// The lead is in the URL: 404. The workflow is in the body: 422.
		_, err := b.db.ListOverrides(b.ctx, b.a.ID, "no-such-lead")
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = b.db.ListOverrides(b.ctx, b.a.ID, lb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		for name, leadID := range map[string]string{"unknown lead": "no-such-lead", "other tenant's lead": lb.ID} {
			err := b.db.CreateOverride(b.ctx, &engine.Override{TenantID: b.a.ID, LeadID: leadID, Trigger: "*",
				Action: engine.OverrideSuppress})
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.ENOTFOUND, "") })
		}
		for name, wfID := range map[string]string{"unknown workflow": "no-such-workflow", "other tenant's workflow": wb.ID} {
			err := b.db.CreateOverride(b.ctx, &engine.Override{TenantID: b.a.ID, LeadID: la.ID, Trigger: "*",
				Action: engine.OverrideWorkflow, WorkflowID: wfID})
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.EINVALID, "body.workflow_id") })
		}
		if n := b.count(t, "lead_overrides", b.a.ID); n != 0 {
			t.Fatalf("%d overrides after failed creates", n)
		}
	})
}

func TestOverrideIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		lb := b.lead(t, b.b.ID)
		ob := &engine.Override{TenantID: b.b.ID, LeadID: lb.ID, Trigger: "*", Action: engine.OverrideSuppress}
		must(t, b.db.CreateOverride(b.ctx, ob))
		_, err := b.db.GetOverride(b.ctx, b.a.ID, ob.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteOverride(b.ctx, b.a.ID, lb.ID, ob.ID), engine.ENOTFOUND, "")
		all, err := b.db.ListAllOverrides(b.ctx, b.a.ID)
		must(t, err)
		if len(all) != 0 {
			t.Fatal("A lists B's overrides")
		}
		got, err := b.db.GetOverride(b.ctx, b.b.ID, ob.ID)
		must(t, err)
		equal(t, "B's override, untouched", got, ob)
	})
}
