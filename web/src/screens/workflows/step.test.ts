import { describe, expect, test } from "vitest";
import { draftOf, patchOf, stepInOf } from "./step";

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

  test("the draft validate-step checks is the content Save would send, with the type always named", () => {
    const wa = draftOf({ id: "s1", type: "send_whatsapp", whatsapp: { template: "t", language: "pt_PT", parameters: [] }, fallback_channel: "email", email: { subject: "S", text: "T" } });
    expect(stepInOf(wa)).toEqual({ ...patchOf(wa), type: "send_whatsapp" });
    expect(stepInOf(wa)).toEqual({ type: "send_whatsapp", whatsapp: { template: "t", language: "pt_PT", parameters: [] }, fallback_channel: "email", email: { subject: "S", text: "T" }, when: null });
    const wait = { ...wa, type: "wait" as const, duration: "P1D" };
    expect(stepInOf(wait)).toEqual({ type: "wait", wait: { duration: "P1D" }, when: null });
    expect(stepInOf(wait)).not.toHaveProperty("position");
  });

  test("a WhatsApp step's free-form text survives an edit; a text-only step sends no empty template", () => {
    const both = draftOf({ id: "s1", type: "send_whatsapp", whatsapp: { template: "t", language: "en_US", parameters: [], text: "Hi {{ lead.first_name }}" } });
    expect(patchOf(both)).toMatchObject({ whatsapp: { template: "t", language: "en_US", text: "Hi {{ lead.first_name }}" } });
    const textOnly = { ...both, template: "", language: "" };
    expect(patchOf(textOnly)).toEqual({ type: "send_whatsapp", whatsapp: { parameters: [], text: "Hi {{ lead.first_name }}" }, fallback_channel: "", when: null });
    const neither = { ...textOnly, waText: "" };
    expect(patchOf(neither).whatsapp).toEqual({ template: "", language: "", parameters: [] });
  });
});
