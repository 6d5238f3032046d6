import { useCallback, useEffect, useMemo, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem, type FieldProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form, Notice, Page, ProblemBanner, Table } from "../../components";
import type { ScreenProps } from "../../routes";
import { draftOf, holidayList, intOf, patchOf, type Draft, type EmailDraft, type Tenant, type WhatsAppDraft } from "./draft";

type ModeChange = components["schemas"]["ModeChangeOut"];

const modes: Array<{ value: Draft["mode"]; label: string }> = [
  { value: "legacy", label: "Legacy: the per-trigger settings decide" },
  { value: "shadow", label: "Shadow: legacy decides, the engine's decisions are recorded beside" },
  { value: "engine", label: "Engine: workflows and rules decide" },
];

/** The IANA zones the browser knows, offered as suggestions; the API decides what is valid. */
function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}

function localProblem(fields: FieldProblem[]): ApiProblem {
  return { status: 422, type: "local", title: "Not sent", detail: "Some values need attention.", fields };
}

/** SettingsScreen edits the tenant: time, quiet hours, holidays, mode, retention and channels. */
export function SettingsScreen(_props: ScreenProps) {
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [base, setBase] = useState<Draft | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [history, setHistory] = useState<ModeChange[]>([]);
  const [moreHistory, setMoreHistory] = useState(false);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);
  const zones = useMemo(timeZones, []);

  const show = useCallback((t: Tenant, tag: string | null) => {
    setTenant(t);
    setEtag(tag);
    const d = draftOf(t);
    setBase(d);
    setDraft(d);
  }, []);

  const loadHistory = useCallback(() => {
    unwrap(api.GET("/v1/tenant/mode-changes", { params: { query: { limit: 100 } } }))
      .then(({ data }) => {
        setHistory(data.items);
        setMoreHistory(data.next_cursor !== undefined);
      })
      .catch(() => setHistory([]));
  }, []);

  const load = useCallback(() => {
    setLoadProblem(null);
    unwrap(api.GET("/v1/tenant"))
      .then(({ data, response }) => show(data, response.headers.get("ETag")))
      .catch((err: unknown) => setLoadProblem(problemOf(err)));
    loadHistory();
  }, [show, loadHistory]);

  useEffect(load, [load]);

  if (loadProblem) {
    return (
      <Page title="Settings">
        <ProblemBanner problem={loadProblem} />
        <Button onClick={load}>Try again</Button>
      </Page>
    );
  }
  if (!tenant || !draft || !base) {
    return (
      <Page title="Settings">
        <p role="status">Loading the tenant's settings…</p>
      </Page>
    );
  }

  const set = (patch: Partial<Draft>) => {
    setSaved("");
    setDraft({ ...draft, ...patch });
  };
  const setEmail = (patch: Partial<EmailDraft>) => set({ email: { ...draft.email, ...patch } });
  const setWhatsApp = (patch: Partial<WhatsAppDraft>) => set({ whatsapp: { ...draft.whatsapp, ...patch } });

  const save = () => {
    const local: FieldProblem[] = [];
    if (Number.isNaN(intOf(draft.retention))) local.push({ location: "body.retention_days", message: "Enter a whole number of days." });
    if (draft.email.provider === "smtp" && draft.email.port.trim() !== "" && Number.isNaN(intOf(draft.email.port)))
      local.push({ location: "body.channels.email.port", message: "Enter a port number." });
    if (local.length > 0) {
      setProblem(localProblem(local));
      return;
    }
    const body = patchOf(base, draft);
    if (!body) {
      setProblem(null);
      setSaved("Nothing changed.");
      return;
    }
    setBusy(true);
    setProblem(null);
    unwrap(api.PATCH("/v1/tenant", { body, params: { header: etag ? { "If-Match": etag } : {} } }))
      .then(({ data, response }) => {
        show(data, response.headers.get("ETag"));
        setSaved("Settings saved.");
        if (body.mode !== undefined) loadHistory();
      })
      .catch((err: unknown) => {
        const p = problemOf(err);
        setProblem(
          p.status === 412
            ? { ...p, detail: "Someone changed these settings since you opened them. Reload to see theirs, then make your change again." }
            : p,
        );
      })
      .finally(() => setBusy(false));
  };

  const secret = (isSet: boolean) => (isSet ? "set" : "not set");
  const emailOut = tenant.channels.email;
  const waOut = tenant.channels.whatsapp;

  return (
    <Page title="Settings">
      <Form label="Tenant settings" problem={problem} onSubmit={save}>
        <fieldset>
          <legend>Tenant</legend>
          <Field label="Name" path="body.name">
            {(p) => <input {...p} name="name" value={draft.name} onChange={(e) => set({ name: e.target.value })} />}
          </Field>
          <Field label="Time zone" path="body.timezone" hint="An IANA time zone such as Europe/Lisbon: schedules, quiet hours and holidays are in this zone.">
            {(p) => (
              <>
                <input {...p} name="timezone" list="tz-list" autoComplete="off" value={draft.timezone} onChange={(e) => set({ timezone: e.target.value })} />
                <datalist id="tz-list">
                  {zones.map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Retention (days)" path="body.retention_days" hint="How long the timeline is kept; older entries are purged, their statistics kept.">
            {(p) => (
              <input {...p} name="retention_days" type="number" inputMode="numeric" min={1} max={3650} value={draft.retention} onChange={(e) => set({ retention: e.target.value })} />
            )}
          </Field>
        </fieldset>

        <fieldset>
          <legend>When messages may go out</legend>
          <div className="check">
            <input id="quiet-on" type="checkbox" checked={draft.quietOn} onChange={(e) => set({ quietOn: e.target.checked })} />
            <label htmlFor="quiet-on">Quiet hours: hold messages during a daily window</label>
          </div>
          {draft.quietOn ? (
            <div className="row">
              <Field label="Quiet from" path="body.quiet_hours.start">
                {(p) => <input {...p} name="quiet_start" type="time" value={draft.quietStart} onChange={(e) => set({ quietStart: e.target.value })} />}
              </Field>
              <Field label="Quiet until" path="body.quiet_hours.end">
                {(p) => <input {...p} name="quiet_end" type="time" value={draft.quietEnd} onChange={(e) => set({ quietEnd: e.target.value })} />}
              </Field>
            </div>
          ) : null}
          <Field label="Holidays" path="body.holidays" nested hint="One date per line, as YYYY-MM-DD: nothing is sent on these days.">
            {(p) => (
              <textarea {...p} name="holidays" rows={4} value={draft.holidays} onChange={(e) => set({ holidays: e.target.value })} />
            )}
          </Field>
          <p className="field__hint">{holidayList(draft.holidays).length} holiday(s).</p>
        </fieldset>

        <fieldset>
          <legend>Mode</legend>
          <Field label="Who decides what is sent" path="body.mode">
            {(p) => (
              <select {...p} name="mode" value={draft.mode} onChange={(e) => set({ mode: e.target.value as Draft["mode"] })}>
                {modes.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </fieldset>

        <fieldset>
          <legend>Email</legend>
          <Field label="Provider" path="body.channels.email.provider">
            {(p) => (
              <select {...p} name="email_provider" value={draft.email.provider} onChange={(e) => setEmail({ provider: e.target.value as EmailDraft["provider"] })}>
                {emailOut ? null : <option value="">Not configured</option>}
                <option value="smtp">SMTP server</option>
                <option value="log">Log only (nothing is delivered)</option>
              </select>
            )}
          </Field>
          {draft.email.provider !== "" ? (
            <Field label="From" path="body.channels.email.from" hint='The sender, e.g. Acme Roofing <quotes@acme.example>.'>
              {(p) => <input {...p} name="email_from" value={draft.email.from} onChange={(e) => setEmail({ from: e.target.value })} />}
            </Field>
          ) : null}
          {draft.email.provider === "smtp" ? (
            <>
              <div className="row">
                <Field label="Host" path="body.channels.email.host">
                  {(p) => <input {...p} name="email_host" value={draft.email.host} onChange={(e) => setEmail({ host: e.target.value })} />}
                </Field>
                <Field label="Port" path="body.channels.email.port">
                  {(p) => <input {...p} name="email_port" type="number" inputMode="numeric" value={draft.email.port} onChange={(e) => setEmail({ port: e.target.value })} />}
                </Field>
                <Field label="TLS" path="body.channels.email.tls">
                  {(p) => (
                    <select {...p} name="email_tls" value={draft.email.tls} onChange={(e) => setEmail({ tls: e.target.value as EmailDraft["tls"] })}>
                      <option value="">Default (STARTTLS)</option>
                      <option value="starttls">STARTTLS</option>
                      <option value="tls">TLS</option>
                      <option value="none">None</option>
                    </select>
                  )}
                </Field>
              </div>
              <div className="row">
                <Field label="Username" path="body.channels.email.username">
                  {(p) => <input {...p} name="email_username" autoComplete="off" value={draft.email.username} onChange={(e) => setEmail({ username: e.target.value })} />}
                </Field>
                <Field label="Password" path="body.channels.email.password" hint="Write-only: never shown. Leave empty to keep the stored one.">
                  {(p) => (
                    <input {...p} name="email_password" type="password" autoComplete="new-password" placeholder={secret(!!emailOut?.password_set && emailOut.provider === "smtp")} value={draft.email.password} onChange={(e) => setEmail({ password: e.target.value })} />
                  )}
                </Field>
              </div>
            </>
          ) : null}
        </fieldset>

        <fieldset>
          <legend>WhatsApp</legend>
          <Field label="Provider" path="body.channels.whatsapp.provider">
            {(p) => (
              <select {...p} name="whatsapp_provider" value={draft.whatsapp.provider} onChange={(e) => setWhatsApp({ provider: e.target.value as WhatsAppDraft["provider"] })}>
                {waOut ? null : <option value="">Not configured</option>}
                <option value="cloud_api">WhatsApp Cloud API</option>
                <option value="log">Log only (nothing is delivered)</option>
              </select>
            )}
          </Field>
          {draft.whatsapp.provider === "cloud_api" ? (
            <>
              <div className="row">
                <Field label="Phone number id" path="body.channels.whatsapp.phone_number_id">
                  {(p) => <input {...p} name="wa_phone_number_id" value={draft.whatsapp.phone_number_id} onChange={(e) => setWhatsApp({ phone_number_id: e.target.value })} />}
                </Field>
                <Field label="Business account id" path="body.channels.whatsapp.business_account_id">
                  {(p) => <input {...p} name="wa_business_account_id" value={draft.whatsapp.business_account_id} onChange={(e) => setWhatsApp({ business_account_id: e.target.value })} />}
                </Field>
              </div>
              <p className="field__hint">Secrets are write-only: never shown; leave a box empty to keep the stored value.</p>
              <div className="row">
                <Field label="Access token" path="body.channels.whatsapp.access_token">
                  {(p) => (
                    <input {...p} name="wa_access_token" type="password" autoComplete="new-password" placeholder={secret(!!waOut?.access_token_set && waOut.provider === "cloud_api")} value={draft.whatsapp.access_token} onChange={(e) => setWhatsApp({ access_token: e.target.value })} />
                  )}
                </Field>
                <Field label="App secret" path="body.channels.whatsapp.app_secret">
                  {(p) => (
                    <input {...p} name="wa_app_secret" type="password" autoComplete="new-password" placeholder={secret(!!waOut?.app_secret_set && waOut.provider === "cloud_api")} value={draft.whatsapp.app_secret} onChange={(e) => setWhatsApp({ app_secret: e.target.value })} />
                  )}
                </Field>
                <Field label="Webhook verify token" path="body.channels.whatsapp.verify_token">
                  {(p) => (
                    <input {...p} name="wa_verify_token" type="password" autoComplete="new-password" placeholder={secret(!!waOut?.verify_token_set && waOut.provider === "cloud_api")} value={draft.whatsapp.verify_token} onChange={(e) => setWhatsApp({ verify_token: e.target.value })} />
                  )}
                </Field>
              </div>
            </>
          ) : null}
        </fieldset>

        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Save settings
          </Button>
          <Button onClick={load}>Reload</Button>
          <Notice>{saved}</Notice>
        </div>
      </Form>

      <Table
        caption="Mode changes, oldest first"
        columns={[
          { header: "When", cell: (m: ModeChange) => new Date(m.changed_at).toLocaleString() },
          { header: "From", cell: (m: ModeChange) => m.from },
          { header: "To", cell: (m: ModeChange) => m.to },
          { header: "By key", cell: (m: ModeChange) => (m.api_key_id ? <code>{m.api_key_id}</code> : "operator") },
        ]}
        rows={history}
        rowKey={(m) => m.id}
        empty="The mode has not been changed."
      />
      {moreHistory ? <p className="field__hint">The first 100 changes are shown.</p> : null}
    </Page>
  );
}
