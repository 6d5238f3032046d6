package store_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func canonRule(t *testing.T, r engine.Rule) engine.Rule {
	t.Helper()
	r.Condition = canon(t, r.Condition)
	return r
}

func canonRules(t *testing.T, rs []engine.Rule) []engine.Rule {
	t.Helper()
	out := make([]engine.Rule, len(rs))
	for i, r := range rs {
		out[i] = canonRule(t, r)
	}
	return out
}

func TestRuleRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		w := b.workflow(t, b.a.ID, engine.TriggerRejected)
		cv := b.configVersion(t, b.a.ID)
		r := &engine.Rule{TenantID: b.a.ID, Name: "Web leads", Trigger: string(engine.TriggerRejected), Priority: 10,
			Enabled: true, WorkflowID: w.ID,
			Condition: json.RawMessage(`{"all": [{"field": "lead.source", "op": "eq", "value": "web"},
				{"any": [{"field": "quote.amount", "op": "gte", "value": 1000.5}]}]}`)}
		must(t, b.db.CreateRule(b.ctx, r))
		if r.ID == "" || r.Version != 1 || !r.CreatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("CreateRule did not fill in the rule: %+v", r)
		}
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after create, want %d", got, cv+1)
		}
		got, err := b.db.GetRule(b.ctx, b.a.ID, r.ID)
		must(t, err)
		equal(t, "rule", canonRule(t, *got), canonRule(t, *r))
		// Whitespace goes; meaning stays.
		if strings.ContainsAny(string(got.Condition), " \n\t") {
			t.Fatalf("condition not compacted: %s", got.Condition)
		}

		w2 := b.workflow(t, b.a.ID, engine.TriggerRejected)
		b.clock.Advance(time.Minute)
		r.Enabled, r.Priority, r.WorkflowID, r.Condition, r.Trigger = false, 5, w2.ID, nil, engine.AnyTrigger
		must(t, b.db.UpdateRule(b.ctx, r, 1))
		if r.Version != 2 || !r.UpdatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) || r.CreatedAt.Equal(r.UpdatedAt) {
			t.Fatalf("after update: %+v", r)
		}
		got, err = b.db.GetRule(b.ctx, b.a.ID, r.ID)
		must(t, err)
		equal(t, "updated rule with a nil condition", *got, *r)

		wantCode(t, b.db.UpdateRule(b.ctx, r, 1), engine.EPRECONDITION, "")
		cv = b.configVersion(t, b.a.ID)
		must(t, b.db.DeleteRule(b.ctx, b.a.ID, r.ID))
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after delete, want %d", got, cv+1)
		}
		_, err = b.db.GetRule(b.ctx, b.a.ID, r.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteRule(b.ctx, b.a.ID, r.ID), engine.ENOTFOUND, "")
		wantCode(t, b.db.UpdateRule(b.ctx, r, 0), engine.ENOTFOUND, "")
	})
}

func TestRuleWorkflowMustExist(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		wa, wb := b.workflow(t, b.a.ID, engine.TriggerSent), b.workflow(t, b.b.ID, engine.TriggerSent)
		cv := b.configVersion(t, b.a.ID)
		for name, id := range map[string]string{"unknown": "no-such-workflow", "other tenant's": wb.ID, "empty": ""} {
			err := b.db.CreateRule(b.ctx, &engine.Rule{TenantID: b.a.ID, Trigger: "*", WorkflowID: id})
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.EINVALID, "body.workflow_id") })
		}
		if got := b.configVersion(t, b.a.ID); got != cv {
			t.Fatalf("failed creates moved the config version from %d to %d", cv, got)
		}
		r := b.rule(t, b.a.ID, wa.ID, 10)
		moved := *r
		moved.WorkflowID = wb.ID
		wantCode(t, b.db.UpdateRule(b.ctx, &moved, 0), engine.EINVALID, "body.workflow_id")
		// A stale version is reported before the bad workflow.
		wantCode(t, b.db.UpdateRule(b.ctx, &moved, 7), engine.EPRECONDITION, "")
		got, err := b.db.GetRule(b.ctx, b.a.ID, r.ID)
		must(t, err)
		equal(t, "rule after failed updates", canonRule(t, *got), canonRule(t, *r))
	})
}

func TestListRulesOrder(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		r20 := b.rule(t, b.a.ID, w.ID, 20)
		b.clock.Advance(time.Second)
		r10late := b.rule(t, b.a.ID, w.ID, 10)
		b.clock.Advance(-time.Hour) // an older timestamp wins a tie, whatever the id says
		r10early := b.rule(t, b.a.ID, w.ID, 10)
		b.clock.Advance(time.Hour)
		r10sameTime := b.rule(t, b.a.ID, w.ID, 10) // same time as r10late: the id decides
		b.rule(t, b.b.ID, b.workflow(t, b.b.ID, engine.TriggerSent).ID, 1)

		got, err := b.db.ListRules(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "rules", canonRules(t, got), canonRules(t, []engine.Rule{*r10early, *r10late, *r10sameTime, *r20}))
	})
}

func TestReorderRules(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		r1, r2, r3 := b.rule(t, b.a.ID, w.ID, 1), b.rule(t, b.a.ID, w.ID, 2), b.rule(t, b.a.ID, w.ID, 3)
		rb := b.rule(t, b.b.ID, b.workflow(t, b.b.ID, engine.TriggerSent).ID, 1)

		for name, c := range map[string]struct {
			ids  []string
			want []string // ids named by the error
		}{
			"missing":         {[]string{r3.ID, r1.ID}, []string{r2.ID}},
			"unknown":         {[]string{r3.ID, r1.ID, r2.ID, "nope"}, []string{"nope"}},
			"other tenant's":  {[]string{r3.ID, r1.ID, r2.ID, rb.ID}, []string{rb.ID}},
			"repeated":        {[]string{r3.ID, r1.ID, r2.ID, r1.ID}, []string{r1.ID}},
			"empty":           {nil, []string{r1.ID, r2.ID, r3.ID}},
			"missing and bad": {[]string{"nope", r1.ID}, []string{"nope", r2.ID, r3.ID}},
		} {
			t.Run(name, func(t *testing.T) {
				e := wantCode(t, b.db.ReorderRules(b.ctx, b.a.ID, c.ids), engine.EINVALID, "body.rule_ids")
				var named []string
				for _, f := range e.Fields {
					if f.Field != "body.rule_ids" {
						t.Errorf("field %q", f.Field)
					}
					id, _ := f.Value.(string)
					named = append(named, id)
					if !strings.Contains(f.Message, id) {
						t.Errorf("message %q does not name %s", f.Message, id)
					}
				}
				slices.Sort(named)
				want := slices.Clone(c.want)
				slices.Sort(want)
				equal(t, "ids named", named, want)
			})
		}

		cv := b.configVersion(t, b.a.ID)
		b.clock.Advance(time.Minute)
		must(t, b.db.ReorderRules(b.ctx, b.a.ID, []string{r3.ID, r1.ID, r2.ID}))
		got, err := b.db.ListRules(b.ctx, b.a.ID)
		must(t, err)
		var order []string
		for i, r := range got {
			order = append(order, r.ID)
			if r.Priority != (i+1)*10 || r.Version != 2 || !r.UpdatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) {
				t.Errorf("rule %d after reorder: priority %d, version %d, updated %v", i, r.Priority, r.Version, r.UpdatedAt)
			}
		}
		equal(t, "order", order, []string{r3.ID, r1.ID, r2.ID})
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after reorder, want %d", got, cv+1)
		}
		other, err := b.db.GetRule(b.ctx, b.b.ID, rb.ID)
		must(t, err)
		equal(t, "B's rule", canonRule(t, *other), canonRule(t, *rb))

		// A tenant with no rules reorders nothing, successfully.
		must(t, b.db.ReorderRules(b.ctx, b.tenant(t, "Empty").ID, nil))
	})
}

func TestRuleIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		rb := b.rule(t, b.b.ID, b.workflow(t, b.b.ID, engine.TriggerSent).ID, 1)
		wa := b.workflow(t, b.a.ID, engine.TriggerSent)
		_, err := b.db.GetRule(b.ctx, b.a.ID, rb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		hijack := *rb
		hijack.TenantID, hijack.WorkflowID = b.a.ID, wa.ID
		wantCode(t, b.db.UpdateRule(b.ctx, &hijack, 0), engine.ENOTFOUND, "")
		wantCode(t, b.db.UpdateRule(b.ctx, &hijack, 1), engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteRule(b.ctx, b.a.ID, rb.ID), engine.ENOTFOUND, "")
		list, err := b.db.ListRules(b.ctx, b.a.ID)
		must(t, err)
		if len(list) != 0 {
			t.Fatal("A lists B's rules")
		}
		got, err := b.db.GetRule(b.ctx, b.b.ID, rb.ID)
		must(t, err)
		equal(t, "B's rule, untouched", canonRule(t, *got), canonRule(t, *rb))
	})
}
