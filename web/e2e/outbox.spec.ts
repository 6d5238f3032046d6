import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, checkA11y, createTenant, screenshot, signIn, useBrowser } from "./harness";
import { seeded, type Seeded } from "./outbox-seeded";

const h = useBrowser();

// Small enough for CI (seeding takes about 2 s); the chart's cost depends on
// buckets × series, not on this number (docs/WEB.md, "Outbox").
const seededMessages = 20_000;
let s: Seeded;

beforeAll(async () => {
  s = await seeded(seededMessages);
});
afterAll(async () => {
  await s?.stop();
});

describe("outbox", () => {
  test("a seeded week's charts, their render time, the filtered list and a failed message retried", async () => {
    const page = await h.newPage();
    await signIn(page, s.key, s.baseURL);
    const stats = page.waitForResponse((r) => r.url().includes("/v1/stats/outbox"));
    await page.getByRole("link", { name: "Outbox" }).click();
    expect((await stats).status()).toBe(200);

    // The screen measures from the answer's arrival to the frame after the
    // charts were committed; the figure is recorded, not asserted (a shared
    // 2-core machine makes any fixed budget flaky).
    await page.waitForFunction(() => performance.getEntriesByName("outbox:chart-render").length > 0);
    const figure = await page.evaluate(() => {
      const render = performance.getEntriesByName("outbox:chart-render")[0]!.duration;
      const res = performance.getEntriesByType("resource").filter((e) => e.name.includes("/v1/stats/outbox"));
      return { render, answer: res.length ? res[res.length - 1]!.duration : NaN };
    });
    const charts = page.getByTestId("outbox-charts");
    const imgs = charts.getByRole("img");
    await expect.poll(() => imgs.count()).toBe(3);
    await charts.getByText("Table of messages by trigger").click();
    const weekTable = charts.getByRole("table", { name: "Messages by trigger" });
    await weekTable.waitFor();
    const buckets = await weekTable.locator("tbody tr").count();
    const series = await charts.getByRole("list", { name: "Messages by trigger: legend" }).getByRole("listitem").count();
    console.log(
      `outbox chart render (${seededMessages} seeded messages, 7 days hourly, ${buckets} buckets × ${series} series × 3 charts): ` +
        `${figure.render.toFixed(1)} ms from the answer to the painted charts (stats answer ${figure.answer.toFixed(1)} ms; budget 200 ms: ${figure.render < 200 ? "within" : "over"})`,
    );
    expect(figure.render).toBeGreaterThan(0);
    expect(buckets).toBeGreaterThanOrEqual(168);

    // The text alternative names what the chart shows, and it equals the
    // answer's totals as the page prints them.
    const totals = (await charts.locator(".outbox__totals").textContent()) ?? "";
    const messages = /^(\d+) messages/.exec(totals)?.[1];
    expect(Number(messages)).toBeGreaterThan(0);
    expect(await imgs.nth(0).getAttribute("aria-label")).toMatch(new RegExp(`^Messages by trigger: ${messages} in ${buckets} buckets`));
    expect(await imgs.nth(2).getAttribute("aria-label")).toMatch(/^Failures by trigger: \d+ in/);
    await expect.poll(() => charts.getByRole("table", { name: "Latencies over the window" }).locator("tbody tr").first().textContent()).toMatch(/Quote action → sent\d+\d/);

    await checkA11y(page, "the outbox screen");
    await screenshot(page, "outbox");

    // Another window and dimension: 24 hours in 5-minute buckets, by channel.
    const win = page.getByRole("form", { name: "Statistics window" });
    await win.getByLabel("Window").selectOption("24h");
    expect(await win.getByLabel("Bucket").inputValue()).toBe("5m");
    await win.getByLabel("Group by").selectOption("channel");
    await win.getByRole("button", { name: "Show" }).click();
    const legend = charts.getByRole("list", { name: "Messages by channel: legend" });
    await legend.waitFor();
    expect(await legend.getByRole("listitem").allTextContents()).toEqual([expect.stringMatching(/^email \d+$/), expect.stringMatching(/^whatsapp \d+$/)]);
    // The first chart's table stays open across answers.
    await expect.poll(() => charts.getByRole("table", { name: "Messages by channel" }).locator("tbody tr").count()).toBeGreaterThanOrEqual(288);

    // The list: failed messages only, newest first, a page at a time.
    const list = page.getByRole("form", { name: "Message filters" });
    await list.getByLabel("Status").selectOption("failed");
    await list.getByRole("button", { name: "Filter" }).click();
    const table = page.getByRole("table", { name: "Messages, newest first, page 1" });
    await expect.poll(async () => [...new Set(await table.locator("tbody tr td:nth-child(4)").allTextContents())]).toEqual(["failed"]);
    const first = await table.locator("tbody tr a").first().textContent();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByRole("table", { name: "Messages, newest first, page 2" }).waitFor();
    await page.getByRole("button", { name: "Previous page" }).click();
    await expect.poll(() => table.locator("tbody tr a").first().textContent()).toBe(first);

    // A failed message: its attempts and receipts, then retry.
    await table.locator("tbody tr a").first().click();
    await page.getByRole("heading", { name: "Message", level: 1 }).waitFor();
    await expect.poll(() => page.getByTestId("message-status").textContent()).toMatch(/^failed/);
    expect(await page.getByRole("table", { name: /^Attempts \(\d+\)$/ }).locator("tbody tr").count()).toBeGreaterThan(0);
    await page.getByRole("table", { name: /^Receipts \(\d+\)$/ }).waitFor();
    await checkA11y(page, "a message");
    await screenshot(page, "message");
    // What happens next depends on the seeded tenant's channel (it has no
    // working one, and its seeded failures may have opened its circuit),
    // so the test holds the screen to what the retry answered: the message
    // queued again, as the notice says. Delivery after a retry is the Go
    // suites' to test.
    const retried = page.waitForResponse((r) => r.url().endsWith("/retry") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Retry" }).click();
    const answer = await retried;
    expect(answer.status()).toBe(200);
    expect(((await answer.json()) as { status: string }).status).toBe("queued");
    await page.getByRole("status").filter({ hasText: "Queued again" }).waitFor();
  });

  test("a message deferred by a holiday is cancelled, a second cancel is refused with its reason, then it is retried", async () => {
    const today = new Date();
    const day = (n: number) => new Date(today.getTime() + n * 86400_000).toISOString().slice(0, 10);
    const t = await createTenant("Outbox Cancel", {
      timezone: "UTC",
      mode: "engine",
      holidays: [day(-1), day(0), day(1), day(2)],
      channels: { email: { provider: "log", from: "Outbox <o@example.com>" } },
    });
    const wf = await apiCall<{ id: string }>("POST", "/v1/workflows", t.key, {
      name: "Thanks",
      trigger: "quote.sent",
      steps: [{ type: "send_email", email: { subject: "Your quote {{ quote.number }}", text: "Hi {{ lead.first_name }}" } }],
    });
    expect(wf.status, JSON.stringify(wf.json)).toBe(201);
    expect((await apiCall("POST", "/v1/assignment-rules", t.key, { name: "All", trigger: "quote.sent", condition: { all: [] }, workflow_id: wf.json.id })).status).toBe(201);
    const lead = await apiCall<{ id: string }>("POST", "/v1/leads", t.key, { first_name: "Ana", email: "ana@example.com" });
    const quote = await apiCall<{ id: string }>("POST", "/v1/quotes", t.key, { lead_id: lead.json.id, number: "Q-7", amount: 100, currency: "EUR" });
    expect((await apiCall("POST", `/v1/quotes/${quote.json.id}/send`, t.key)).status).toBe(200);
    let id = "";
    await expect
      .poll(async () => {
        const r = await apiCall<{ items: Array<{ id: string; status: string }> }>("GET", "/v1/messages", t.key);
        id = r.json.items[0]?.id ?? "";
        return r.json.items[0]?.status;
      })
      .toBe("scheduled");

    const page = await h.newPage();
    await signIn(page, t.key);
    await page.getByRole("link", { name: "Outbox" }).click();
    await page.getByRole("table", { name: "Messages, newest first, page 1" }).locator("tbody tr a").first().click();
    await expect.poll(() => page.getByTestId("message-status").textContent()).toMatch(/^scheduled/);
    expect(page.url()).toContain(id);

    await page.getByRole("button", { name: "Cancel message" }).click();
    await page.getByRole("status").filter({ hasText: "Cancelled" }).waitFor();
    await expect.poll(() => page.getByTestId("message-status").textContent()).toMatch(/^cancelled/);
    await page.getByRole("button", { name: "Cancel message" }).click();
    await page.getByRole("alert").filter({ hasText: "a message that is cancelled cannot be cancelled" }).waitFor();
    expect((await apiCall<{ status: string }>("GET", `/v1/messages/${id}`, t.key)).json.status).toBe("cancelled");

    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("status").filter({ hasText: "Queued again" }).waitFor();
    await expect.poll(async () => (await apiCall<{ status: string }>("GET", `/v1/messages/${id}`, t.key)).json.status).not.toBe("cancelled");
  });
});
