// A compile-time smoke test of the client a TypeScript caller (the web
// editor first) generates from docs/openapi.json. check.sh regenerates
// schema.d.ts from the committed document and runs tsc --noEmit --strict on
// this file: if an operation used here changes shape in a way that breaks a
// caller, this stops compiling. The @ts-expect-error lines prove the types
// are precise (a wrong field or enum value must not compile); if the
// generated types ever degrade to `any`, those lines fail instead.
//
// It is also a working client: smoke() runs against a live server given its
// URL and an app key; nothing in the gate executes it.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Problem = components["schemas"]["Problem"];
type MessageStatus = components["schemas"]["MessageOut"]["status"];
type Condition = components["schemas"]["Condition"];
type StepIn = components["schemas"]["StepIn"];
type Step = components["schemas"]["Step"];
type Outcome = components["schemas"]["Decision"]["outcome"];

// A condition tree: groups nest, leaves take an operator from the enum.
const portugueseRoofers: Condition = {
  all: [{ field: "lead.country", op: "eq", value: "PT" }, { any: [{ field: "lead.tags", op: "contains", value: "roof" }] }],
};

// A step is one of three shapes, told apart by type.
const followUp: StepIn[] = [
  { type: "wait", wait: { duration: "P2D" } },
  {
    type: "send_whatsapp",
    when: portugueseRoofers,
    whatsapp: { template: "quote_reminder", language: "pt_PT", parameters: ["{{ lead.first_name }}"] },
    fallback_channel: "email",
    email: { subject: "Your quote {{ quote.number }}", text: "Hello {{ lead.first_name }}" },
  },
];

// What a step's content is, narrowed by its type.
export function describeStep(step: Step): string {
  switch (step.type) {
    case "send_email":
      return `email: ${step.email.subject}`;
    case "send_whatsapp":
      return `whatsapp: ${step.whatsapp.template}${step.fallback_channel === "email" ? " (email fallback)" : ""}`;
    case "wait":
      return `wait ${step.wait.duration}`;
  }
}

export function client(baseUrl: string, apiKey: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
}

function fail(what: string, problem: Problem | undefined, status: number): never {
  throw new Error(`${what}: ${status} ${problem?.type ?? ""} ${problem?.title ?? ""} ${problem?.detail ?? ""}`);
}

export async function smoke(baseUrl: string, apiKey: string): Promise<void> {
  const api = client(baseUrl, apiKey);

  // Create a lead (idempotently) and read back its version and ETag.
  const lead = await api.POST("/v1/leads", {
    params: { header: { "Idempotency-Key": "smoke-lead-1" } },
    body: { first_name: "Ana", last_name: "Silva", email: "ana@example.com", phone: "+351912345678", tags: ["roof"] },
  });
  if (lead.error || !lead.data) fail("create lead", lead.error, lead.response.status);
  const leadId: string = lead.data.id;
  const leadVersion: number = lead.data.version;
  const etag: string | null = lead.response.headers.get("ETag");

  // Create a quote for it and send it: a quote action answers with the
  // event and the decision the resolver took.
  const quote = await api.POST("/v1/quotes", {
    body: { lead_id: leadId, number: "Q-1001", amount: 1250, currency: "EUR" },
  });
  if (quote.error || !quote.data) fail("create quote", quote.error, quote.response.status);
  const sent = await api.POST("/v1/quotes/{quote_id}/send", {
    params: { path: { quote_id: quote.data.id }, header: { "Idempotency-Key": "smoke-send-1" } },
  });
  if (sent.error || !sent.data) fail("send quote", sent.error, sent.response.status);
  const outcome: Outcome = sent.data.event.decision.outcome;
  const replayed = sent.response.headers.get("Idempotent-Replayed") === "true";

  // List the lead's outbox messages, filtered with the typed enums, and
  // follow the cursor.
  const statuses: MessageStatus[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.GET("/v1/messages", {
      params: { query: { lead_id: leadId, channel: "email", trigger: "quote.sent", limit: 50, cursor } },
    });
    if (page.error || !page.data) fail("list messages", page.error, page.response.status);
    for (const m of page.data.items ?? []) statuses.push(m.status);
    cursor = page.data.next_cursor || undefined;
  } while (cursor);

  // Cancel one, if any is still waiting: an action with a path parameter
  // whose error is a problem document.
  const first = statuses.length > 0 ? statuses[0] : undefined;
  if (first === "scheduled" || first === "queued") {
    const list = await api.GET("/v1/messages", { params: { query: { lead_id: leadId, status: first, limit: 1 } } });
    const id = list.data?.items?.[0]?.id;
    if (id) {
      const cancelled = await api.POST("/v1/messages/{message_id}/cancel", { params: { path: { message_id: id } } });
      if (cancelled.error) fail("cancel message", cancelled.error, cancelled.response.status);
    }
  }

  // A workflow with the typed steps, and a catch-all rule with a condition.
  const wf = await api.POST("/v1/workflows", {
    body: { name: "Roof follow-up", trigger: "quote.sent", exit_on: ["accepted", "rejected"], steps: followUp },
  });
  if (wf.error || !wf.data) fail("create workflow", wf.error, wf.response.status);
  // Add a first step: the same union, with where to insert it; the answer
  // is the workflow's next version.
  const added = await api.POST("/v1/workflows/{workflow_id}/steps", {
    params: { path: { workflow_id: wf.data.id }, header: { "If-Match": wf.response.headers.get("ETag") ?? "" } },
    body: { type: "send_email", email: { subject: "Thank you", text: "We sent quote {{ quote.number }}" }, position: 0 },
  });
  if (added.error || !added.data) fail("add step", added.error, added.response.status);
  const steps = added.data.steps.map(describeStep);
  const rule = await api.POST("/v1/assignment-rules", {
    body: { name: "Portuguese roofers", trigger: "*", condition: portugueseRoofers, workflow_id: wf.data.id },
  });
  if (rule.error || !rule.data) fail("create rule", rule.error, rule.response.status);

  console.log(JSON.stringify({ leadId, leadVersion, etag, outcome, replayed, statuses, steps }));
}

// Compile-time only: calls the types must refuse. Never invoked.
export function mustNotCompile(api: ReturnType<typeof client>): void {
  // @ts-expect-error a quote needs lead_id, number, amount and currency
  void api.POST("/v1/quotes", { body: { lead_id: "l", number: "Q-1" } });
  // @ts-expect-error "posted" is not a message status
  void api.GET("/v1/messages", { params: { query: { status: "posted" } } });
  // @ts-expect-error the path parameter of a quote action is required
  void api.POST("/v1/quotes/{quote_id}/accept", {});
  // @ts-expect-error a send_email step needs its email
  const noEmail: StepIn = { type: "send_email" };
  // @ts-expect-error "like" is not a condition operator
  const badOp: Condition = { field: "lead.country", op: "like", value: "P%" };
  // @ts-expect-error "maybe" is not a decision outcome
  const badOutcome: Outcome = "maybe";
  void [noEmail, badOp, badOutcome];
  // @ts-expect-error no such route in v1
  void api.GET("/v1/lead");
}
