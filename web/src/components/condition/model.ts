import type { components } from "../../api/schema";

// The condition builder edits a model of the API's condition JSON
// (components.schemas.Condition). fromJSON and toJSON are exact inverses
// for every condition the builder can show, which the unit tests check:
// what was saved is what comes back.

/** A condition exactly as the API takes and gives it. */
export type ConditionJSON = components["schemas"]["Condition"];

/** The kind of a context field, as internal/engine/fields.go declares it. */
export type FieldKind = "string" | "number" | "boolean" | "time" | "list" | "any";

export interface FieldDef {
  path: string;
  kind: FieldKind;
  label: string;
}

/**
 * The fields conditions may read: the engine's catalogue (engine.Fields),
 * which the OpenAPI schema describes only in words. Custom fields
 * (lead.custom.<key>) are entered by key.
 */
export const conditionFields: FieldDef[] = [
  { path: "lead.id", kind: "string", label: "the lead's id" },
  { path: "lead.first_name", kind: "string", label: "first name" },
  { path: "lead.last_name", kind: "string", label: "last name" },
  { path: "lead.name", kind: "string", label: "first and last name" },
  { path: "lead.email", kind: "string", label: "email address" },
  { path: "lead.phone", kind: "string", label: "phone number" },
  { path: "lead.language", kind: "string", label: "language code" },
  { path: "lead.country", kind: "string", label: "country (ISO 3166-1 alpha-2)" },
  { path: "lead.timezone", kind: "string", label: "IANA time zone" },
  { path: "lead.source", kind: "string", label: "where the lead came from" },
  { path: "lead.stage", kind: "string", label: "pipeline stage" },
  { path: "lead.tags", kind: "list", label: "tags" },
  { path: "lead.owner", kind: "string", label: "owner" },
  { path: "lead.email_opt_out", kind: "boolean", label: "opted out of email" },
  { path: "lead.whatsapp_opt_in", kind: "boolean", label: "opted in to WhatsApp" },
  { path: "lead.created_at", kind: "time", label: "created at" },
  { path: "quote.id", kind: "string", label: "the quote's id" },
  { path: "quote.number", kind: "string", label: "quote number" },
  { path: "quote.amount", kind: "number", label: "amount in major units" },
  { path: "quote.currency", kind: "string", label: "currency (ISO 4217)" },
  { path: "quote.status", kind: "string", label: "status" },
  { path: "quote.valid_until", kind: "time", label: "valid until" },
  { path: "quote.revision", kind: "number", label: "content revision" },
  { path: "quote.url", kind: "string", label: "the customer's link" },
  { path: "quote.rejection_reason", kind: "string", label: "rejection reason" },
  { path: "quote.created_at", kind: "time", label: "created at" },
  { path: "tenant.name", kind: "string", label: "company name" },
  { path: "tenant.timezone", kind: "string", label: "time zone" },
];

export const customPrefix = "lead.custom.";

/** The operators in the order the API lists them, with words for people. */
export const operatorLabels: Record<Op, string> = {
  eq: "is",
  neq: "is not",
  in: "is one of",
  nin: "is none of",
  contains: "contains",
  gt: "is greater than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
  exists: "is present",
  missing: "is missing",
  prefix: "starts with",
};

export type Op = components["schemas"]["ConditionLeaf"]["op"];

// Which operators the API accepts per field kind (condition.compileValue).
const opsByKind: Record<FieldKind, Op[]> = {
  string: ["eq", "neq", "in", "nin", "contains", "prefix", "exists", "missing"],
  number: ["eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "exists", "missing"],
  boolean: ["eq", "neq", "in", "nin", "exists", "missing"],
  time: ["eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "exists", "missing"],
  list: ["contains", "in", "nin", "exists", "missing"],
  any: ["eq", "neq", "in", "nin", "contains", "gt", "gte", "lt", "lte", "exists", "missing", "prefix"],
};

/** The JSON type of a leaf's value (time values are RFC 3339 strings). */
export type ValueType = "string" | "number" | "boolean";

export interface LeafNode {
  kind: "leaf";
  key: number;
  field: string;
  op: Op;
  type: ValueType;
  /** The value as typed; one value per line for in and nin. */
  text: string;
}

export interface GroupNode {
  kind: "all" | "any";
  key: number;
  children: CondNode[];
}

export type CondNode = LeafNode | GroupNode;

let nextKey = 1;
/** A fresh key for a node, stable for as long as the node is shown. */
export const newKey = () => nextKey++;

export function kindOf(field: string): FieldKind {
  if (field.startsWith(customPrefix)) return "any";
  return conditionFields.find((f) => f.path === field)?.kind ?? "any";
}

export function opsFor(field: string): Op[] {
  return opsByKind[kindOf(field)];
}

export function takesValue(op: Op): boolean {
  return op !== "exists" && op !== "missing";
}

export function isList(op: Op): boolean {
  return op === "in" || op === "nin";
}

/** The value type a field's values have; custom fields let the user choose. */
export function defaultType(field: string): ValueType {
  const k = kindOf(field);
  if (k === "number") return "number";
  if (k === "boolean") return "boolean";
  return "string";
}

function typeOfValue(v: unknown, fallback: ValueType): ValueType {
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  return fallback;
}

/** fromJSON turns the API's condition into the builder's model. */
export function fromJSON(c: ConditionJSON): CondNode {
  if ("all" in c) return { kind: "all", key: newKey(), children: c.all.map(fromJSON) };
  if ("any" in c) return { kind: "any", key: newKey(), children: c.any.map(fromJSON) };
  const fallback = defaultType(c.field);
  let type = fallback;
  let text = "";
  if (Array.isArray(c.value)) {
    type = c.value.length > 0 ? typeOfValue(c.value[0], fallback) : fallback;
    text = c.value.map((v) => String(v)).join("\n");
  } else if (c.value !== undefined && c.value !== null) {
    type = typeOfValue(c.value, fallback);
    text = String(c.value);
  }
  return { kind: "leaf", key: newKey(), field: c.field, op: c.op, type, text };
}

// A value the user typed that is not of its type is sent as typed: the API
// then names it (body.condition.value: "gt on quote.amount needs a
// number"), beside the value, rather than the editor guessing.
function scalar(text: string, type: ValueType): unknown {
  if (type === "number") {
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) ? n : text;
  }
  if (type === "boolean") return text === "true" ? true : text === "false" ? false : text;
  return text;
}

/** toJSON gives the API's condition for a model, keys in the API's order. */
export function toJSON(n: CondNode): ConditionJSON {
  if (n.kind === "leaf") return leafJSON(n);
  return n.kind === "all" ? { all: n.children.map(toJSON) } : { any: n.children.map(toJSON) };
}

function leafJSON(n: LeafNode): ConditionJSON {
  if (!takesValue(n.op)) return { field: n.field, op: n.op };
  const value = isList(n.op)
    ? n.text
        .split("\n")
        .filter((s) => s !== "")
        .map((s) => scalar(s, n.type))
    : scalar(n.text, n.type);
  return { field: n.field, op: n.op, value };
}

/** A new leaf: the first field, its first operator. */
export function newLeaf(): LeafNode {
  return { kind: "leaf", key: newKey(), field: "lead.country", op: "eq", type: "string", text: "" };
}

/** The same leaf on another field: an operator the field refuses is replaced by its first. */
export function withField(n: LeafNode, field: string): LeafNode {
  const ops = opsFor(field);
  const op = ops.includes(n.op) ? n.op : ops[0]!;
  const kindChanged = kindOf(field) !== kindOf(n.field);
  return { ...n, field, op, type: kindChanged ? defaultType(field) : n.type, text: kindChanged ? "" : n.text };
}

/** A short sentence for a condition, for lists: "lead.country is PT and 2 more". */
export function summary(c: ConditionJSON | null | undefined): string {
  if (!c) return "always";
  if ("all" in c) return c.all.length === 0 ? "every lead" : c.all.map(summary).join(" and ");
  if ("any" in c) return c.any.length === 0 ? "no lead" : `(${c.any.map(summary).join(" or ")})`;
  const op = operatorLabels[c.op] ?? c.op;
  if (!takesValue(c.op)) return `${c.field} ${op}`;
  const v = Array.isArray(c.value) ? c.value.map((x) => String(x)).join(", ") : String(c.value);
  return `${c.field} ${op} ${v}`;
}
