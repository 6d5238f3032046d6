import { describe, expect, test } from "vitest";
import { groupByDay, timelineEntries, type Timeline } from "./timeline";

describe("timelineEntries", () => {
  test("events, runs, steps, messages, attempts and receipts come out in time order, readable", () => {
    const t: Timeline = {
      lead_id: "l1",
      truncated: false,
      alerts: [],
      events: [
        {
          id: "e1",
          trigger: "quote.sent",
          action: "send",
          lead_id: "l1",
          quote_id: "q1",
          duplicate: false,
          created_at: "2026-03-02T10:00:00Z",
          decision: { outcome: "legacy", source: "fallback", reason: "fallback_legacy", missing_fields: [], trace: [] },
        },
      ],
      runs: [],
      messages: [
        {
          id: "m1",
          status: "sent",
          channel: "email",
          provider: "log",
          trigger: "quote.sent",
          lead_id: "l1",
          quote_id: "q1",
          event_id: "e1",
          to: "ana@example.com",
          subject: "Your quote",
          attempts: 1,
          created_at: "2026-03-02T10:00:01Z",
          updated_at: "2026-03-02T10:00:03Z",
          attempt_list: [{ number: 1, provider: "log", started_at: "2026-03-02T10:00:02Z", outcome: "sent" }],
          receipts: [{ status: "delivered", provider_timestamp: "2026-03-04T08:00:00Z", received_at: "2026-03-04T08:00:01Z" }],
        },
      ],
    };
    const es = timelineEntries(t, {}, new Map([["q1", "Q-1001"]]));
    expect(es.map((e) => e.kind)).toEqual(["event", "message", "attempt", "receipt"]);
    expect(es[0]!.title).toBe("Quote Q-1001 sent (quote.sent)");
    expect(es[0]!.detail).toContain("The legacy settings' message will be sent.");
    expect(es[1]!.title).toBe("Email to ana@example.com: sent");
    expect(es[2]!.title).toBe("Attempt 1 through log: sent");
    const days = groupByDay(es);
    expect(days).toHaveLength(2);
    expect(days[0]!.entries).toHaveLength(3);
  });
});
