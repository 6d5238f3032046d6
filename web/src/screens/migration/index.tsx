import { useCallback, useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form, Notice, Page, ProblemBanner, Table } from "../../components";
import type { ScreenProps } from "../../routes";
import { when } from "../outbox/list";
import "../outbox/outbox.css";

type Preview = components["schemas"]["MigrationPreviewOut"];
type Result = components["schemas"]["MigrationResultOut"];
type Side = components["schemas"]["MigrationSideOut"];
type Report = components["schemas"]["ShadowReportOut"];
type ShadowSide = components["schemas"]["ShadowSideOut"];
type Mode = "legacy" | "shadow" | "engine";

const modes: Array<{ value: Mode; label: string }> = [
  { value: "legacy", label: "Legacy: the legacy settings decide and send" },
  { value: "shadow", label: "Shadow: legacy sends; the engine's decisions are recorded beside, never sent" },
  { value: "engine", label: "Engine: workflows and rules decide and send" },
];

function local(fields: ApiProblem["fields"], detail: string): ApiProblem {
  return { status: 422, type: "local", title: "Not sent", detail, fields };
}

/** A datetime-local value for an instant, in the browser's zone. */
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * MigrationScreen walks a tenant from its legacy settings to the engine
 * (docs/guides/migrating-from-legacy.md): the settings, a preview of what
 * each trigger sends before and after, apply, the mode, and the shadow
 * report that says whether the engine agreed with legacy on real events.
 */
export function MigrationScreen(_props: ScreenProps) {
  return (
    <Page title="Migration">
      <p>
        Move from the legacy per-trigger settings to workflows without changing what customers receive: preview, apply, switch to
        shadow mode, read the shadow report over real events, then switch to engine mode.
      </p>
      <LegacySettings />
      <PreviewAndApply />
      <ModeSwitch />
      <ShadowReport />
    </Page>
  );
}

function LegacySettings() {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    unwrap(api.GET("/v1/legacy/settings"))
      .then(({ data }) => setText(JSON.stringify(data, null, 2)))
      .catch((e) => setLoadProblem(problemOf(e)));
  }, []);

  const save = async () => {
    setSaved("");
    let body: Record<string, components["schemas"]["LegacySetting"]>;
    try {
      body = JSON.parse(text) as typeof body;
    } catch (e) {
      setProblem(local([{ location: "body", message: `is not JSON: ${(e as Error).message}` }], "The settings are not valid JSON."));
      return;
    }
    setBusy(true);
    try {
      const { data } = await unwrap(api.PUT("/v1/legacy/settings", { body }));
      setText(JSON.stringify(data, null, 2));
      setProblem(null);
      setSaved("Legacy settings saved. Preview again: a preview names the settings it read.");
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="wizard-step" aria-labelledby="mig-legacy">
      <h2 id="mig-legacy">1. Legacy settings</h2>
      <ProblemBanner problem={loadProblem} />
      <details>
        <summary>View or edit the legacy settings (JSON, per trigger)</summary>
        <Form label="Legacy settings" problem={problem} onSubmit={() => void save()}>
          <Field label="Settings" path="body" nested hint="One entry per trigger: enabled, channels, email and whatsapp content">
            {(p) => <textarea {...p} className="json" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />}
          </Field>
          <div className="form__actions">
            <Button type="submit" variant="primary" busy={busy}>
              Save legacy settings
            </Button>
          </div>
        </Form>
      </details>
      <Notice>{saved}</Notice>
    </section>
  );
}

function Messages({ side }: { side: Side }) {
  const ms = side.messages ?? [];
  return (
    <>
      <p>
        Decision: <strong>{side.decision.outcome}</strong>
        {side.decision.reason ? ` (${side.decision.reason})` : ""}
      </p>
      {ms.length === 0 ? (
        <p>Sends nothing.</p>
      ) : (
        <ul>
          {ms.map((m, i) => (
            <li key={i}>
              <strong>{m.channel}</strong> to {m.to || "—"}: {m.subject || (m.template ? `template ${m.template.template}` : "")}
              {m.body ? <div className="mono">{m.body}</div> : null}
              {m.suppressed ? ` — suppressed (${m.reason})` : ""}
              {m.render_error ? <div className="field__problems">{m.render_error}</div> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function PreviewAndApply() {
  const [leadId, setLeadId] = useState("");
  const [quoteId, setQuoteId] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [applyProblem, setApplyProblem] = useState<ApiProblem | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [busy, setBusy] = useState<"" | "preview" | "apply">("");

  const run = async () => {
    setBusy("preview");
    setResult(null);
    setApplyProblem(null);
    try {
      const body: { lead_id?: string; quote_id?: string } = {};
      if (leadId.trim()) body.lead_id = leadId.trim();
      if (quoteId.trim()) body.quote_id = quoteId.trim();
      const { data } = await unwrap(api.POST("/v1/migration/preview", { body }));
      setPreview(data);
      setProblem(null);
    } catch (e) {
      setProblem(problemOf(e));
      setPreview(null);
    } finally {
      setBusy("");
    }
  };

  const apply = async () => {
    if (!preview) return;
    setBusy("apply");
    try {
      const { data } = await unwrap(api.POST("/v1/migration/apply", { body: { preview_id: preview.id } }));
      setResult(data);
      setApplyProblem(null);
    } catch (e) {
      setApplyProblem(problemOf(e));
    } finally {
      setBusy("");
    }
  };

  return (
    <section className="wizard-step" aria-labelledby="mig-preview">
      <h2 id="mig-preview">2. Preview</h2>
      <Form label="Migration preview" problem={problem} onSubmit={() => void run()}>
        <div className="row">
          <Field label="Lead id (optional)" path="body.lead_id" hint="Empty: a built-in sample lead">
            {(p) => <input {...p} value={leadId} onChange={(e) => setLeadId(e.target.value)} />}
          </Field>
          <Field label="Quote id (optional)" path="body.quote_id">
            {(p) => <input {...p} value={quoteId} onChange={(e) => setQuoteId(e.target.value)} />}
          </Field>
        </div>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy === "preview"}>
            Preview the migration
          </Button>
        </div>
      </Form>

      {preview ? (
        <div data-testid="migration-preview">
          <p>
            {preview.applicable ? "This migration can be applied." : "This migration cannot be applied until the blocking disagreements are fixed."}{" "}
            {preview.applied ? "It was applied already." : ""} Compared for: {preview.sample.description}.
          </p>
          <Table
            caption="What apply creates"
            rows={preview.plan ?? []}
            rowKey={(p) => p.trigger}
            empty="Nothing: no trigger of the legacy settings sends."
            columns={[
              { header: "Trigger", cell: (p) => p.trigger },
              { header: "Workflow", cell: (p) => `${p.workflow.name} (${p.workflow.steps?.length ?? 0} steps)` },
              { header: "Rule", cell: (p) => p.rule.name },
              { header: "Priority", numeric: true, cell: (p) => p.rule.priority },
            ]}
          />
          <h3>Before and after, per trigger</h3>
          {(preview.triggers ?? []).map((t) => (
            <section key={t.trigger} aria-label={`${t.trigger}: before and after`} className="comparison">
              <h4>
                {t.trigger}: {t.agree ? "the same" : "different"}
              </h4>
              <div className="sides">
                <div className="side">
                  <h4>Before (legacy)</h4>
                  <Messages side={t.before} />
                </div>
                <div className="side">
                  <h4>After (engine)</h4>
                  <Messages side={t.after} />
                </div>
              </div>
            </section>
          ))}
          <Table
            caption="Disagreements"
            rows={preview.disagreements ?? []}
            rowKey={(d) => `${d.kind}-${d.trigger}-${d.field}-${d.rule_id}-${d.override_id}`}
            empty="None: the engine would send what legacy sends."
            columns={[
              { header: "Blocking", cell: (d) => (d.blocking ? "yes" : "no") },
              { header: "Kind", cell: (d) => d.kind },
              { header: "Trigger", cell: (d) => d.trigger || "—" },
              { header: "Field", cell: (d) => (d.field ? `${d.field}${d.line ? ` (line ${d.line}, column ${d.column})` : ""}` : "—") },
              { header: "Detail", cell: (d) => d.detail },
            ]}
          />
          <div className="form__actions">
            <Button variant="primary" busy={busy === "apply"} disabled={!preview.applicable} onClick={() => void apply()}>
              Apply the migration
            </Button>
          </div>
          <ProblemBanner problem={applyProblem} />
          {result ? (
            <div role="status" data-testid="migration-result">
              <p>
                {result.replayed ? "Applied before: nothing was created twice." : "Applied."} The mode is unchanged; switch it below when you are
                ready.
              </p>
              <Table
                caption="Created"
                rows={result.created ?? []}
                rowKey={(c) => c.trigger}
                columns={[
                  { header: "Trigger", cell: (c) => c.trigger },
                  { header: "Workflow", cell: (c) => <code>{c.workflow_id}</code> },
                  { header: "Rule", cell: (c) => <code>{c.rule_id}</code> },
                  { header: "Priority", numeric: true, cell: (c) => c.priority },
                ]}
              />
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function ModeSwitch() {
  const [mode, setMode] = useState<Mode | null>(null);
  const [choice, setChoice] = useState<Mode>("legacy");
  const [etag, setEtag] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    unwrap(api.GET("/v1/tenant"))
      .then(({ data, response }) => {
        setMode(data.mode as Mode);
        setChoice(data.mode as Mode);
        setEtag(response.headers.get("ETag"));
      })
      .catch((e) => setProblem(problemOf(e)));
  }, []);
  useEffect(load, [load]);

  const save = async () => {
    setBusy(true);
    setDone("");
    try {
      const { data, response } = await unwrap(api.PATCH("/v1/tenant", { body: { mode: choice }, params: { header: etag ? { "If-Match": etag } : {} } }));
      setMode(data.mode as Mode);
      setEtag(response.headers.get("ETag"));
      setProblem(null);
      setDone(`The mode is now ${data.mode}.`);
    } catch (e) {
      const p = problemOf(e);
      setProblem(p.status === 412 ? { ...p, detail: "Someone changed the tenant since this page loaded. Its current mode is shown again; choose and switch again." } : p);
      if (p.status === 412) load();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="wizard-step" aria-labelledby="mig-mode">
      <h2 id="mig-mode">3. Mode</h2>
      <p data-testid="current-mode">Current mode: {mode ? <strong>{mode}</strong> : "…"}</p>
      <Form label="Mode switch" problem={problem} onSubmit={() => void save()}>
        <Field label="Mode" path="body.mode">
          {(p) => (
            <select {...p} value={choice} onChange={(e) => setChoice(e.target.value as Mode)}>
              {modes.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy} disabled={choice === mode}>
            Switch mode
          </Button>
        </div>
      </Form>
      <Notice>{done}</Notice>
    </section>
  );
}

function ShadowSideView({ side }: { side: ShadowSide }) {
  const ms = side.messages ?? [];
  return (
    <>
      <p>
        {side.decision.outcome}
        {side.decision.reason ? ` (${side.decision.reason})` : ""}
      </p>
      {ms.length ? (
        <ul>
          {ms.map((m) => (
            <li key={m.id}>
              {m.channel}: {m.subject || "—"} ({m.status})
            </li>
          ))}
        </ul>
      ) : (
        <p>No message.</p>
      )}
    </>
  );
}

function ShadowReport() {
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 24 * 3600_000)));
  const [to, setTo] = useState(() => localInput(new Date(Date.now() + 3600_000)));
  const [report, setReport] = useState<Report | null>(null);
  const [items, setItems] = useState<NonNullable<Report["items"]>>([]);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (cursor?: string) => {
    setBusy(true);
    try {
      const iso = (v: string) => {
        const d = new Date(v);
        return Number.isNaN(d.getTime()) ? v : d.toISOString();
      };
      const { data } = await unwrap(api.GET("/v1/shadow/report", { params: { query: { from: iso(from), to: iso(to), ...(cursor ? { cursor } : {}) } } }));
      setReport(data);
      setItems((prev) => (cursor ? [...prev, ...(data.items ?? [])] : (data.items ?? [])));
      setProblem(null);
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="wizard-step" aria-labelledby="mig-shadow">
      <h2 id="mig-shadow">4. Shadow report</h2>
      <Form label="Shadow report window" problem={problem} onSubmit={() => void load()}>
        <div className="row">
          <Field label="From" path="query.from">
            {(p) => <input {...p} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />}
          </Field>
          <Field label="To" path="query.to">
            {(p) => <input {...p} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />}
          </Field>
        </div>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Show the shadow report
          </Button>
        </div>
      </Form>
      {report ? (
        <div data-testid="shadow-report">
          <p>
            {report.disagreements === 0 ? "No disagreement" : `${report.disagreements} disagreements`} between {when(report.from)} and{" "}
            {when(report.to)}
            {report.skipped ? `; ${report.skipped} events could not be compared` : ""}.
          </p>
          <Table
            caption="Events per trigger"
            rows={report.triggers ?? []}
            rowKey={(t) => t.trigger}
            empty="No event in shadow mode in this window."
            columns={[
              { header: "Trigger", cell: (t) => t.trigger },
              { header: "Events", numeric: true, cell: (t) => t.events },
              { header: "Agree", numeric: true, cell: (t) => t.agree },
              { header: "Disagree", numeric: true, cell: (t) => t.disagree },
            ]}
          />
          {items.map((d) => (
            <section key={d.event_id} className="comparison" aria-label={`${d.trigger} event of ${when(d.created_at)}`}>
              <h3>
                {d.trigger}, {when(d.created_at)}
              </h3>
              <div className="sides">
                <div className="side">
                  <h4>Legacy</h4>
                  <ShadowSideView side={d.legacy} />
                </div>
                <div className="side">
                  <h4>Engine</h4>
                  <ShadowSideView side={d.engine} />
                </div>
              </div>
            </section>
          ))}
          {report.next_cursor ? (
            <Button busy={busy} onClick={() => void load(report.next_cursor)}>
              More disagreements
            </Button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
