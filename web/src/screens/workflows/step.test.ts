import { describe, expect, test } from "vitest";
import { draftOf, patchOf } from "./step";

describe("step drafts", () => {
  test("a WhatsApp step sends its email only with the email fallback", () => {
    const d = draftOf({ id: "s1", type: "send_whatsapp", whatsapp: { template: "quote_followup", language: "en_US", parameters: ["{{ lead.first_name }}", "x"] } });
    expect(d.parameters).toBe("{{ lead.first_name }}\nx");
    expect(patchOf(d)).toEqual({
      type: "send_whatsapp",
      whatsapp: { template: "quote_followup", language: "en_US", parameters: ["{{ lead.first_name }}", "x"] },
      fallback_channel: "",
      when: null,
    });
    const withFallback = patchOf({ ...d, fallback: true, subject: "S", text: "T" });
    expect(withFallback).toMatchObject({ fallback_channel: "email", email: { subject: "S", text: "T" } });
  });

  test("switching type keeps what was typed and sends only the new type's content; an empty HTML body is left out", () => {
    const d = draftOf({ id: "s1", type: "send_email", email: { subject: "S", text: "T", html: null }, when: { all: [] } });
    expect(patchOf(d)).toEqual({ type: "send_email", email: { subject: "S", text: "T" }, when: { all: [] } });
    const asWait = { ...d, type: "wait" as const, duration: "PT2H" };
    expect(patchOf(asWait)).toEqual({ type: "wait", wait: { duration: "PT2H" }, when: { all: [] } });
    expect(patchOf({ ...asWait, type: "send_email" })).toEqual({ type: "send_email", email: { subject: "S", text: "T" }, when: { all: [] } });
  });
});
