import type { components } from "../../api/schema";
import { explainDecision, formatTime, type Names } from "./explain";

// The lead's timeline as one chronological list. The API answers events,
// runs (with their steps), messages (with attempts and receipts) and
// alerts as separate lists; a person reads what happened in order, so they
// are flattened here into entries sorted by time and grouped by day.

type Schemas = components["schemas"];
export type Timeline = Schemas["TimelineOut"];

/** One line of the timeline. */
export interface Entry {
  key: string;
  at: string;
  kind: "event" | "run" | "step" | "message" | "attempt" | "receipt" | "alert" | "reply" | "consent";
  title: string;
  detail?: string;
}

/** A day of the timeline, with its entries oldest first. */
export interface Day {
  day: string;
  entries: Entry[];
}

const actionWords: Record<string, string> = {
  send: "sent",
  view: "viewed by the customer",
  accept: "accepted",
  reject: "rejected",
  expire: "expired",
};

const consentSources: Record<string, string> = {
  keyword: "a keyword in a reply",
  button: "a button in a reply",
  preference: "the customer's WhatsApp marketing preference",
  unsubscribe: "the email's one-click unsubscribe",
  api: "a change made over the API",
};

function channelWord(c: string): string {
  return c === "whatsapp" ? "WhatsApp message" : "Email";
}

/** timelineEntries flattens a timeline into entries sorted by time (ties keep the API's order). */
export function timelineEntries(t: Timeline, names: Names = {}, quoteNumbers: Map<string, string> = new Map()): Entry[] {
  const out: Entry[] = [];
  const quote = (id: string) => `Quote ${quoteNumbers.get(id) ?? id}`;
  for (const e of t.events) {
    const x = explainDecision(e.decision, e.trigger, names);
    out.push({
      key: `e-${e.id}`,
      at: e.created_at,
      kind: "event",
      title: `${quote(e.quote_id)} ${actionWords[e.action] ?? e.action} (${e.trigger})${e.duplicate ? ", a duplicate: nothing ran" : ""}`,
      detail: [x.headline, ...x.because].join(" "),
    });
  }
  for (const r of t.runs ?? []) {
    const wf = names.workflows?.get(r.workflow_id)?.name ?? r.workflow_id;
    out.push({
      key: `r-${r.id}`,
      at: r.created_at,
      kind: "run",
      title: `Workflow '${wf}' (version ${r.workflow_version}) started${r.shadow ? " in shadow (nothing delivered)" : ""}`,
      detail: `Run ${r.status}${r.reason ? `: ${r.reason.replace(/_/g, " ")}` : ""}${r.finished_at ? `, finished ${formatTime(r.finished_at)}` : ""}.`,
    });
    for (const s of r.steps ?? []) {
      const at = s.finished_at ?? s.scheduled_at;
      if (!at) continue;
      const kind = s.type === "wait" ? "wait" : s.type === "send_whatsapp" ? "WhatsApp step" : "email step";
      out.push({
        key: `s-${r.id}-${s.step_id}`,
        at,
        kind: "step",
        title: `Step ${s.position + 1} (${kind}) ${s.status}${s.outcome ? `: ${s.outcome.replace(/_/g, " ")}` : ""}`,
        detail: s.detail || undefined,
      });
    }
  }
  for (const m of t.messages) {
    out.push({
      key: `m-${m.id}`,
      at: m.created_at,
      kind: "message",
      title: `${channelWord(m.channel)} to ${m.to || "nobody"}: ${m.status}${m.reason ? ` (${m.reason.replace(/_/g, " ")})` : ""}`,
      detail: m.subject ? `Subject: ${m.subject}` : m.template ? `Template ${m.template.template} (${m.template.language})` : undefined,
    });
    for (const a of m.attempt_list) {
      out.push({
        key: `a-${m.id}-${a.number}`,
        at: a.started_at,
        kind: "attempt",
        title: `Attempt ${a.number} through ${a.provider}: ${a.outcome || "in flight"}`,
        detail: a.error ? `${a.error}${a.error_class ? ` (${a.error_class})` : ""}${a.retry_at ? `; retry at ${formatTime(a.retry_at)}` : ""}` : undefined,
      });
    }
    m.receipts.forEach((r, i) => {
      out.push({
        key: `c-${m.id}-${i}`,
        at: r.received_at,
        kind: "receipt",
        title: `Receipt from the provider: ${r.status}`,
        detail: r.error_code ? `Error ${r.error_code}${r.error_class ? ` (${r.error_class})` : ""}` : undefined,
      });
    });
  }
  for (const r of t.inbound ?? []) {
    const what = r.text ? `"${r.text}"` : r.media ? `a ${r.type} (kept by reference)` : `a ${r.type} message`;
    out.push({
      key: `in-${r.id}`,
      at: r.sent_at,
      kind: "reply",
      title: `WhatsApp reply from ${r.profile_name || r.from}: ${what}`,
      detail: r.consent === "opt_out" ? `"${r.consent_word ?? r.text ?? ""}" opted the lead out of WhatsApp.` : r.consent === "opt_in" ? "This opted the lead back in to WhatsApp." : undefined,
    });
  }
  for (const c of t.consent_changes ?? []) {
    const channel = c.channel === "whatsapp" ? "WhatsApp" : "email";
    out.push({
      key: `cc-${c.id}`,
      at: c.created_at,
      kind: "consent",
      title: c.opted_in ? `Opted in to ${channel}` : `Opted out of ${channel}`,
      detail: `By ${consentSources[c.source] ?? c.source.replace(/_/g, " ")}${c.detail ? `: ${c.detail}` : ""}.`,
    });
  }
  for (const a of t.alerts ?? []) {
    out.push({ key: `al-${a.id}`, at: a.first_seen, kind: "alert", title: `Alert (${a.state}): ${a.summary}`, detail: a.action || undefined });
  }
  return out
    .map((e, i) => ({ e, i, t: new Date(e.at).getTime() }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
}

/** groupByDay splits sorted entries into days, in the browser's zone. */
export function groupByDay(entries: Entry[]): Day[] {
  const days: Day[] = [];
  for (const e of entries) {
    const day = new Date(e.at).toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    const last = days[days.length - 1];
    if (last && last.day === day) last.entries.push(e);
    else days.push({ day, entries: [e] });
  }
  return days;
}
