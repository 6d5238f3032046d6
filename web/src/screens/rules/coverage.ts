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

/** A field a rule reads that some recent events lacked. */
export interface MissingField {
  field: string;
  missing: number;
  events: number;
  /** The share as a whole percent, at least 1 when any event lacked it. */
  percent: number;
}

/**
 * missingFieldsByRule lists, per rule, the fields its condition reads that
 * at least one of the window's events of its trigger lacked, the most
 * often missing first: a field missing from the lead context is what keeps
 * a rule from matching leads it was written for.
 */
export function missingFieldsByRule(c: Coverage | null): Map<string, MissingField[]> {
  const out = new Map<string, MissingField[]>();
  for (const r of c?.rules ?? []) {
    const list = r.fields
      .filter((f) => f.missing > 0)
      .map((f) => ({ field: f.field, missing: f.missing, events: r.events, percent: Math.max(1, Math.round(f.missing_share * 100)) }))
      .sort((a, b) => b.missing - a.missing || a.field.localeCompare(b.field));
    if (list.length > 0) out.set(r.rule_id, list);
  }
  return out;
}
