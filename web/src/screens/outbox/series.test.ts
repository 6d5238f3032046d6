import { describe, expect, test } from "vitest";
import { chartsOf, duration, type Stats } from "./series";

const stats = {
  from: "2026-03-02T00:00:00Z",
  to: "2026-03-02T03:00:00Z",
  bucket: "1h",
  timezone: "UTC",
  group_by: ["trigger", "status"],
  buckets: [
    { start: "2026-03-02T00:00:00Z", end: "2026-03-02T01:00:00Z" },
    { start: "2026-03-02T01:00:00Z", end: "2026-03-02T02:00:00Z" },
    { start: "2026-03-02T02:00:00Z", end: "2026-03-02T03:00:00Z" },
  ],
  totals: { messages: 9, attempts: 6, retries: 2, decisions: 9, event_to_sent: { count: 0, p50_seconds: 0, p95_seconds: 0 }, sent_to_delivered: { count: 0, p50_seconds: 0, p95_seconds: 0 } },
  messages: [
    { key: { trigger: "quote.sent", status: "delivered" }, total: 4, counts: [1, 2, 1] },
    { key: { trigger: "quote.sent", status: "failed" }, total: 2, counts: [0, 0, 2] },
    { key: { trigger: "quote.viewed", status: "sent" }, total: 3, counts: [3, 0, 0] },
  ],
  attempts: [
    { key: { trigger: "quote.sent", status: "failed" }, attempts: 4, retries: 2, attempt_counts: [0, 0, 4], retry_counts: [0, 0, 2] },
    { key: { trigger: "quote.viewed", status: "sent" }, attempts: 3, retries: 0, attempt_counts: [3, 0, 0], retry_counts: [0, 0, 0] },
  ],
} as unknown as Stats;

describe("chartsOf", () => {
  test("folds the status dimension away: all messages, retries, and failed messages per trigger", () => {
    const c = chartsOf(stats, "trigger");
    expect(c.sends).toEqual([
      { name: "quote.sent", values: [1, 2, 3] },
      { name: "quote.viewed", values: [3, 0, 0] },
    ]);
    expect(c.retries).toEqual([
      { name: "quote.sent", values: [0, 0, 2] },
      { name: "quote.viewed", values: [0, 0, 0] },
    ]);
    expect(c.failures).toEqual([
      { name: "quote.sent", values: [0, 0, 2] },
      { name: "quote.viewed", values: [0, 0, 0] },
    ]);
  });
  test("an answer without series gives empty charts", () => {
    const c = chartsOf({ ...stats, messages: null, attempts: null }, "channel");
    expect(c).toEqual({ sends: [], retries: [], failures: [] });
  });
});

test("durations read as people say them", () => {
  expect(duration(45, 3)).toBe("45 s");
  expect(duration(600, 3)).toBe("10 min");
  expect(duration(41040, 3)).toBe("11.4 h");
  expect(duration(3 * 86400, 3)).toBe("3.0 d");
  expect(duration(10, 0)).toBe("—");
});
