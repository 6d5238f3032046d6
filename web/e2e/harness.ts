import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, inject } from "vitest";
import type { Quoteflow } from "./global-setup";

// The browser-test harness (docs/WEB.md, "Browser tests"). A spec file
// calls useBrowser() once at its top and then, in each test, newPage():
// a fresh context (its own sessionStorage) whose every request to a host
// other than 127.0.0.1 is refused and fails the test.

const require = createRequire(import.meta.url);
const repo = fileURLToPath(new URL("../..", import.meta.url));

/** The servers global-setup.ts started. */
export function quoteflow(): Quoteflow {
  return inject("quoteflow");
}

/** Debian's Chromium, never a downloaded one (CI installs the package). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * launchChromium starts headless Chromium. playwright-core gives every
 * launch a fresh temporary --user-data-dir of its own, removed at close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

export interface Harness {
  /** The browser of this spec file, once beforeAll has run. */
  browser(): Browser;
  /** A new page in a new context, with the 127.0.0.1 guard and error capture. */
  newPage(): Promise<Page>;
}

/**
 * useBrowser launches one Chromium for the spec file, closes it after, and
 * fails each test that made a request off 127.0.0.1 or hit an uncaught
 * error in the page.
 */
export function useBrowser(): Harness {
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  let offHost: string[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
    const off = offHost;
    const errs = pageErrors;
    offHost = [];
    pageErrors = [];
    expect(off, "requests that left 127.0.0.1").toEqual([]);
    expect(errs, "uncaught errors in the page").toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  return {
    browser() {
      if (!browser) throw new Error("useBrowser: the browser is not launched yet (call from a test)");
      return browser;
    },
    async newPage() {
      if (!browser) throw new Error("useBrowser: the browser is not launched yet (call from a test)");
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1, locale: "en-GB" });
      contexts.push(context);
      await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1") return route.continue();
        offHost.push(route.request().url());
        return route.abort("blockedbyclient");
      });
      const page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      // The editor's Content-Security-Policy stops a request to another
      // origin before the route above could see it; the attempt still fails
      // the test.
      page.on("console", (m) => {
        if (m.type() === "error" && m.text().includes("Content Security Policy")) offHost.push(`refused by the CSP: ${m.text()}`);
      });
      return page;
    },
  };
}

/** signIn opens the editor at base and signs in with key by pasting it, as an admin would. */
export async function signIn(page: Page, key = quoteflow().adminKey, base = quoteflow().baseURL): Promise<void> {
  await page.goto(base + "/#/sign-in");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** createTenant makes another tenant through the operator route and returns its admin key. */
export async function createTenant(name: string, extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const q = quoteflow();
  const res = await fetch(q.baseURL + "/v1/tenants", {
    method: "POST",
    headers: { Authorization: `Bearer ${q.operatorToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name, ...extra }),
  });
  if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${await res.text()}`);
  const t = (await res.json()) as { id: string; api_key: { key: string } };
  return { id: t.id, key: t.api_key.key };
}

/** apiCall sends one request to the API with key, for a spec's setup or checks. */
export async function apiCall<T = unknown>(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(quoteflow().baseURL + path, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/**
 * checkA11y runs axe-core (injected from node_modules, not fetched) on the
 * page as it is, and fails on any serious or critical violation, listing
 * each rule with the elements it concerns.
 */
export async function checkA11y(page: Page, what: string): Promise<void> {
  // Evaluated through the DevTools protocol rather than added as a script
  // tag, which the editor's Content-Security-Policy rightly refuses.
  await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
  expect(report, `axe on ${what}: serious or critical violations`).toEqual([]);
}

/** The folder the screenshots go to, docs/screenshots/ of the repository. */
export const screenshotDir = join(repo, "docs", "screenshots");

/** screenshot writes the page as docs/screenshots/<screen>.png (the docs show these). */
export async function screenshot(page: Page, screen: string): Promise<string> {
  const file = join(screenshotDir, `${screen}.png`);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true, animations: "disabled", caret: "hide" });
  return file;
}
