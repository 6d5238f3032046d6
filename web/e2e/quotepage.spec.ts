import { describe, expect, test } from "vitest";
import { apiCall, checkA11y, createTenant, screenshot, useBrowser } from "./harness";

// The customer's quote page (issue 11, part 3) is served by the binary,
// not by the editor's bundle; these tests drive it as the customer would,
// on a phone-sized screen.
const h = useBrowser();

interface QuoteOut {
  id: string;
  status: string;
  public_url: string;
}
interface EventOut {
  trigger: string;
}

async function sentQuote(tenant: string, language: string, country: string) {
  const t = await createTenant(tenant, { timezone: "Europe/Lisbon" });
  const lead = await apiCall<{ id: string }>("POST", "/v1/leads", t.key, {
    first_name: "Ana", last_name: "Silva", email: "ana@example.com", language, country,
  });
  expect(lead.status).toBe(201);
  const quote = await apiCall<QuoteOut>("POST", "/v1/quotes", t.key, {
    lead_id: lead.json.id, number: "Q-1001", amount: 1250.5, currency: "EUR", valid_until: "2099-12-31T23:59:59Z",
  });
  expect(quote.status).toBe(201);
  const sent = await apiCall("POST", `/v1/quotes/${quote.json.id}/send`, t.key);
  expect(sent.status).toBe(200);
  return { key: t.key, quote: quote.json };
}

async function triggers(key: string, quoteID: string): Promise<string[]> {
  const ev = await apiCall<{ items: EventOut[] }>("GET", `/v1/events?quote_id=${quoteID}&limit=200`, key);
  return ev.json.items.map((e) => e.trigger).sort();
}

describe("the customer's quote page", () => {
  test("opened by a person: the page records one view; Accept accepts the quote; axe finds nothing serious", async () => {
    const { key, quote } = await sentQuote("Telhados Lda", "pt", "PT");
    // A link scanner's plain GET records nothing.
    const scan = await fetch(quote.public_url, { headers: { Accept: "text/html" } });
    expect(scan.status).toBe(200);
    expect(await triggers(key, quote.id)).toEqual(["quote.sent"]);

    const page = await h.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const viewed = page.waitForResponse((r) => r.url().endsWith("/view") && r.request().method() === "POST");
    await page.goto(quote.public_url);
    expect((await viewed).status()).toBe(200);
    await page.getByRole("heading", { name: /Q-1001/ }).waitFor();
    expect(await page.locator("html").getAttribute("lang")).toBe("pt-PT");
    expect(await page.textContent("body")).toContain("1250,50");
    await checkA11y(page, "the quote page");
    await screenshot(page, "quote-page");

    await page.getByRole("button", { name: "Aceitar orçamento" }).click();
    await page.getByRole("status").filter({ hasText: "Obrigado!" }).waitFor();
    // The page says so only after the accept was answered 2xx, so it is stored.
    expect((await apiCall<QuoteOut>("GET", `/v1/quotes/${quote.id}`, key)).json.status).toBe("accepted");
    expect(await triggers(key, quote.id)).toEqual(["quote.accepted", "quote.sent", "quote.viewed"]);
    await expect(page.getByRole("button", { name: "Aceitar orçamento" }).count()).resolves.toBe(0);
    await checkA11y(page, "the accepted quote page");
    await screenshot(page, "quote-page-accepted");

    // Opening it again records no second view.
    const again = await h.newPage();
    await again.goto(quote.public_url);
    await again.getByRole("heading", { name: /Q-1001/ }).waitFor();
    expect(await triggers(key, quote.id)).toEqual(["quote.accepted", "quote.sent", "quote.viewed"]);
  });

  test("Reject with a reason, in Spanish", async () => {
    const { key, quote } = await sentQuote("Tejados SL", "es", "ES");
    const page = await h.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(quote.public_url);
    await page.getByRole("heading", { name: /Q-1001/ }).waitFor();
    expect(await page.locator("html").getAttribute("lang")).toBe("es-ES");
    const reason = page.getByRole("textbox");
    await reason.fill("Demasiado caro");
    const answered = page.waitForResponse((r) => r.url().endsWith("/reject") && r.request().method() === "POST");
    await page.getByRole("button", { name: /Rechazar/ }).click();
    expect((await answered).status()).toBe(200);
    await page.getByRole("status").filter({ hasText: /rechazado/i }).waitFor();
    expect((await apiCall<QuoteOut & { rejection_reason?: string }>("GET", `/v1/quotes/${quote.id}`, key)).json)
      .toMatchObject({ status: "rejected", rejection_reason: "Demasiado caro" });
    await checkA11y(page, "the rejected quote page");
  });
});
