import { describe, expect, test } from "vitest";
import { missingFieldsByRule, warningsByRule } from "./coverage";

const outcome = { outcome: "none" as const, reason: "fallback_none_by_design" };

describe("warningsByRule", () => {
  test("groups by rule, lists a * rule's warning once with its triggers, keeps the rest apart", () => {
    const w = { code: "rule_workflow_disabled", message: "the workflow is disabled", rule_id: "r1" };
    const m = warningsByRule({
      mode: "engine",
      rules: [],
      triggers: [
        { trigger: "quote.sent", enabled_path: false, engine_path: false, rules: ["r1"], fallback: outcome, legacy: outcome, warnings: [w] },
        {
          trigger: "quote.viewed",
          enabled_path: false,
          engine_path: false,
          rules: ["r1"],
          fallback: outcome,
          legacy: outcome,
          warnings: [w, { code: "override_workflow_missing", message: "an override names a deleted workflow", override_id: "o1" }],
        },
      ],
    });
    expect(m.get("r1")).toEqual([{ code: "rule_workflow_disabled", message: "the workflow is disabled", triggers: ["quote.sent", "quote.viewed"] }]);
    expect(m.get("")).toEqual([{ code: "override_workflow_missing", message: "an override names a deleted workflow", triggers: ["quote.viewed"] }]);
    expect(warningsByRule(null).size).toBe(0);
  });
});

describe("missingFieldsByRule", () => {
  test("lists a rule's fields that events lacked, most often missing first, and leaves complete rules out", () => {
    const m = missingFieldsByRule({
      mode: "engine",
      triggers: [],
      rules: [
        {
          rule_id: "r1", name: "Tile roofs", enabled: true, trigger: "quote.sent", events: 200,
          fields: [
            { field: "lead.source", missing: 0, missing_share: 0 },
            { field: "lead.country", missing: 1, missing_share: 0.005 },
            { field: "lead.custom.roof_type", missing: 30, missing_share: 0.15 },
          ],
        },
        { rule_id: "r2", name: "Web", enabled: true, trigger: "*", events: 10, fields: [{ field: "lead.source", missing: 0, missing_share: 0 }] },
      ],
    });
    expect(m.get("r1")).toEqual([
      { field: "lead.custom.roof_type", missing: 30, events: 200, percent: 15 },
      { field: "lead.country", missing: 1, events: 200, percent: 1 },
    ]);
    expect(m.has("r2")).toBe(false);
    expect(missingFieldsByRule(null).size).toBe(0);
  });
});
