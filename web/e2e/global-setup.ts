import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

// Builds the quoteflow binary, starts `quoteflow serve` on a free port of
// 127.0.0.1 over a fresh SQLite file with an operator token, creates a
// tenant through the operator route, and starts `quoteflow demo` beside it
// for the sign-in link. The tests read both with inject("quoteflow").

/** What every spec gets from inject("quoteflow"). */
export interface Quoteflow {
  /** http://127.0.0.1:PORT of `quoteflow serve`. */
  baseURL: string;
  /** An admin key of a tenant created for the run ("E2E Roofing"). */
  adminKey: string;
  tenantId: string;
  /** The operator token, to create more tenants (harness.createTenant). */
  operatorToken: string;
  /** `quoteflow demo`'s base URL and its printed one-time sign-in link. */
  demoURL: string;
  demoSignInLink: string;
  demoAdminKey: string;
  /** The quoteflow binary the run built, for a spec that needs a server of its own (a seeded history). */
  bin: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    quoteflow: Quoteflow;
  }
}

const repo = fileURLToPath(new URL("../..", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`quoteflow exited with ${proc.exitCode}:\n${log()}`);
    try {
      const r = await fetch(url + "/healthz");
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`quoteflow at ${url} not healthy within 60 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(bin: string, args: string[], env: Record<string, string>) {
  const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  return { proc, stdout: () => out, log: () => out + err.slice(-4000) };
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "quoteflow-e2e-"));
  const bin = join(dir, "quoteflow");
  execFileSync("go", ["build", "-o", bin, "./cmd/quoteflow"], { cwd: repo, stdio: "inherit", env: { ...process.env, PATH: `/usr/local/go/bin:${process.env.PATH}` } });

  const operatorToken = randomBytes(24).toString("hex");
  const secretKey = randomBytes(32).toString("base64");
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const serve = start(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--database-url", join(dir, "e2e.db"), "--log-level", "warn"], {
    QUOTEFLOW_OPERATOR_TOKEN: operatorToken,
    QUOTEFLOW_SECRET_KEY: secretKey,
  });
  const demoPort = await freePort();
  const demoURL = `http://127.0.0.1:${demoPort}`;
  const demo = start(bin, ["demo", "--addr", `127.0.0.1:${demoPort}`, "--database-url", join(dir, "demo.db"), "--log-level", "warn"], {});
  const stop = () => {
    for (const p of [serve.proc, demo.proc]) if (p.exitCode === null) p.kill("SIGTERM");
  };
  try {
    await waitHealthy(baseURL, serve.proc, serve.log);
    await waitHealthy(demoURL, demo.proc, demo.log);

    const res = await fetch(baseURL + "/v1/tenants", {
      method: "POST",
      headers: { Authorization: `Bearer ${operatorToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "E2E Roofing", timezone: "Europe/Lisbon", mode: "engine" }),
    });
    if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${await res.text()}`);
    const tenant = (await res.json()) as { id: string; api_key: { key: string } };

    // The demo prints its link once the tenant is seeded, before it listens.
    const printed = demo.stdout();
    const link = /editor:\s+(\S+#\/sign-in\?code=\S+)/.exec(printed)?.[1];
    const demoKey = /admin key:\s+(\S+)/.exec(printed)?.[1];
    if (!link || !demoKey) throw new Error(`quoteflow demo printed no sign-in link:\n${printed}`);

    project.provide("quoteflow", {
      baseURL,
      adminKey: tenant.api_key.key,
      tenantId: tenant.id,
      operatorToken,
      demoURL,
      demoSignInLink: link,
      demoAdminKey: demoKey,
      bin,
    });
  } catch (e) {
    stop();
    throw e;
  }

  return async () => {
    stop();
    await Promise.all(
      [serve.proc, demo.proc].map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once("exit", r)))),
    );
    rmSync(dir, { recursive: true, force: true });
  };
}
