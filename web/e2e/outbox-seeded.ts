import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quoteflow } from "./harness";

// A quoteflow of its own over a history written by `quoteflow seed-stats`
// (cmd/quoteflow/seed_stats.go), for the outbox and alerts specs: the
// shared server's tenants must not see thousands of synthetic messages.
// The alert evaluation runs every second here so that the seeded failures
// open their alerts while the spec waits.

export interface Seeded {
  baseURL: string;
  tenantId: string;
  key: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** seeded writes messages (and a third as many events) into a fresh SQLite file and serves it. */
export async function seeded(messages: number): Promise<Seeded> {
  const bin = quoteflow().bin;
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "quoteflow-seeded-"));
  const db = join(dir, "seeded.db");
  const out = execFileSync(bin, ["seed-stats", "--db", `sqlite:${db}`, "--messages", String(messages), "--events", String(Math.ceil(messages / 3))], {
    encoding: "utf8",
  });
  const tenantId = /^tenant (\S+)/m.exec(out)?.[1];
  const key = /^admin key (\S+)/m.exec(out)?.[1];
  if (!tenantId || !key) throw new Error(`seed-stats printed no tenant:\n${out}`);
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--database-url", db, "--log-level", "warn", "--alerts-every", "1s"], {
    env: { ...process.env, QUOTEFLOW_OPERATOR_TOKEN: randomBytes(24).toString("hex"), QUOTEFLOW_SECRET_KEY: randomBytes(32).toString("base64") },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`seeded quoteflow exited with ${proc.exitCode}:\n${err}`);
    try {
      if ((await fetch(baseURL + "/healthz")).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`seeded quoteflow not healthy within 60 s:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseURL, tenantId, key, stop };
}

/** seededCall is apiCall against a seeded server. */
export async function seededCall<T = unknown>(s: Seeded, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(s.baseURL + path, {
    method,
    headers: { Authorization: `Bearer ${s.key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}
