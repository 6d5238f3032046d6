import { describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { join } from "node:path";
import { apiCall, checkA11y, createTenant, screenshot, screenshotDir, signIn, useBrowser } from "./harness";

const h = useBrowser();

// One tenant in engine mode with a log email channel, a workflow that sends
// an email on quote.sent and a rule that picks it for web leads: what a new
// user builds on the workflows and rules screens.
async function tenantWithWorkflow(name: string) {
  const t = await createTenant(name, { mode: "engine", timezone: "Europe/Lisbon", channels: { email: { provider: "log", from: "Roofing <quotes@example.com>" } } });
  const wf = await apiCall<{ id: string }>("POST", "/v1/workflows", t.key, {
    name: "Web follow-up",
    trigger: "quote.sent",
    steps: [{ type: "send_email", email: { subject: "Your quote {{ quote.number }}", text: "Hello {{ lead.first_name }}, your quote: {{ quote.url }}" } }],
  });
  expect(wf.status).toBe(201);
  const rule = await apiCall("POST", "/v1/assignment-rules", t.key, {
    name: "Web leads",
    trigger: "quote.sent",
    condition: { all: [{ field: "lead.source", op: "eq", value: "web" }] },
    workflow_id: wf.json.id,
  });
  expect(rule.status).toBe(201);
  return t;
}

async function openLeads(page: Page, key: string) {
  await signIn(page, key);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Leads" }).click();
  await page.getByRole("heading", { name: "Leads", level: 1 }).waitFor();
}

describe("leads", () => {
  test("list and create a lead; a bad phone shows its problem beside the phone field", async () => {
    const t = await createTenant("Leads List");
    expect((await apiCall("POST", "/v1/leads", t.key, { first_name: "Bruno", last_name: "Costa", email: "bruno@example.com", source: "phone" })).status).toBe(201);
    const page = await h.newPage();
    await openLeads(page, t.key);
    await page.getByRole("link", { name: "Bruno Costa" }).waitFor();

    await page.getByRole("button", { name: "New lead" }).click();
    const form = page.getByRole("form", { name: "New lead" });
    await form.getByLabel("First name").fill("Ana");
    await form.getByLabel("Last name").fill("Silva");
    await form.getByLabel("Email", { exact: true }).fill("ana@example.com");
    await form.getByLabel("Phone").fill("912 345 678");
    await form.getByLabel("Source").fill("web");
    await form.getByRole("button", { name: "Create lead" }).click();
    const problem = page.locator('[data-problem-for="body.phone"]');
    await problem.waitFor();
    expect(await problem.textContent()).not.toBe("");
    expect(await form.getByLabel("Phone").getAttribute("aria-invalid")).toBe("true");
    await checkA11y(page, "the new lead form with a problem");
    const none = await apiCall<{ items: Array<{ first_name: string }> }>("GET", "/v1/leads", t.key);
    expect(none.json.items.map((l) => l.first_name)).toEqual(["Bruno"]);

    await form.getByLabel("Phone").fill("+351912345678");
    await form.getByRole("button", { name: "Create lead" }).click();
    await page.getByRole("heading", { name: "Ana Silva", level: 1 }).waitFor();
    const all = await apiCall<{ items: Array<{ first_name: string; phone: string; source: string }> }>("GET", "/v1/leads", t.key);
    expect(all.json.items.find((l) => l.first_name === "Ana")).toMatchObject({ phone: "+351912345678", source: "web" });

    await page.getByRole("link", { name: "All leads" }).click();
    await page.getByRole("link", { name: "Ana Silva" }).waitFor();
    await checkA11y(page, "the leads list");
    await screenshot(page, "leads");
  });

  test("the lead page: resolution in words, an override added and removed, a dry run, a quote sent, the timeline", async () => {
    const t = await tenantWithWorkflow("Leads Page");
    const lead = await apiCall<{ id: string }>("POST", "/v1/leads", t.key, { first_name: "Ana", last_name: "Silva", email: "ana@example.com", source: "web" });
    const page = await h.newPage();
    await openLeads(page, t.key);
    await page.getByRole("link", { name: "Ana Silva" }).click();
    await page.getByRole("heading", { name: "Ana Silva", level: 1 }).waitFor();

    const sent = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: /When the quote is sent/ }) });
    await sent.getByText("Workflow 'Web follow-up' (version 1) will run.").waitFor();
    await sent.getByRole("paragraph").filter({ hasText: "Rule 'Web leads' matched because lead.source is web." }).waitFor();
    const viewed = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: /views the quote/ }) });
    await viewed.getByRole("paragraph").filter({ hasText: /a viewed quote is an internal signal/ }).waitFor();
    await checkA11y(page, "the lead page");

    // An override that suppresses everything, then its removal.
    const add = page.getByRole("form", { name: "Add an override" });
    await add.getByLabel("Reason").fill("customer asked for no follow-ups");
    await add.getByRole("button", { name: "Add override" }).click();
    await sent.getByText(/^Nothing will be sent: the override 'customer asked for no follow-ups' suppresses it until it is removed\.$/).waitFor();
    await page.getByRole("table", { name: "This lead's overrides" }).getByText("customer asked for no follow-ups").waitFor();
    expect((await apiCall<{ items: unknown[] }>("GET", `/v1/leads/${lead.json.id}/overrides`, t.key)).json.items).toHaveLength(1);
    await page.getByRole("button", { name: "Remove override customer asked for no follow-ups" }).click();
    await page.getByRole("table", { name: "This lead's overrides" }).getByText("No overrides: the rules decide.").waitFor();
    await sent.getByText("Workflow 'Web follow-up' (version 1) will run.").waitFor();
    expect((await apiCall<{ items: unknown[] }>("GET", `/v1/leads/${lead.json.id}/overrides`, t.key)).json.items).toHaveLength(0);

    // A quote, then a dry run of sending it.
    const nq = page.getByRole("form", { name: "New quote" });
    await nq.getByLabel("Number").fill("Q-1001");
    await nq.getByLabel("Amount").fill("1250.50");
    await nq.getByRole("button", { name: "Create quote" }).click();
    await page.getByRole("table", { name: "This lead's quotes" }).getByText("Q-1001").waitFor();

    const dry = page.getByRole("form", { name: "Dry run" });
    await dry.getByLabel("Quote").selectOption({ label: "Q-1001" });
    await dry.getByRole("button", { name: "Run the dry run" }).click();
    const result = page.locator(".dryrun");
    await page.getByRole("heading", { name: "Dry run of quote.sent" }).waitFor();
    await result.getByText(/^1\. Email to ana@example\.com at .+: "Your quote Q-1001"\.$/).waitFor();
    await result.getByRole("paragraph").filter({ hasText: "Rule 'Web leads' matched because lead.source is web." }).waitFor();
    expect((await apiCall<{ messages: unknown[] }>("GET", `/v1/leads/${lead.json.id}/timeline`, t.key)).json.messages).toHaveLength(0);
    await screenshot(page, "lead");

    // Send it: the answer's event and decision, then the timeline.
    await page.getByRole("button", { name: "Send quote Q-1001" }).click();
    await page.getByRole("heading", { name: "Quote Q-1001 sent: event quote.sent" }).waitFor();
    await page.getByRole("table", { name: "This lead's quotes" }).getByRole("cell", { name: "sent", exact: true }).waitFor();
    const timeline = page.getByRole("region", { name: "Timeline" });
    await timeline.getByText("Quote Q-1001 sent (quote.sent)").waitFor();
    await expect
      .poll(async () => {
        await timeline.getByRole("button", { name: "Refresh timeline" }).click();
        return timeline.getByText("Email to ana@example.com", { exact: false }).count();
      })
      .toBeGreaterThan(0);
    await timeline.getByText("Workflow 'Web follow-up' (version 1) started").waitFor();
    await checkA11y(page, "the lead page after a send");
    // The timeline alone: the whole page is lead.png already.
    await timeline.screenshot({ path: join(screenshotDir, "lead-timeline.png") });
  });

  test("edit and delete a lead", async () => {
    const t = await createTenant("Leads Edit");
    const lead = await apiCall<{ id: string }>("POST", "/v1/leads", t.key, { first_name: "Rui", email: "rui@example.com" });
    const page = await h.newPage();
    await signIn(page, t.key);
    await page.goto(`${page.url().split("#")[0]}#/leads/${lead.json.id}`);
    await page.getByRole("heading", { name: "Rui", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Edit lead" }).click();
    const form = page.getByRole("form", { name: "Edit lead" });
    await form.getByLabel("Country").fill("Portugal");
    await form.getByRole("button", { name: "Save lead" }).click();
    await page.locator('[data-problem-for="body.country"]').waitFor();
    await form.getByLabel("Country").fill("PT");
    await form.getByRole("button", { name: "Save lead" }).click();
    await page.getByRole("status").filter({ hasText: "Lead saved." }).waitFor();
    expect((await apiCall<{ country: string; email: string }>("GET", `/v1/leads/${lead.json.id}`, t.key)).json).toMatchObject({ country: "PT", email: "rui@example.com" });

    await page.getByRole("button", { name: "Delete lead" }).click();
    await page.getByRole("button", { name: "Yes, delete the lead" }).click();
    await page.getByRole("heading", { name: "Leads", level: 1 }).waitFor();
    expect((await apiCall("GET", `/v1/leads/${lead.json.id}`, t.key)).status).toBe(404);
  });

  test("the list pages with next_cursor; a rejection with its reason shows the event and why nothing is sent", async () => {
    const t = await createTenant("Leads Pages", { mode: "engine" });
    for (let i = 0; i < 51; i++) {
      expect((await apiCall("POST", "/v1/leads", t.key, { first_name: `Lead${String(i).padStart(2, "0")}`, email: `l${i}@example.com` })).status).toBe(201);
    }
    const page = await h.newPage();
    await openLeads(page, t.key);
    const rows = page.getByRole("table", { name: /^Leads/ }).locator("tbody tr");
    await page.getByRole("button", { name: "Load more leads" }).waitFor();
    expect(await rows.count()).toBe(50);
    await page.getByRole("button", { name: "Load more leads" }).click();
    await expect.poll(() => rows.count()).toBe(51);
    expect(await page.getByRole("button", { name: "Load more leads" }).count()).toBe(0);

    await page.getByRole("link", { name: "Lead50" }).click();
    await page.getByRole("heading", { name: "Lead50", level: 1 }).waitFor();
    const nq = page.getByRole("form", { name: "New quote" });
    await nq.getByLabel("Number").fill("Q-7");
    await nq.getByLabel("Amount").fill("lots");
    await nq.getByRole("button", { name: "Create quote" }).click();
    await page.locator('[data-problem-for="body.amount"]').waitFor();
    await nq.getByLabel("Amount").fill("300");
    await nq.getByRole("button", { name: "Create quote" }).click();
    await page.getByRole("button", { name: "Send quote Q-7" }).click();
    await page.getByRole("heading", { name: "Quote Q-7 sent: event quote.sent" }).waitFor();
    await page.getByRole("button", { name: "Reject quote Q-7" }).click();
    const reject = page.getByRole("form", { name: "Reject the quote" });
    await reject.getByLabel("Why was quote Q-7 rejected?").fill("too expensive");
    await reject.getByRole("button", { name: "Reject quote" }).click();
    const last = page.locator(".banner--info", { has: page.getByRole("heading", { name: "Quote Q-7 rejected: event quote.rejected" }) });
    await last.getByRole("paragraph").filter({ hasText: "a rejected quote sends nothing without a rule of its own" }).waitFor();
    await page.getByRole("table", { name: "This lead's quotes" }).getByRole("cell", { name: "rejected (too expensive)" }).waitFor();
    await checkA11y(page, "the lead page after a rejection");
  });
});
