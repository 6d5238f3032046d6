import { describe, expect, test } from "vitest";
import { createBody, emptyDraft, patchBody } from "./draft";

describe("lead bodies", () => {
  test("create sends what was filled in, tags split, custom parsed", () => {
    const b = createBody({ ...emptyDraft, first_name: " Ana ", phone: "+351912345678", tags: "roof, vip,,", custom: '{"roof_type":"flat"}' });
    expect(b.problem).toBeNull();
    expect(b.body).toEqual({ first_name: "Ana", phone: "+351912345678", tags: ["roof", "vip"], custom: { roof_type: "flat" } });
  });
  test("custom that is not a JSON object is a problem at body.custom, before any request", () => {
    const b = createBody({ ...emptyDraft, custom: "[1]" });
    expect(b.problem?.fields[0]?.location).toBe("body.custom");
  });
  test("patch sends only what changed, including a field emptied", () => {
    const base = { ...emptyDraft, first_name: "Ana", email: "ana@example.com", tags: "a" };
    const b = patchBody(base, { ...base, email: "", whatsapp_opt_in: true });
    expect(b.body).toEqual({ email: "", whatsapp_opt_in: true });
  });
});
