import { describe, expect, test } from "vitest";
import { groupByDay, timelineEntries, type Timeline } from "./timeline";

describe("timelineEntries", () => {
  test("events, runs, steps, messages, attempts and receipts come out in time order, readable", () => {
    const t: Timeline = {
      lead_id: "l1",
      truncated: false,
      alerts: [],
      inbound: [],
      consent_changes: [],
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

describe("replies and consent on the timeline", () => {
  test("a STOP reply and the consent change it made read as such, in time order", () => {
    const t: Timeline = {
      lead_id: "l1",
      truncated: false,
      alerts: [],
      events: [],
      messages: [],
      runs: [],
      inbound: [
        {
          id: "i1", from: "+351912345678", profile_name: "Ana", match: "lead", lead_id: "l1", candidates: [],
          provider_message_id: "wamid.1", raw: {}, received_at: "2026-03-01T10:00:01Z", sent_at: "2026-03-01T10:00:00Z",
          text: "STOP", type: "text", consent: "opt_out", consent_word: "STOP",
        },
      ],
      consent_changes: [
        { id: "c1", channel: "whatsapp", created_at: "2026-03-01T10:00:01Z", lead_id: "l1", opted_in: false, source: "keyword", inbound_id: "i1" },
      ],
    } as Timeline;
    const got = timelineEntries(t).map((e) => [e.kind, e.title, e.detail]);
    expect(got).toEqual([
      ["reply", 'WhatsApp reply from Ana: "STOP"', '"STOP" opted the lead out of WhatsApp.'],
      ["consent", "Opted out of WhatsApp", "By a keyword in a reply."],
    ]);
  });
});
