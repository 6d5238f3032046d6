import type { components } from "../../api/schema";

type Coverage = components["schemas"]["CoverageReport"];

/** A coverage warning once, with every trigger it was reported under. */
export interface RuleWarning {
  code: string;
  message: string;
  triggers: string[];
}

/**
 * warningsByRule groups the coverage report's warnings by the rule they
 * concern ("" for those about no rule: overrides, workflows). A rule on
 * the trigger * is reported under every trigger: the same warning is
 * listed once, with its triggers.
 */
export function warningsByRule(c: Coverage | null): Map<string, RuleWarning[]> {
  const out = new Map<string, RuleWarning[]>();
  for (const t of c?.triggers ?? []) {
    for (const w of t.warnings) {
      const key = w.rule_id ?? "";
      const list = out.get(key) ?? [];
      const same = list.find((x) => x.code === w.code && x.message === w.message);
      if (same) {
        if (!same.triggers.includes(t.trigger)) same.triggers.push(t.trigger);
      } else list.push({ code: w.code, message: w.message, triggers: [t.trigger] });
      out.set(key, list);
    }
  }
  return out;
}
