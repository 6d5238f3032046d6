import { describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { apiCall, checkA11y, createTenant, screenshot, signIn, useBrowser } from "./harness";

const h = useBrowser();

interface Wf {
  id: string;
  version: number;
  steps: Array<{ id: string; type: string; email?: { subject: string; text: string }; wait?: { duration: string }; when?: unknown }>;
}

async function openWorkflows(page: Page, key: string) {
  await signIn(page, key);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workflows" }).click();
  await page.getByRole("heading", { name: "Workflows", level: 1 }).waitFor();
}

/** A workflow made through the API, for tests that start in the editor. */
async function seedWorkflow(key: string, steps: unknown[]): Promise<Wf> {
  const r = await apiCall<Wf>("POST", "/v1/workflows", key, { name: "Seeded", trigger: "quote.sent", steps });
  expect(r.status).toBe(201);
  return r.json;
}

const emailStep = (subject: string) => ({ type: "send_email", email: { subject, text: "Hello {{ lead.first_name }}" } });

async function openEditor(page: Page, key: string, id: string) {
  await signIn(page, key);
  await page.goto(page.url().split("#")[0] + `#/workflows/${id}`);
  await page.getByRole("heading", { name: /^Workflow: / }).waitFor();
}

const step = (page: Page, n: number) => page.getByRole("form", { name: `Step ${n}` });
const saved = (page: Page, n: number) => step(page, n).getByRole("status").filter({ hasText: "Saved." }).waitFor();
/** save presses step n's Save button and waits for the API's answer to be shown. */
async function save(page: Page, n: number) {
  await step(page, n).getByRole("button", { name: `Save step ${n}`, exact: true }).click();
  await saved(page, n);
}
const versionCount = async (key: string, id: string) => (await apiCall<{ items: unknown[] }>("GET", `/v1/workflows/${id}/versions`, key)).json.items.length;
/** Whether leaving the page now would ask first (the editor's beforeunload handler refuses it). */
const leavingAsks = (page: Page) =>
  page.evaluate(() => {
    const e = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(e);
    return e.defaultPrevented;
  });

describe("workflows", () => {
  test("create a workflow, add steps, a template problem at its line and column, fixed, previewed for a lead", async () => {
    const t = await createTenant("Workflows Main");
    const lead = await apiCall<{ id: string }>("POST", "/v1/leads", t.key, { first_name: "Ana", last_name: "Silva", email: "ana@example.com", country: "PT" });
    expect(lead.status).toBe(201);
    const page = await h.newPage();
    await openWorkflows(page, t.key);
    await page.getByLabel("Name").fill("Follow up on sent quotes");
    await page.getByRole("button", { name: "Create workflow" }).click();
    await page.getByRole("heading", { name: "Workflow: Follow up on sent quotes" }).waitFor();

    await page.getByRole("button", { name: "Add step" }).click();
    await step(page, 1).waitFor();
    await page.getByLabel("Type of the new step").selectOption("wait");
    await page.getByRole("button", { name: "Add step" }).click();
    await step(page, 2).getByLabel("Wait for").waitFor();
    expect(await step(page, 2).getByLabel("Wait for").inputValue()).toBe("P1D");

    // Live validation: a pause in typing sends the draft to validate-step;
    // the API's problem comes back at its line and column, beside the field.
    const text = step(page, 1).getByLabel("Text");
    await text.fill("Hello {{ lead.first_name }},\n\nsee {{ lead.nope }}");
    const problem = step(page, 1).locator('[data-problem-for="body.email.text"]');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/line 3, column \d+/);
    expect(await text.getAttribute("aria-invalid")).toBe("true");
    await text.fill("Hello {{ lead.first_name }},\n\nsee {{ quote.url }}");
    await problem.waitFor({ state: "detached" });
    await save(page, 1);
    await step(page, 2).getByLabel("Wait for").fill("P3D");
    await save(page, 2);

    const wf = (await apiCall<{ items: Wf[] }>("GET", "/v1/workflows", t.key)).json.items[0]!;
    expect(wf.steps.map((s) => s.type)).toEqual(["send_email", "wait"]);
    expect(wf.steps[0]!.email!.text).toBe("Hello {{ lead.first_name }},\n\nsee {{ quote.url }}");
    expect(wf.steps[1]!.wait!.duration).toBe("P3D");

    await page.getByLabel("Lead", { exact: true }).selectOption({ label: "Ana Silva" });
    await page.getByRole("button", { name: "Preview step 1" }).click();
    const preview = page.getByRole("region", { name: "Preview of step 1" });
    await preview.getByText("Hello Ana,").waitFor();
    expect(await preview.textContent()).toContain("About your quote");

    await checkA11y(page, "the workflow editor");
    await screenshot(page, "workflow-editor");

    await page.getByRole("link", { name: "All workflows" }).click();
    const row = page.getByRole("row").filter({ hasText: "Follow up on sent quotes" });
    await row.waitFor();
    expect(await row.textContent()).toContain("quote.sent");
    await checkA11y(page, "the workflows list");
    await screenshot(page, "workflows");
  });

  test("the when builder round-trips: build, save, reload, the same JSON through the API", async () => {
    const t = await createTenant("Workflows When");
    const wf = await seedWorkflow(t.key, [emailStep("One")]);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    const s1 = step(page, 1);
    await s1.getByLabel("Only run step 1 when a condition holds").check();
    await s1.getByRole("button", { name: "Add a condition", exact: true }).click();
    const c1 = s1.getByRole("group", { name: "Condition 1" });
    await c1.getByLabel("Field").selectOption("quote.amount");
    await c1.getByLabel("Operator").selectOption("gte");
    await c1.getByLabel("Value").fill("1500");
    await s1.getByRole("button", { name: "Add a group", exact: true }).click();
    const c21 = s1.getByRole("group", { name: "Condition 2.1" });
    await c21.getByLabel("Operator").selectOption("in");
    await c21.getByLabel("Values").fill("PT\nES");
    await s1.getByRole("button", { name: "Add a condition to group 2" }).click();
    const c22 = s1.getByRole("group", { name: "Condition 2.2" });
    await c22.getByLabel("Field").selectOption("lead.tags");
    await c22.getByLabel("Operator").selectOption("contains");
    await c22.getByLabel("Value").fill("vip");
    await save(page, 1);

    const want = {
      all: [
        { field: "quote.amount", op: "gte", value: 1500 },
        { any: [{ field: "lead.country", op: "in", value: ["PT", "ES"] }, { field: "lead.tags", op: "contains", value: "vip" }] },
      ],
    };
    const got = await apiCall<Wf>("GET", `/v1/workflows/${wf.id}`, t.key);
    expect(got.json.steps[0]!.when).toEqual(want);

    await page.reload();
    await step(page, 1).getByRole("group", { name: "Condition 2.2" }).waitFor();
    expect(await step(page, 1).getByRole("group", { name: "Condition 1" }).getByLabel("Value").inputValue()).toBe("1500");
    expect(await step(page, 1).getByRole("group", { name: "Condition 2.1" }).getByLabel("Values").inputValue()).toBe("PT\nES");
    // What the reload showed is exactly what was saved: nothing is unsaved.
    expect(await step(page, 1).getByText("Unsaved changes").count()).toBe(0);
    expect(await step(page, 1).getByRole("button", { name: "Save step 1", exact: true }).isDisabled()).toBe(true);
  });

  test("steps reorder by dragging with the mouse and by keyboard; the order persists", async () => {
    const t = await createTenant("Workflows Drag");
    const wf = await seedWorkflow(t.key, [emailStep("First"), emailStep("Second"), emailStep("Third")]);
    const ids = wf.steps.map((s) => s.id);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    const handle = page.getByRole("button", { name: "Drag step 1" });
    const target = page.locator(`[data-sortable-key="${ids[2]}"]`);
    const hb = (await handle.boundingBox())!;
    const tb = (await target.boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(hb.x + hb.width / 2, tb.y + tb.height * 0.25, { steps: 8 });
    await page.mouse.up();
    await page.getByRole("status").filter({ hasText: "Step moved to position 3." }).waitFor();
    const order = async () => (await apiCall<Wf>("GET", `/v1/workflows/${wf.id}`, t.key)).json.steps.map((s) => s.id);
    expect(await order()).toEqual([ids[1], ids[2], ids[0]]);

    await page.reload();
    await step(page, 3).waitFor();
    expect(await step(page, 1).getByLabel("Subject").inputValue()).toBe("Second");
    expect(await step(page, 3).getByLabel("Subject").inputValue()).toBe("First");

    // The keyboard: focus the button, press Enter.
    await page.getByRole("button", { name: "Move step 3 up" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("status").filter({ hasText: "Step moved to position 2." }).waitFor();
    expect(await order()).toEqual([ids[1], ids[0], ids[2]]);
  });

  test("a change made elsewhere meanwhile is not overwritten: the editor says so and reloads", async () => {
    const t = await createTenant("Workflows Stale");
    const wf = await seedWorkflow(t.key, [emailStep("Mine")]);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    const theirs = await apiCall<Wf>("PATCH", `/v1/workflows/${wf.id}/steps/${wf.steps[0]!.id}`, t.key, { email: { subject: "Theirs", text: "Hi" } });
    expect(theirs.status).toBe(200);
    await step(page, 1).getByLabel("Subject").fill("Mine, edited");
    await step(page, 1).getByRole("button", { name: "Save step 1", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "changed elsewhere" }).waitFor();
    expect((await apiCall<Wf>("GET", `/v1/workflows/${wf.id}`, t.key)).json.steps[0]!.email!.subject).toBe("Theirs");
    await page.getByRole("button", { name: "Reload the workflow" }).click();
    await page.getByRole("alert").filter({ hasText: "changed elsewhere" }).waitFor({ state: "detached" });
    expect(await step(page, 1).getByLabel("Subject").inputValue()).toBe("Theirs");
  });

  test("a step becomes a WhatsApp message with an email fallback; a missing language is shown beside it", async () => {
    const t = await createTenant("Workflows WhatsApp");
    const wf = await seedWorkflow(t.key, [emailStep("Fallback subject")]);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    const s1 = step(page, 1);
    await s1.getByLabel("Type").selectOption("send_whatsapp");
    await s1.getByLabel("Template").fill("quote_reminder");
    await s1.getByLabel("Parameters").fill("{{ lead.first_name }}\n{{ quote.url }}");
    await s1.getByLabel("Fallback channel").selectOption("email");
    const language = s1.getByLabel("Language");
    await s1.locator('[data-problem-for="body.whatsapp.language"]').waitFor();
    expect(await language.getAttribute("aria-invalid")).toBe("true");
    await language.fill("pt_PT");
    await s1.locator('[data-problem-for="body.whatsapp.language"]').waitFor({ state: "detached" });
    await save(page, 1);
    const got = (await apiCall<{ steps: Array<Record<string, unknown>> }>("GET", `/v1/workflows/${wf.id}`, t.key)).json.steps[0]!;
    expect(got).toMatchObject({
      type: "send_whatsapp",
      whatsapp: { template: "quote_reminder", language: "pt_PT", parameters: ["{{ lead.first_name }}", "{{ quote.url }}"] },
      fallback_channel: "email",
      email: { subject: "Fallback subject" },
    });
  });

  test("typing saves nothing: a broken template's problem shows while the versions stay; Save makes exactly one", async () => {
    const t = await createTenant("Workflows Explicit Save");
    const wf = await seedWorkflow(t.key, [emailStep("Saved subject")]);
    await apiCall("POST", "/v1/leads", t.key, { first_name: "Ana", last_name: "Silva", email: "ana@example.com" });
    const before = await versionCount(t.key, wf.id);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    const s1 = step(page, 1);
    expect(await leavingAsks(page)).toBe(false);

    const text = s1.getByLabel("Text");
    await text.fill("Hello {{ lead.first_name }},\n{{ quote.url ");
    const problem = s1.locator('[data-problem-for="body.email.text"]');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/line 2, column \d+/);
    await s1.getByText("Unsaved changes").waitFor();
    expect(await leavingAsks(page)).toBe(true);
    expect(await versionCount(t.key, wf.id)).toBe(before);

    // Fixed: the check passes and the problem goes, and still nothing is saved.
    await s1.getByLabel("Subject").fill("Draft subject");
    await text.fill("Hello {{ lead.first_name }},\n{{ quote.url }}");
    await problem.waitFor({ state: "detached" });
    expect(await versionCount(t.key, wf.id)).toBe(before);
    expect((await apiCall<Wf>("GET", `/v1/workflows/${wf.id}`, t.key)).json.steps[0]!.email!.subject).toBe("Saved subject");
    // The preview is of the saved step, and says so.
    await page.getByLabel("Lead", { exact: true }).selectOption({ label: "Ana Silva" });
    await s1.page().getByText("The preview shows the saved step 1").waitFor();
    await page.getByRole("button", { name: "Preview step 1" }).click();
    await page.getByRole("region", { name: "Preview of step 1" }).getByText("Saved subject").waitFor();

    await save(page, 1);
    expect(await versionCount(t.key, wf.id)).toBe(before + 1);
    const got = (await apiCall<Wf>("GET", `/v1/workflows/${wf.id}`, t.key)).json.steps[0]!.email!;
    expect(got).toMatchObject({ subject: "Draft subject", text: "Hello {{ lead.first_name }},\n{{ quote.url }}" });
    expect(await s1.getByText("Unsaved changes").count()).toBe(0);
    expect(await page.getByText("The preview shows the saved step 1").count()).toBe(0);
    expect(await leavingAsks(page)).toBe(false);
  });

  test("stop on reply: the exit_on checkbox for a customer's reply saves replied", async () => {
    const t = await createTenant("Workflows Replied");
    const wf = await seedWorkflow(t.key, [emailStep("Hi")]);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    await page.getByRole("group", { name: "Stop a run when" }).getByLabel("the customer replies on WhatsApp").check();
    await page.getByLabel("the quote is accepted").check();
    const answered = page.waitForResponse((r) => r.url().endsWith(`/v1/workflows/${wf.id}`) && r.request().method() === "PATCH");
    await page.getByRole("button", { name: "Save workflow" }).click();
    expect((await answered).status()).toBe(200);
    const got = await apiCall<{ exit_on: string[] }>("GET", `/v1/workflows/${wf.id}`, t.key);
    expect(got.json.exit_on.sort()).toEqual(["accepted", "replied"]);
  });

  test("versions: a readable diff between any two", async () => {
    const t = await createTenant("Workflows Versions");
    const wf = await seedWorkflow(t.key, [emailStep("Your quote"), { type: "wait", wait: { duration: "P2D" } }]);
    const patch = await apiCall<Wf>("PATCH", `/v1/workflows/${wf.id}`, t.key, { name: "Seeded, renamed" });
    expect(patch.status).toBe(200);
    const add = await apiCall<Wf>("POST", `/v1/workflows/${wf.id}/steps`, t.key, emailStep("Still interested?"));
    expect(add.status).toBe(201);
    const page = await h.newPage();
    await openEditor(page, t.key, wf.id);
    await page.getByRole("link", { name: /^Versions/ }).click();
    await page.getByRole("heading", { name: "Versions of Seeded, renamed" }).waitFor();
    const diff = page.getByRole("list", { name: "Differences" });
    expect(await diff.textContent()).toContain("Added step 3 (send email)");
    await page.getByLabel("From version", { exact: true }).selectOption("1");
    await page.getByRole("heading", { name: "Changes from version 1 to version 3" }).waitFor();
    const text = await diff.textContent();
    expect(text).toContain("Changed name");
    expect(text).toContain("Seeded, renamed");
    expect(text).toContain("Added step 3 (send email)");
    await checkA11y(page, "the workflow versions");
    await screenshot(page, "workflow-versions");
  });
});
