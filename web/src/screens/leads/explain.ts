import type { components } from "../../api/schema";

// The resolver's decisions in plain words. The API gives codes (source,
// reason, trace entries with their own reasons) and short technical
// sentences; an admin needs to read "Rule 'Web leads' matched because
// lead.source is web". Everything here is pure so that the wording is
// unit-tested (explain.test.ts).

type Schemas = components["schemas"];
export type Decision = Schemas["Decision"];
export type TraceEntry = Schemas["TraceEntry"];
export type Condition = Schemas["Condition"];
export type Trigger = Schemas["ResolutionOut"]["trigger"];
export type PlannedStep = Schemas["PlannedStepOut"];

/** The five triggers, in the order a quote lives through them. */
export const triggers: Trigger[] = ["quote.sent", "quote.viewed", "quote.accepted", "quote.rejected", "quote.expired"];

/** A trigger as an admin says it. */
export function triggerLabel(t: string): string {
  switch (t) {
    case "quote.sent":
      return "When the quote is sent";
    case "quote.viewed":
      return "When the customer views the quote";
    case "quote.accepted":
      return "When the quote is accepted";
    case "quote.rejected":
      return "When the quote is rejected";
    case "quote.expired":
      return "When the quote expires";
    case "*":
      return "Every trigger";
    default:
      return t;
  }
}

/** What the explanation may name: rules, workflows and overrides by id. */
export interface Names {
  rules?: Map<string, { name: string; condition?: Condition }>;
  workflows?: Map<string, { name: string }>;
  overrides?: Map<string, { reason: string; expires_at?: string | null }>;
}

/** An explanation: one headline (what will happen) and the sentences of why. */
export interface Explanation {
  headline: string;
  because: string[];
  /** The trace, one sentence per override or rule considered, in order. */
  steps: string[];
}

/** A value of a condition or a context as it reads in a sentence. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return "nothing";
  if (Array.isArray(v)) return v.length === 0 ? "nothing" : v.map(formatValue).join(", ");
  if (typeof v === "string") return v === "" ? "empty" : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

const opWords: Record<string, string> = {
  eq: "is",
  neq: "is not",
  in: "is one of",
  nin: "is none of",
  contains: "contains",
  gt: "is more than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
  prefix: "starts with",
};

/** One comparison in words: "lead.source is web", "lead.phone is set". */
export function describeLeaf(field: string, op: string, value?: unknown): string {
  if (op === "exists") return `${field} is set`;
  if (op === "missing") return `${field} is not set`;
  const words = opWords[op] ?? op;
  return `${field} ${words} ${formatValue(value)}`;
}

/** A condition tree in words; nested groups are put in parentheses. */
export function describeCondition(c: Condition | null | undefined, nested = false): string {
  if (!c) return "it applies to every lead";
  if ("all" in c) {
    if (c.all.length === 0) return nested ? "always" : "it applies to every lead";
    if (c.all.length === 1) return describeCondition(c.all[0], nested);
    const s = c.all.map((x) => describeCondition(x, true)).join(" and ");
    return nested ? `(${s})` : s;
  }
  if ("any" in c) {
    if (c.any.length === 0) return nested ? "never" : "it matches no lead";
    if (c.any.length === 1) return describeCondition(c.any[0], nested);
    const s = c.any.map((x) => describeCondition(x, true)).join(" or ");
    return nested ? `(${s})` : s;
  }
  return describeLeaf(c.field, c.op, c.value);
}

/** A date-time for people, in the browser's zone; "" for none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

function quoted(s: string): string {
  return `'${s}'`;
}

function ruleName(id: string | undefined, names: Names): string {
  if (!id) return "A rule";
  const r = names.rules?.get(id);
  return `Rule ${quoted(r?.name || id)}`;
}

function workflowName(id: string | undefined, names: Names, version?: number): string {
  if (!id) return "a workflow";
  const w = names.workflows?.get(id);
  const v = version ? ` (version ${version})` : "";
  return `workflow ${quoted(w?.name || id)}${v}`;
}

function overrideName(id: string | undefined, names: Names): string {
  const o = id ? names.overrides?.get(id) : undefined;
  return o?.reason ? `the override ${quoted(o.reason)}` : "an override of this lead";
}

function overrideUntil(id: string | undefined, names: Names): string {
  const o = id ? names.overrides?.get(id) : undefined;
  if (!o) return "";
  return o.expires_at ? ` until ${formatTime(o.expires_at)}` : " until it is removed";
}

function capital(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/** Why a rule matched, from its condition when it is known. */
function ruleMatched(id: string | undefined, names: Names): string {
  const r = id ? names.rules?.get(id) : undefined;
  const who = ruleName(id, names);
  if (!r || r.condition === undefined) return `${who} matched.`;
  const c = describeCondition(r.condition);
  if (c === "it applies to every lead") return `${who} matched: it applies to every lead.`;
  return `${who} matched because ${c}.`;
}

/** The sentence of a fallback or mode reason, for the trigger. */
function reasonSentence(reason: string, trigger: string): string | null {
  switch (reason) {
    case "fallback_legacy":
      return `No override or rule matched, so ${trigger} falls back to the legacy settings, which send their message.`;
    case "fallback_legacy_disabled":
      return `No override or rule matched, and the legacy settings send nothing for ${trigger}.`;
    case "fallback_internal_signal":
      return "No override or rule matched, and a viewed quote is an internal signal: it sends nothing unless a rule says so.";
    case "fallback_none_by_design":
      return "No override or rule matched, and a rejected quote sends nothing without a rule of its own.";
    case "mode_legacy":
      return `The tenant is in legacy mode: the legacy settings decide, and they send a message for ${trigger}.`;
    case "mode_legacy_disabled":
      return `The tenant is in legacy mode: the legacy settings decide, and they are turned off for ${trigger}.`;
    case "mode_legacy_unsupported_trigger":
      return `The tenant is in legacy mode: the legacy settings decide, and they never sent anything on ${trigger}.`;
    case "duplicate_event":
      return "The same action on the same quote revision was already recorded, so nothing new runs.";
    case "unknown_trigger":
      return `${trigger} is not a trigger the resolver knows.`;
    default:
      return null;
  }
}

/** One trace entry in words. */
export function explainTraceEntry(e: TraceEntry, trigger: string, names: Names = {}): string {
  const detail = e.detail ? capital(e.detail) : "";
  if (e.kind === "rule") {
    const who = ruleName(e.id, names);
    if (e.result === "matched") return ruleMatched(e.id, names);
    if (e.result === "skipped") {
      switch (e.reason) {
        case "disabled":
          return `${who} was skipped: it is turned off.`;
        case "wrong_trigger":
          return `${who} was skipped: it is for another trigger.`;
        case "workflow_disabled":
          return `${who} was skipped: its workflow is turned off.`;
        case "workflow_missing":
          return `${who} was skipped: its workflow no longer exists.`;
        default:
          return `${who} was skipped${detail ? `: ${e.detail}` : ""}.`;
      }
    }
    if (e.reason === "condition_unknown" && e.field) {
      return `${who} did not match: the lead has no ${e.field}, so "${describeLeaf(e.field, e.op ?? "eq", e.expected)}" cannot be decided.`;
    }
    if (e.reason === "condition_false" && e.field) {
      const actual = e.op === "exists" || e.op === "missing" ? "" : `; it is ${formatValue(e.actual)}`;
      return `${who} did not match: it needs ${describeLeaf(e.field, e.op ?? "eq", e.expected)}${actual}.`;
    }
    return `${who} did not match${detail ? `: ${e.detail}` : ""}.`;
  }
  if (e.kind === "override") {
    const who = e.id ? overrideName(e.id, names) : "an override";
    if (e.reason === "expired") return `${capital(who)} has expired and no longer counts.`;
    if (e.result === "matched" && e.reason === "override_suppress") return `${capital(who)} suppresses every message${overrideUntil(e.id, names)}.`;
    if (e.result === "matched") return `${capital(who)} pins the workflow to run${overrideUntil(e.id, names)}.`;
    return `${capital(who)} was skipped${detail ? `: ${e.detail}` : ""}.`;
  }
  if (e.kind === "fallback" || e.kind === "mode") {
    return reasonSentence(e.reason ?? "", trigger) ?? (detail ? `${detail}.` : "The fallback decided.");
  }
  return detail ? `${detail}.` : `${capital(e.kind)}: ${e.result}.`;
}

/**
 * explainDecision turns a decision into sentences: what will happen
 * (headline), why (because) and the trace. An unknown reason (the list is
 * open) still gives a true, generic sentence.
 */
export function explainDecision(d: Decision, trigger: string, names: Names = {}): Explanation {
  let headline: string;
  const because: string[] = [];
  switch (d.outcome) {
    case "workflow":
      headline = `${capital(workflowName(d.workflow_id, names, d.workflow_version))} will run.`;
      break;
    case "legacy":
      headline = "The legacy settings' message will be sent.";
      break;
    case "suppressed":
      headline = `Nothing will be sent: ${overrideName(d.override_id, names)} suppresses it${overrideUntil(d.override_id, names)}.`;
      break;
    default:
      headline = "Nothing will be sent.";
  }
  if (d.source === "rule" || d.reason === "rule_matched") {
    because.push(ruleMatched(d.rule_id, names));
  } else if (d.reason === "override_workflow") {
    because.push(`${capital(overrideName(d.override_id, names))} pins ${workflowName(d.workflow_id, names)}${overrideUntil(d.override_id, names)}.`);
  } else if (d.reason === "override_suppress") {
    // The headline already says it.
  } else {
    const s = reasonSentence(d.reason, trigger);
    because.push(s ?? `Decided by the ${d.source} (${d.reason.replace(/_/g, " ")}).`);
  }
  if (d.missing_fields.length > 0) {
    because.push(
      `The lead has no ${d.missing_fields.join(", ")}, so conditions about ${d.missing_fields.length === 1 ? "it" : "them"} could not match.`,
    );
  }
  for (const e of d.trace) {
    if (e.result === "warning") because.push(`Warning: ${explainTraceEntry(e, trigger, names)}`);
  }
  return { headline, because, steps: d.trace.map((e) => explainTraceEntry(e, trigger, names)) };
}

/** One planned step of a dry run in words. */
export function explainPlannedStep(s: PlannedStep): string {
  const when = formatTime(s.at);
  let what: string;
  if (s.type === "wait") what = `Wait until ${when}`;
  else {
    const channel = s.type === "send_whatsapp" || s.channel === "whatsapp" ? "WhatsApp message" : "Email";
    const via = s.fallback ? ` (fallback to ${s.channel ?? "another channel"})` : "";
    what = `${channel}${via} to ${s.to || "nobody (no address)"} at ${when}`;
    if (s.email) what += `: "${s.email.subject}"`;
    else if (s.whatsapp) what += `: template ${s.whatsapp.template} (${s.whatsapp.language})`;
  }
  const notes: string[] = [];
  if (s.skipped) notes.push(s.when === "unknown" ? "skipped: its condition cannot be decided" : "skipped: its condition is false");
  if (s.suppressed) notes.push(`would not be sent${s.reason ? `: ${s.reason.replace(/_/g, " ")}` : ""}`);
  if (s.render_error) notes.push(`the template does not render: ${s.render_error}`);
  if (s.missing_fields.length > 0) notes.push(`the lead has no ${s.missing_fields.join(", ")}`);
  return `${s.position + 1}. ${what}${notes.length ? ` — ${notes.join("; ")}` : ""}.`;
}
