import { describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { apiCall, checkA11y, createTenant, screenshot, signIn, useBrowser } from "./harness";

const h = useBrowser();

interface Rule {
  id: string;
  name: string;
  priority: number;
  condition: unknown;
  workflow_id: string;
  trigger: string;
}

async function workflow(key: string, name: string, enabled = true): Promise<string> {
  const r = await apiCall<{ id: string }>("POST", "/v1/workflows", key, {
    name,
    trigger: "quote.sent",
    enabled,
    steps: [{ type: "send_email", email: { subject: "Hi", text: "Hello {{ lead.first_name }}" } }],
  });
  expect(r.status).toBe(201);
  return r.json.id;
}

async function rule(key: string, name: string, workflowId: string, condition: unknown = { all: [] }): Promise<Rule> {
  const r = await apiCall<Rule>("POST", "/v1/assignment-rules", key, { name, trigger: "quote.sent", condition, workflow_id: workflowId });
  expect(r.status).toBe(201);
  return r.json;
}

async function openRules(page: Page, key: string) {
  await signIn(page, key);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rules" }).click();
  await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();
}

const ruleIds = async (key: string) => (await apiCall<{ items: Rule[] }>("GET", "/v1/assignment-rules", key)).json.items.map((r) => r.id);

describe("assignment rules", () => {
  test("create a rule with the builder, save, reload: the same JSON; edit; delete", async () => {
    const t = await createTenant("Rules Main");
    await workflow(t.key, "Portugal follow-up");
    const page = await h.newPage();
    await openRules(page, t.key);
    await page.getByRole("link", { name: "New rule" }).click();
    await page.getByRole("heading", { name: "New rule" }).waitFor();
    await page.getByLabel("Name").fill("Big Iberian quotes");
    await page.getByLabel("Trigger").selectOption("quote.sent");
    await page.getByLabel("Workflow").selectOption({ label: "Portugal follow-up (quote.sent)" });
    await page.getByRole("button", { name: "Add a condition", exact: true }).click();
    const c1 = page.getByRole("group", { name: "Condition 1" });
    await c1.getByLabel("Operator").selectOption("in");
    await c1.getByLabel("Values").fill("PT\nES");
    await page.getByRole("button", { name: "Add a condition", exact: true }).click();
    const c2 = page.getByRole("group", { name: "Condition 2" });
    await c2.getByLabel("Field").selectOption("lead.custom.");
    await c2.getByLabel("Custom field key").fill("roof");
    await c2.getByLabel("Value", { exact: true }).fill("tile");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();

    const want = { all: [{ field: "lead.country", op: "in", value: ["PT", "ES"] }, { field: "lead.custom.roof", op: "eq", value: "tile" }] };
    const saved = (await apiCall<{ items: Rule[] }>("GET", "/v1/assignment-rules", t.key)).json.items;
    expect(saved).toHaveLength(1);
    expect(saved[0]!.condition).toEqual(want);

    await page.getByRole("link", { name: "Big Iberian quotes" }).click();
    await page.getByRole("heading", { name: "Rule: Big Iberian quotes" }).waitFor();
    await page.reload();
    await page.getByRole("group", { name: "Condition 2" }).waitFor();
    expect(await page.getByRole("group", { name: "Condition 2" }).getByLabel("Custom field key").inputValue()).toBe("roof");
    // Saving the reloaded rule unchanged gives back the same JSON.
    await page.getByRole("button", { name: "Save rule" }).click();
    await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();
    expect((await apiCall<Rule>("GET", `/v1/assignment-rules/${saved[0]!.id}`, t.key)).json.condition).toEqual(want);

    // A value of the wrong type: the API's problem beside that value.
    await page.getByRole("link", { name: "Big Iberian quotes" }).click();
    await page.getByRole("button", { name: "Add a condition", exact: true }).click();
    const c3 = page.getByRole("group", { name: "Condition 3" });
    await c3.getByLabel("Field").selectOption("quote.amount");
    await c3.getByLabel("Operator").selectOption("gt");
    await c3.getByLabel("Value", { exact: true }).fill("lots");
    await page.getByRole("button", { name: "Save rule" }).click();
    await page.locator('[data-problem-for="body.condition.all[2].value"]').waitFor();
    expect(await c3.getByLabel("Value", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    await page.getByRole("button", { name: "Delete rule" }).click();
    await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();
    expect(await ruleIds(t.key)).toEqual([]);
  });

  test("rules reorder by mouse drag and keyboard, persisted; coverage warnings beside their rule", async () => {
    const t = await createTenant("Rules Drag");
    const on = await workflow(t.key, "Enabled flow");
    const off = await workflow(t.key, "Disabled flow", false);
    const a = await rule(t.key, "Alpha", on, { field: "lead.country", op: "eq", value: "PT" });
    const b = await rule(t.key, "Bravo", off, { field: "lead.country", op: "eq", value: "ES" });
    const c = await rule(t.key, "Charlie", on);
    const page = await h.newPage();
    await openRules(page, t.key);
    const bravo = page.locator(`[data-rule-id="${b.id}"]`);
    await bravo.waitFor();
    const warning = bravo.getByRole("list", { name: "Coverage warnings for rule Bravo" });
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/disabled/i);
    expect(await page.locator(`[data-rule-id="${a.id}"]`).getByRole("list").count()).toBe(0);

    const handle = page.getByRole("button", { name: "Drag rule Charlie" });
    const target = page.locator(`[data-sortable-key="${a.id}"]`);
    const hb = (await handle.boundingBox())!;
    const tb = (await target.boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(hb.x + hb.width / 2, tb.y + tb.height * 0.25, { steps: 8 });
    await page.mouse.up();
    await page.getByRole("status").filter({ hasText: "Rule moved to position 1." }).waitFor();
    expect(await ruleIds(t.key)).toEqual([c.id, a.id, b.id]);

    await page.reload();
    await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();
    const names = page.locator(".rule__name a");
    await names.first().waitFor();
    expect(await names.allTextContents()).toEqual(["Charlie", "Alpha", "Bravo"]);

    await page.getByRole("button", { name: "Move rule Bravo up" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("status").filter({ hasText: "Rule moved to position 2." }).waitFor();
    expect(await ruleIds(t.key)).toEqual([c.id, b.id, a.id]);

    await checkA11y(page, "the rules screen");
    await screenshot(page, "rules");
  });

  test("a field the rule reads that leads lacked is shown beside the rule", async () => {
    const t = await createTenant("Rules Missing");
    const wf = await workflow(t.key, "Tile roofs follow-up");
    await rule(t.key, "Tile roofs", wf, { all: [{ field: "lead.custom.roof_type", op: "eq", value: "tile" }] });
    const lead = await apiCall<{ id: string }>("POST", "/v1/leads", t.key, { first_name: "Rui", email: "rui@example.com" });
    const quote = await apiCall<{ id: string }>("POST", "/v1/quotes", t.key, {
      lead_id: lead.json.id, number: "M-1", amount: 100, currency: "EUR", valid_until: "2099-01-01T00:00:00Z",
    });
    expect((await apiCall("POST", `/v1/quotes/${quote.json.id}/send`, t.key)).status).toBe(200);
    const page = await h.newPage();
    await openRules(page, t.key);
    const line = page.locator('[data-missing-field="lead.custom.roof_type"]');
    await line.waitFor();
    expect(await line.textContent()).toContain("missing in 1 of 1 events");
    await checkA11y(page, "the rules screen with missing context");
  });
});
