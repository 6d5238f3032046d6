import { describe, expect, test } from "vitest";
import { draftOf, patchOf, type Tenant } from "./draft";

const tenant: Tenant = {
  id: "t1",
  name: "Acme",
  timezone: "Europe/Lisbon",
  mode: "engine",
  quiet_hours: null,
  holidays: ["2026-12-25"],
  retention_days: 400,
  consent_keywords: { opt_in: ["START"], opt_in_default: true, opt_out: ["STOP"], opt_out_default: true },
  version: 3,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  channels: {
    email: { provider: "smtp", host: "smtp.acme.example", port: 587, tls: "starttls", username: "q", password_set: true, from: "Acme <q@acme.example>" },
    whatsapp: { provider: "cloud_api", phone_number_id: "1", business_account_id: "2", access_token_set: true, app_secret_set: true, verify_token_set: false },
  },
};

describe("patchOf", () => {
  test("nothing changed, nothing to send", () => {
    const d = draftOf(tenant);
    expect(patchOf(d, { ...d })).toBeNull();
  });

  test("sends only what changed", () => {
    const d = draftOf(tenant);
    expect(patchOf(d, { ...d, timezone: "America/New_York", holidays: "2026-12-25\n\n 2027-01-01 " })).toEqual({
      timezone: "America/New_York",
      holidays: ["2026-12-25", "2027-01-01"],
    });
  });

  test("quiet hours turned off is null, which removes them", () => {
    const d = { ...draftOf(tenant), quietOn: true };
    expect(patchOf(d, { ...d, quietOn: false })).toEqual({ quiet_hours: null });
  });

  test("a changed channel is sent whole, without the secrets nobody typed", () => {
    const d = draftOf(tenant);
    const p = patchOf(d, { ...d, email: { ...d.email, host: "mail.acme.example" } });
    expect(p).toEqual({
      channels: { email: { provider: "smtp", host: "mail.acme.example", port: 587, tls: "starttls", username: "q", from: "Acme <q@acme.example>" } },
    });
    expect(JSON.stringify(p)).not.toContain("password");
  });

  test("a typed secret is sent, and only in its own channel", () => {
    const d = draftOf(tenant);
    const p = patchOf(d, { ...d, whatsapp: { ...d.whatsapp, verify_token: "hello" } });
    expect(p?.channels?.whatsapp).toMatchObject({ provider: "cloud_api", verify_token: "hello" });
    expect(p?.channels?.whatsapp).not.toHaveProperty("access_token");
    expect(p?.channels).not.toHaveProperty("email");
  });
});
