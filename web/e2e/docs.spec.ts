import { describe, expect, test } from "vitest";
import { quoteflow, screenshot, useBrowser } from "./harness";

// /v1/docs (issue 11, part 4) renders the API reference from assets the
// binary embeds: the harness fails the test on any request off 127.0.0.1.
const h = useBrowser();

describe("the API reference at /v1/docs", () => {
  test("renders the document's operations with no request leaving the server", async () => {
    const page = await h.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    const spec = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith("/v1/openapi"));
    await page.goto(`${quoteflow().baseURL}/v1/docs`);
    expect((await spec).status()).toBe(200);
    // RapiDoc renders into its shadow root; an operation's summary there
    // shows the document was read and drawn.
    await page.getByText("Create a tenant and its first admin key", { exact: false }).first().waitFor();
    expect(requests.every((p) => p.startsWith("/v1/"))).toBe(true);
    await screenshot(page, "api-docs");
  });
});
