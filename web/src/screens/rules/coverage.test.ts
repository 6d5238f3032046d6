import { describe, expect, test } from "vitest";
import { warningsByRule } from "./coverage";

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
