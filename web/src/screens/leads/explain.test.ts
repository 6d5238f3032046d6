import { describe, expect, test } from "vitest";
import { describeCondition, explainDecision, explainPlannedStep, explainTraceEntry, type Decision, type Names } from "./explain";

const names: Names = {
  rules: new Map([
    ["r1", { name: "Web leads", condition: { all: [{ field: "lead.source", op: "eq", value: "web" }] } }],
    ["r2", { name: "Big roofs", condition: { all: [{ field: "quote.amount", op: "gte", value: 5000 }, { any: [{ field: "lead.country", op: "in", value: ["PT", "ES"] }, { field: "lead.tags", op: "contains", value: "vip" }] }] } }],
    ["r3", { name: "Everyone", condition: { all: [] } }],
  ]),
  workflows: new Map([["w1", { name: "Follow-up" }]]),
  overrides: new Map([
    ["o1", { reason: "customer asked for no follow-ups", expires_at: "2026-09-01T12:00:00Z" }],
    ["o2", { reason: "VIP", expires_at: null }],
  ]),
};

function decision(d: Partial<Decision>): Decision {
  return { outcome: "none", source: "fallback", reason: "", missing_fields: [], trace: [], ...d };
}

describe("explainDecision", () => {
  test("a matched rule says which rule and why, with the workflow that will run", () => {
    const x = explainDecision(
      decision({
        outcome: "workflow",
        source: "rule",
        reason: "rule_matched",
        rule_id: "r1",
        workflow_id: "w1",
        workflow_version: 3,
        trace: [{ kind: "rule", id: "r1", result: "matched", reason: "rule_matched", detail: "condition true" }],
      }),
      "quote.sent",
      names,
    );
    expect(x.headline).toBe("Workflow 'Follow-up' (version 3) will run.");
    expect(x.because).toEqual(["Rule 'Web leads' matched because lead.source is web."]);
    expect(x.steps).toEqual(["Rule 'Web leads' matched because lead.source is web."]);
  });

  test("a suppressing override names its reason and until when", () => {
    const x = explainDecision(
      decision({ outcome: "suppressed", source: "override", reason: "override_suppress", override_id: "o1" }),
      "quote.sent",
      names,
    );
    expect(x.headline).toMatch(/^Nothing will be sent: the override 'customer asked for no follow-ups' suppresses it until .*2026/);
    expect(x.because).toEqual([]);
    const forever = explainDecision(decision({ outcome: "suppressed", source: "override", reason: "override_suppress", override_id: "o2" }), "quote.sent", names);
    expect(forever.headline).toBe("Nothing will be sent: the override 'VIP' suppresses it until it is removed.");
  });

  test("an override that pins a workflow says so", () => {
    const x = explainDecision(decision({ outcome: "workflow", source: "override", reason: "override_workflow", override_id: "o2", workflow_id: "w1" }), "quote.sent", names);
    expect(x.because).toEqual(["The override 'VIP' pins workflow 'Follow-up' until it is removed."]);
  });

  test("each fallback reason reads as its policy", () => {
    expect(explainDecision(decision({ outcome: "legacy", reason: "fallback_legacy" }), "quote.sent").because[0]).toBe(
      "No override or rule matched, so quote.sent falls back to the legacy settings, which send their message.",
    );
    expect(explainDecision(decision({ reason: "fallback_legacy_disabled" }), "quote.expired").because[0]).toContain("send nothing for quote.expired");
    expect(explainDecision(decision({ reason: "fallback_internal_signal" }), "quote.viewed").because[0]).toContain("internal signal");
    expect(explainDecision(decision({ reason: "fallback_none_by_design" }), "quote.rejected").because[0]).toContain("rejected quote sends nothing");
    expect(explainDecision(decision({ source: "mode", reason: "mode_legacy_disabled" }), "quote.sent").because[0]).toContain("legacy mode");
    expect(explainDecision(decision({ reason: "fallback_legacy_disabled" }), "quote.expired").headline).toBe("Nothing will be sent.");
  });

  test("an unknown reason still gives a sentence, not nothing", () => {
    const x = explainDecision(decision({ source: "fallback", reason: "some_new_reason" }), "quote.sent");
    expect(x.because).toEqual(["Decided by the fallback (some new reason)."]);
  });

  test("missing fields and warnings are said", () => {
    const x = explainDecision(
      decision({
        reason: "fallback_legacy_disabled",
        missing_fields: ["lead.country"],
        trace: [
          { kind: "override", id: "o9", result: "warning", reason: "workflow_disabled", detail: 'pinned workflow "w9" (Old) is disabled; override skipped' },
          { kind: "rule", id: "r2", result: "failed", reason: "condition_unknown", field: "lead.country", op: "in", expected: ["PT", "ES"], detail: "" },
        ],
      }),
      "quote.sent",
      names,
    );
    expect(x.because).toContain("The lead has no lead.country, so conditions about it could not match.");
    expect(x.because).toContain('Warning: An override of this lead was skipped: pinned workflow "w9" (Old) is disabled; override skipped.');
    expect(x.steps[1]).toBe('Rule \'Big roofs\' did not match: the lead has no lead.country, so "lead.country is one of PT, ES" cannot be decided.');
  });
});

describe("explainTraceEntry", () => {
  test("a failed comparison says what was needed and what the lead has", () => {
    expect(
      explainTraceEntry({ kind: "rule", id: "r1", result: "failed", reason: "condition_false", field: "lead.source", op: "eq", expected: "web", actual: "phone", detail: "" }, "quote.sent", names),
    ).toBe("Rule 'Web leads' did not match: it needs lead.source is web; it is phone.");
  });
  test("skipped rules say why, and an unnamed rule falls back to its id", () => {
    expect(explainTraceEntry({ kind: "rule", id: "r3", result: "skipped", reason: "disabled", detail: "rule is disabled" }, "quote.sent", names)).toBe(
      "Rule 'Everyone' was skipped: it is turned off.",
    );
    expect(explainTraceEntry({ kind: "rule", id: "rx", result: "skipped", reason: "wrong_trigger", detail: "" }, "quote.sent", names)).toBe(
      "Rule 'rx' was skipped: it is for another trigger.",
    );
    expect(explainTraceEntry({ kind: "rule", id: "r3", result: "matched", reason: "rule_matched", detail: "" }, "quote.sent", names)).toBe(
      "Rule 'Everyone' matched: it applies to every lead.",
    );
  });
  test("an expired override", () => {
    expect(explainTraceEntry({ kind: "override", id: "o1", result: "skipped", reason: "expired", detail: "override expired at x" }, "quote.sent", names)).toBe(
      "The override 'customer asked for no follow-ups' has expired and no longer counts.",
    );
  });
});

describe("describeCondition", () => {
  test("nested groups read with and/or and parentheses", () => {
    expect(describeCondition(names.rules!.get("r2")!.condition)).toBe("quote.amount is at least 5000 and (lead.country is one of PT, ES or lead.tags contains vip)");
    expect(describeCondition({ all: [] })).toBe("it applies to every lead");
    expect(describeCondition({ any: [] })).toBe("it matches no lead");
    expect(describeCondition({ field: "lead.phone", op: "exists" })).toBe("lead.phone is set");
  });
});

describe("explainPlannedStep", () => {
  test("an email, a wait and a suppressed WhatsApp message", () => {
    const base = { missing_fields: [], skipped: false, suppressed: false, fallback: false, when: "true" as const, at: "2026-05-01T09:00:00Z" };
    expect(explainPlannedStep({ ...base, step_id: "s1", position: 0, type: "send_email", channel: "email", to: "ana@example.com", email: { subject: "Your quote", text: "Hi" } })).toMatch(
      /^1\. Email to ana@example.com at .+: "Your quote"\.$/,
    );
    expect(explainPlannedStep({ ...base, step_id: "s2", position: 1, type: "wait" })).toMatch(/^2\. Wait until .+\.$/);
    expect(
      explainPlannedStep({ ...base, step_id: "s3", position: 2, type: "send_whatsapp", channel: "whatsapp", to: "", suppressed: true, reason: "no_whatsapp_opt_in" }),
    ).toMatch(/^3\. WhatsApp message to nobody \(no address\) at .+ — would not be sent: no whatsapp opt in\.$/);
  });
});
