import { describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { apiCall, checkA11y, createTenant, screenshot, signIn, useBrowser } from "./harness";

const h = useBrowser();

async function openSettings(page: Page, key: string) {
  await signIn(page, key);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
  await page.getByLabel("Time zone").waitFor();
}

const save = (page: Page) => page.getByRole("button", { name: "Save settings" }).click();
const saved = (page: Page) => page.getByRole("status").filter({ hasText: "Settings saved." }).waitFor();

describe("tenant settings", () => {
  test("change the time zone, save, reload: the same value; axe finds nothing serious", async () => {
    const t = await createTenant("Settings Main", { timezone: "Europe/Lisbon", holidays: ["2026-12-25"] });
    const page = await h.newPage();
    await openSettings(page, t.key);
    expect(await page.getByLabel("Time zone").inputValue()).toBe("Europe/Lisbon");
    await checkA11y(page, "the settings screen");

    await page.getByLabel("Time zone").fill("America/New_York");
    await page.getByLabel("Quiet hours: hold messages during a daily window").check();
    await page.getByLabel("Quiet from").fill("21:30");
    await page.getByLabel("Quiet until").fill("07:45");
    await page.getByLabel("Holidays").fill("2026-12-25\n2027-01-01");
    await save(page);
    await saved(page);

    await page.reload();
    await page.getByLabel("Time zone").waitFor();
    expect(await page.getByLabel("Time zone").inputValue()).toBe("America/New_York");
    expect(await page.getByLabel("Quiet from").inputValue()).toBe("21:30");
    expect(await page.getByLabel("Quiet until").inputValue()).toBe("07:45");
    expect(await page.getByLabel("Holidays").inputValue()).toBe("2026-12-25\n2027-01-01");
    const got = await apiCall<{ timezone: string; quiet_hours: unknown; holidays: string[] }>("GET", "/v1/tenant", t.key);
    expect(got.json).toMatchObject({ timezone: "America/New_York", quiet_hours: { start: "21:30", end: "07:45" }, holidays: ["2026-12-25", "2027-01-01"] });
    await screenshot(page, "settings");
  });

  test("a bad value shows the API's problem beside its field, and nothing is saved", async () => {
    const t = await createTenant("Settings Bad", { timezone: "Europe/Lisbon" });
    const page = await h.newPage();
    await openSettings(page, t.key);
    await page.getByLabel("Time zone").fill("Mars/Olympus_Mons");
    await save(page);
    const problem = page.locator('[data-problem-for="body.timezone"]');
    await problem.waitFor();
    expect(await problem.textContent()).not.toBe("");
    expect(await page.getByLabel("Time zone").getAttribute("aria-invalid")).toBe("true");
    await page.getByRole("alert").filter({ hasText: "needs attention" }).waitFor();
    await checkA11y(page, "the settings screen with a problem");
    await screenshot(page, "settings-problem");
    expect((await apiCall<{ timezone: string }>("GET", "/v1/tenant", t.key)).json.timezone).toBe("Europe/Lisbon");

    // Another field's problem goes beside that field instead.
    await page.getByLabel("Time zone").fill("Europe/Lisbon");
    await page.getByLabel("Retention (days)").fill("0");
    await save(page);
    await page.locator('[data-problem-for="body.retention_days"]').waitFor();
    expect(await page.locator('[data-problem-for="body.timezone"]').count()).toBe(0);
  });

  test("channel secrets are write-only: typed once, then shown only as set", async () => {
    const t = await createTenant("Settings Secrets", { channels: { email: { provider: "log", from: "Acme <q@acme.example>" } } });
    const page = await h.newPage();
    await openSettings(page, t.key);
    await page.getByLabel("Provider").first().selectOption("smtp");
    await page.getByLabel("Host").fill("smtp.acme.example");
    await page.getByLabel("Port").fill("587");
    await page.getByLabel("Username").fill("quotes");
    expect(await page.getByLabel("Password").getAttribute("placeholder")).toBe("not set");
    await page.getByLabel("Password").fill("s3cret-pass");
    await save(page);
    await saved(page);

    expect(await page.getByLabel("Password").inputValue()).toBe("");
    expect(await page.getByLabel("Password").getAttribute("placeholder")).toBe("set");
    expect(await page.content()).not.toContain("s3cret-pass");
    const got = await apiCall<{ channels: { email: { provider: string; password_set: boolean; host: string } } }>("GET", "/v1/tenant", t.key);
    expect(got.json.channels.email).toMatchObject({ provider: "smtp", host: "smtp.acme.example", password_set: true });

    // Changing the host without typing the password keeps the stored one.
    await page.getByLabel("Host").fill("mail.acme.example");
    await save(page);
    await saved(page);
    const after = await apiCall<{ channels: { email: { password_set: boolean; host: string } } }>("GET", "/v1/tenant", t.key);
    expect(after.json.channels.email).toMatchObject({ host: "mail.acme.example", password_set: true });
  });

  test("a mode change is listed in the history; a change made elsewhere meanwhile is refused, not overwritten", async () => {
    const t = await createTenant("Settings Mode", { mode: "legacy" });
    const page = await h.newPage();
    await openSettings(page, t.key);
    await page.getByLabel("Who decides what is sent").selectOption("shadow");
    await save(page);
    await saved(page);
    const history = page.getByRole("table", { name: "Mode changes, oldest first" });
    await history.getByRole("cell", { name: "shadow" }).waitFor();

    // Someone else changes the tenant after this page read it.
    expect((await apiCall("PATCH", "/v1/tenant", t.key, { name: "Renamed elsewhere" })).status).toBe(200);
    await page.getByLabel("Retention (days)").fill("30");
    await save(page);
    await page.getByRole("alert").filter({ hasText: "Someone changed these settings" }).waitFor();
    const got = await apiCall<{ name: string; retention_days: number }>("GET", "/v1/tenant", t.key);
    expect(got.json).toMatchObject({ name: "Renamed elsewhere", retention_days: 400 });
  });
});
