import type { components } from "../../api/schema";

type Workflow = components["schemas"]["WorkflowOut"];
type Step = components["schemas"]["Step"];

/** One difference between two versions of a workflow, in words a person reads. */
export interface Change {
  kind: "changed" | "added" | "removed" | "moved";
  /** What changed: "name", "step 2 (send email): email subject". */
  what: string;
  before?: string;
  after?: string;
}

const typeNames: Record<string, string> = { send_email: "send email", send_whatsapp: "send WhatsApp", wait: "wait" };

/** JSON with object keys sorted, so that equal conditions compare equal whatever their key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

// The fields of a step a person edits, each as one comparable string.
function stepFields(s: Step): Record<string, string> {
  const out: Record<string, string> = { type: typeNames[s.type] ?? s.type };
  if ("email" in s && s.email) {
    out["email subject"] = s.email.subject;
    out["email text"] = s.email.text;
    if (s.email.html) out["email HTML"] = s.email.html;
  }
  if (s.type === "send_whatsapp") {
    out["WhatsApp template"] = s.whatsapp.template;
    out["WhatsApp language"] = s.whatsapp.language;
    out["WhatsApp parameters"] = (s.whatsapp.parameters ?? []).join(" | ");
    if (s.fallback_channel) out["fallback channel"] = s.fallback_channel;
  }
  if (s.type === "wait") out["wait"] = s.wait.duration;
  if (s.when) out["when"] = canonical(s.when);
  return out;
}

// What an added or removed step held, in one line.
function gist(s: Step): string {
  const f = stepFields(s);
  return Object.entries(f)
    .filter(([k]) => k !== "type")
    .map(([k, v]) => `${k}: ${v}`)
    .join("; ");
}

function stepLabel(s: Step, i: number): string {
  return `step ${i + 1} (${typeNames[s.type] ?? s.type})`;
}

/**
 * diffWorkflows lists what changed from version a to version b: the
 * workflow's own fields, then steps matched by id (added, removed, moved
 * among the steps both have, and each changed field).
 */
export function diffWorkflows(a: Workflow, b: Workflow): Change[] {
  const out: Change[] = [];
  const field = (what: string, x: string, y: string) => {
    if (x !== y) out.push({ kind: "changed", what, before: x, after: y });
  };
  field("name", a.name, b.name);
  field("trigger", a.trigger, b.trigger);
  field("enabled", a.enabled ? "yes" : "no", b.enabled ? "yes" : "no");
  field("exit on", a.exit_on.join(", ") || "none", b.exit_on.join(", ") || "none");

  const inB = new Map(b.steps.map((s, i) => [s.id, i]));
  const inA = new Map(a.steps.map((s, i) => [s.id, i]));
  a.steps.forEach((s, i) => {
    if (!inB.has(s.id)) out.push({ kind: "removed", what: stepLabel(s, i), before: gist(s) });
  });
  // Moves are judged among the steps both versions have, so that adding or
  // removing one step does not report every later step as moved.
  const commonA = a.steps.filter((s) => inB.has(s.id)).map((s) => s.id);
  const commonB = b.steps.filter((s) => inA.has(s.id)).map((s) => s.id);
  b.steps.forEach((s, j) => {
    const i = inA.get(s.id);
    if (i === undefined) {
      out.push({ kind: "added", what: stepLabel(s, j), after: gist(s) });
      return;
    }
    const before = a.steps[i]!;
    if (commonA.indexOf(s.id) !== commonB.indexOf(s.id)) {
      out.push({ kind: "moved", what: stepLabel(s, j), before: `position ${i + 1}`, after: `position ${j + 1}` });
    }
    const fa = stepFields(before);
    const fb = stepFields(s);
    for (const k of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
      const x = fa[k] ?? "";
      const y = fb[k] ?? "";
      if (x !== y) out.push({ kind: "changed", what: `${stepLabel(s, j)}: ${k}`, before: x || "(none)", after: y || "(none)" });
    }
  });
  return out;
}
