import type { ApiProblem, FieldProblem } from "../../api/client";
import type { components } from "../../api/schema";

// A lead as its form edits it: every value as the control holds it, and the
// request bodies built from it (create: what was filled in; edit: what
// changed, so that a PATCH never rewrites what someone else just changed).

type Schemas = components["schemas"];
export type Lead = Schemas["LeadOut"];
export type LeadIn = Schemas["LeadIn"];
export type LeadPatch = Schemas["LeadPatch"];

/** The text fields of a lead, in form order. */
export const textFields = ["first_name", "last_name", "email", "phone", "language", "country", "timezone", "source", "stage", "owner"] as const;
export type TextField = (typeof textFields)[number];

export type LeadDraft = Record<TextField, string> & {
  tags: string;
  custom: string;
  email_opt_out: boolean;
  whatsapp_opt_in: boolean;
};

export const emptyDraft: LeadDraft = {
  first_name: "",
  last_name: "",
  email: "",
  phone: "",
  language: "",
  country: "",
  timezone: "",
  source: "",
  stage: "",
  owner: "",
  tags: "",
  custom: "",
  email_opt_out: false,
  whatsapp_opt_in: false,
};

/** draftOf is the form's values for a stored lead. */
export function draftOf(l: Lead): LeadDraft {
  const d = { ...emptyDraft };
  for (const f of textFields) d[f] = l[f] ?? "";
  d.tags = l.tags.join(", ");
  d.custom = Object.keys(l.custom ?? {}).length ? JSON.stringify(l.custom, null, 2) : "";
  d.email_opt_out = l.email_opt_out;
  d.whatsapp_opt_in = l.whatsapp_opt_in;
  return d;
}

/** tagList splits "a, b,,c" into ["a","b","c"]. */
export function tagList(s: string): string[] {
  return s
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

/** The result of building a body: the body, or the problems found before asking the API. */
export type Built<T> = { body: T; problem: null } | { body: null; problem: ApiProblem };

function parseCustom(s: string): { value: Record<string, unknown> } | { error: FieldProblem } {
  if (s.trim() === "") return { value: {} };
  try {
    const v: unknown = JSON.parse(s);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return { value: v as Record<string, unknown> };
  } catch {
    // Reported below.
  }
  return { error: { location: "body.custom", message: 'must be a JSON object, e.g. {"roof_type": "flat"}' } };
}

function local(fields: FieldProblem[]): ApiProblem {
  return { status: 422, type: "local", title: "Not sent", detail: "Some values need attention.", fields };
}

/** createBody is the POST /v1/leads body: the values filled in. */
export function createBody(d: LeadDraft): Built<LeadIn> {
  const body: LeadIn = {};
  for (const f of textFields) if (d[f].trim() !== "") body[f] = d[f].trim();
  const tags = tagList(d.tags);
  if (tags.length) body.tags = tags;
  const c = parseCustom(d.custom);
  if ("error" in c) return { body: null, problem: local([c.error]) };
  if (Object.keys(c.value).length) body.custom = c.value;
  if (d.email_opt_out) body.email_opt_out = true;
  if (d.whatsapp_opt_in) body.whatsapp_opt_in = true;
  return { body, problem: null };
}

/** patchBody is the PATCH body: only the values that differ from base. */
export function patchBody(base: LeadDraft, d: LeadDraft): Built<LeadPatch> {
  const body: LeadPatch = {};
  for (const f of textFields) if (d[f].trim() !== base[f].trim()) body[f] = d[f].trim();
  if (tagList(d.tags).join(",") !== tagList(base.tags).join(",")) body.tags = tagList(d.tags);
  if (d.custom.trim() !== base.custom.trim()) {
    const c = parseCustom(d.custom);
    if ("error" in c) return { body: null, problem: local([c.error]) };
    body.custom = c.value;
  }
  if (d.email_opt_out !== base.email_opt_out) body.email_opt_out = d.email_opt_out;
  if (d.whatsapp_opt_in !== base.whatsapp_opt_in) body.whatsapp_opt_in = d.whatsapp_opt_in;
  return { body, problem: null };
}

/** A lead's name as a person reads it, never empty. */
export function leadName(l: Pick<Lead, "first_name" | "last_name" | "email" | "phone" | "id">): string {
  return [l.first_name, l.last_name].filter(Boolean).join(" ") || l.email || l.phone || l.id;
}
