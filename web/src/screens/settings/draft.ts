import type { components } from "../../api/schema";

// The settings form's state, and the PATCH that turns a changed draft into
// exactly the changes: fields left as loaded are not sent, and a secret is
// sent only when something was typed into it (an empty box keeps the
// stored secret, which the API never shows).

export type Tenant = components["schemas"]["TenantOut"];
export type TenantPatch = components["schemas"]["PatchTenantIn"];
type Mode = Tenant["mode"];

export interface EmailDraft {
  provider: "" | "smtp" | "log";
  host: string;
  port: string;
  tls: "" | "starttls" | "tls" | "none";
  username: string;
  password: string;
  from: string;
}

export interface WhatsAppDraft {
  provider: "" | "cloud_api" | "log";
  phone_number_id: string;
  business_account_id: string;
  access_token: string;
  app_secret: string;
  verify_token: string;
}

export interface Draft {
  name: string;
  timezone: string;
  quietOn: boolean;
  quietStart: string;
  quietEnd: string;
  /** One YYYY-MM-DD per line. */
  holidays: string;
  mode: Mode;
  retention: string;
  email: EmailDraft;
  whatsapp: WhatsAppDraft;
}

export function draftOf(t: Tenant): Draft {
  const e = t.channels.email;
  const w = t.channels.whatsapp;
  return {
    name: t.name,
    timezone: t.timezone,
    quietOn: t.quiet_hours != null,
    quietStart: t.quiet_hours?.start ?? "21:00",
    quietEnd: t.quiet_hours?.end ?? "08:00",
    holidays: t.holidays.join("\n"),
    mode: t.mode,
    retention: String(t.retention_days),
    email: {
      provider: (e?.provider as EmailDraft["provider"]) ?? "",
      host: e?.host ?? "",
      port: e?.port ? String(e.port) : "",
      tls: (e?.tls as EmailDraft["tls"]) ?? "",
      username: e?.username ?? "",
      password: "",
      from: e?.from ?? "",
    },
    whatsapp: {
      provider: (w?.provider as WhatsAppDraft["provider"]) ?? "",
      phone_number_id: w?.phone_number_id ?? "",
      business_account_id: w?.business_account_id ?? "",
      access_token: "",
      app_secret: "",
      verify_token: "",
    },
  };
}

/** The holiday lines as the API takes them: trimmed, blank lines dropped. */
export function holidayList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

function same<T>(a: T, b: T): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A number box's value as an integer, or NaN when it is not one. */
export function intOf(s: string): number {
  return /^\s*-?\d+\s*$/.test(s) ? Number.parseInt(s, 10) : Number.NaN;
}

/**
 * patchOf returns the PATCH body that takes the tenant from base to d, or
 * null when nothing changed. A channel is sent whole when any of its fields
 * changed (the API replaces a channel's settings with what it is given),
 * its secrets only when typed.
 */
export function patchOf(base: Draft, d: Draft): TenantPatch | null {
  const p: TenantPatch = {};
  if (d.name !== base.name) p.name = d.name;
  if (d.timezone !== base.timezone) p.timezone = d.timezone;
  if (d.quietOn !== base.quietOn || (d.quietOn && (d.quietStart !== base.quietStart || d.quietEnd !== base.quietEnd))) {
    p.quiet_hours = d.quietOn ? { start: d.quietStart, end: d.quietEnd } : null;
  }
  if (!same(holidayList(d.holidays), holidayList(base.holidays))) p.holidays = holidayList(d.holidays);
  if (d.mode !== base.mode) p.mode = d.mode;
  if (d.retention !== base.retention) p.retention_days = intOf(d.retention);

  const channels: NonNullable<TenantPatch["channels"]> = {};
  if (d.email.provider !== "" && !same(d.email, base.email)) {
    const e = d.email;
    channels.email =
      e.provider === "smtp"
        ? {
            provider: "smtp",
            host: e.host,
            ...(e.port.trim() !== "" ? { port: intOf(e.port) } : {}),
            ...(e.tls !== "" ? { tls: e.tls } : {}),
            username: e.username,
            ...(e.password !== "" ? { password: e.password } : {}),
            from: e.from,
          }
        : { provider: "log", from: e.from };
  }
  if (d.whatsapp.provider !== "" && !same(d.whatsapp, base.whatsapp)) {
    const w = d.whatsapp;
    channels.whatsapp =
      w.provider === "cloud_api"
        ? {
            provider: "cloud_api",
            phone_number_id: w.phone_number_id,
            business_account_id: w.business_account_id,
            ...(w.access_token !== "" ? { access_token: w.access_token } : {}),
            ...(w.app_secret !== "" ? { app_secret: w.app_secret } : {}),
            ...(w.verify_token !== "" ? { verify_token: w.verify_token } : {}),
          }
        : { provider: "log" };
  }
  if (channels.email || channels.whatsapp) p.channels = channels;
  return Object.keys(p).length > 0 ? p : null;
}
