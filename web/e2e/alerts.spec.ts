import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkA11y, screenshot, signIn, useBrowser } from "./harness";
import { seeded, seededCall, type Seeded } from "./outbox-seeded";

const h = useBrowser();

// A seeded history has failed messages; its server evaluates alerts every
// second, so each recent failure opens a message_failed alert.
let s: Seeded;
beforeAll(async () => {
  s = await seeded(3_000);
});
afterAll(async () => {
  await s?.stop();
});

interface Alert {
  id: string;
  kind: string;
  state: string;
  message_id?: string;
  action: string;
}

describe("alerts", () => {
  test("open alerts with what to do, filtered by kind and state, linked to their message", async () => {
    let open: Alert[] = [];
    await expect
      .poll(async () => {
        open = (await seededCall<{ items: Alert[] }>(s, "GET", "/v1/alerts?state=open&limit=50")).json.items;
        return open.length;
      }, { timeout: 30_000 })
      .toBeGreaterThan(0);

    const page = await h.newPage();
    await signIn(page, s.key, s.baseURL);
    await page.getByRole("link", { name: "Alerts" }).click();
    const table = page.getByRole("table", { name: /^Alerts, oldest first/ });
    const rows = table.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(open.length);
    // Each row says what happened and what to do, as the API does.
    const first = open[0]!;
    const row = rows.first();
    expect(await row.locator("td").nth(0).textContent()).toMatch(/^open/);
    expect(await row.locator("td").nth(6).textContent()).toBe(first.action);
    await checkA11y(page, "the alerts screen");
    await screenshot(page, "alerts");

    // Kind filter: none of the seeded alerts is a dead rule.
    const form = page.getByRole("form", { name: "Alert filters" });
    await form.getByLabel("Kind").selectOption("dead_rule");
    await form.getByRole("button", { name: "Show" }).click();
    await page.getByText("No open alert: nothing needs attention.").waitFor();
    await form.getByLabel("Kind").selectOption("message_failed");
    await form.getByLabel("State").selectOption("resolved");
    await form.getByRole("button", { name: "Show" }).click();
    const resolved = (await seededCall<{ items: Alert[] }>(s, "GET", "/v1/alerts?state=resolved&kind=message_failed&limit=50")).json.items;
    await expect.poll(() => (resolved.length ? rows.count() : page.getByText("No alert matches these filters.").count())).toBe(resolved.length || 1);

    // A failed message's alert links to the message.
    await form.getByLabel("State").selectOption("open");
    await form.getByRole("button", { name: "Show" }).click();
    const withMessage = open.find((a) => a.kind === "message_failed" && a.message_id)!;
    await page.getByRole("link", { name: `message ${withMessage.message_id!.slice(-8)}` }).click();
    await page.getByRole("heading", { name: "Message", level: 1 }).waitFor();
    expect(page.url()).toContain(withMessage.message_id);
  });
});
