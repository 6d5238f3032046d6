import { describe, expect, test } from "vitest";
import { apiCall, checkA11y, quoteflow, screenshot, signIn, useBrowser } from "./harness";

const h = useBrowser();

describe("sign-in", () => {
  test("an admin signs in by pasting a key; the key stays in this tab only and sign-out forgets it", async () => {
    const page = await h.newPage();
    await page.goto(quoteflow().baseURL + "/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await checkA11y(page, "the sign-in page");
    await screenshot(page, "sign-in");

    await signIn(page);
    expect(page.url()).toContain("#/workflows");
    expect(page.url()).not.toContain(quoteflow().adminKey);
    await page.getByText("E2E Roofing").waitFor();
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const name of ["Workflows", "Rules", "Leads", "Outbox", "Alerts", "Migration", "Settings"]) {
      await nav.getByRole("link", { name }).waitFor();
    }
    await checkA11y(page, "the shell");
    await screenshot(page, "shell");

    const stored = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage) }));
    expect(stored.session).toContain(quoteflow().adminKey);
    expect(stored.local).not.toContain(quoteflow().adminKey);

    // Another tab of the same browser profile is not signed in.
    const other = await page.context().newPage();
    await other.goto(quoteflow().baseURL + "/#/settings");
    await other.getByRole("heading", { name: "Sign in" }).waitFor();
    await other.close();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  test("a key the API refuses is shown beside the key field", async () => {
    const page = await h.newPage();
    await page.goto(quoteflow().baseURL + "/#/sign-in");
    await page.getByLabel("API key").fill("qf_not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    const problem = page.locator('[data-problem-for="key"]');
    await expect.poll(() => problem.textContent()).toContain("not valid");
    expect(await page.getByLabel("API key").getAttribute("aria-invalid")).toBe("true");
  });

  test("the demo's one-time link signs in without the key in the address, and works once", async () => {
    const q = quoteflow();
    const page = await h.newPage();
    const seen: string[] = [];
    page.on("framenavigated", (f) => seen.push(f.url()));
    await page.goto(q.demoSignInLink);
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    await page.getByText("Demo Roofing").waitFor();
    const code = new URL(q.demoSignInLink).hash.split("code=")[1]!;
    expect(page.url()).not.toContain(code);
    expect(page.url()).not.toContain(q.demoAdminKey);
    // No entry of the tab's history holds the code: walk back through all.
    const history: string[] = [page.url()];
    while (await page.goBack()) history.push(page.url());
    expect(history.filter((u) => u.includes(code) || u.includes(q.demoAdminKey))).toEqual([]);

    // The same link a second time: used, so the page says so and asks for a key.
    const again = await h.newPage();
    await again.goto(q.demoSignInLink);
    await again.getByRole("alert").filter({ hasText: "already used or has expired" }).waitFor();
    expect(again.url()).not.toContain(code);
  });

  test("the exchange route answers 404 for a code it does not know", async () => {
    const res = await apiCall("POST", "/v1/sign-in/exchange", "", { code: "nope" });
    expect(res.status).toBe(404);
  });
});
