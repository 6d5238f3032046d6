import { useCallback, useEffect, useRef, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form, Notice, Page, ProblemBanner } from "../../components";
import { ConditionBuilder, Sortable, moved } from "../../components/condition";
import { href } from "../../router";
import type { ScreenProps } from "../../routes";
import { NameAndTrigger } from "./NameAndTrigger";
import type { Trigger } from "./triggers";
import { draftOf, newStep, patchOf, stepInOf, stepTypeNames, type StepDraft, type StepType } from "./step";
import "./workflows.css";

type Workflow = components["schemas"]["WorkflowOut"];
type Step = components["schemas"]["Step"];
type Lead = components["schemas"]["LeadOut"];
type Quote = components["schemas"]["QuoteOut"];
type Preview = components["schemas"]["StepPreviewOut"];
type ExitOn = Workflow["exit_on"][number];
type Result = { data: Workflow; response: Response };
/** Runs one edit of the workflow with the If-Match of the newest version; null when it was saved. */
export type Run = (op: (ifMatch: string) => Promise<Result>) => Promise<ApiProblem | null>;

const exitStatuses: ExitOn[] = ["sent", "viewed", "accepted", "rejected", "expired", "replied"];
/** What each exit_on value means, as the checkbox says it. */
const exitLabels: Record<string, string> = {
  sent: "the quote is sent",
  viewed: "the quote is viewed",
  accepted: "the quote is accepted",
  rejected: "the quote is rejected",
  expired: "the quote expires",
  replied: "the customer replies on WhatsApp",
};
/** How long a step's draft waits after the last keystroke before the API checks it (nothing is saved). */
export const validateMs = 400;

/** WorkflowEditorScreen edits one workflow: its settings, its steps and their order, with previews. */
export function WorkflowEditorScreen({ params }: ScreenProps) {
  const id = params.id ?? "";
  const [wf, setWf] = useState<Workflow | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [generation, setGeneration] = useState(0);
  const [stepsProblem, setStepsProblem] = useState<ApiProblem | null>(null);
  const [moving, setMoving] = useState(false);
  const [notice, setNotice] = useState("");
  const [addType, setAddType] = useState<StepType>("send_email");
  const [leadId, setLeadId] = useState("");
  const [quoteId, setQuoteId] = useState("");
  const [stale, setStale] = useState(false);
  const [unsaved, setUnsaved] = useState<ReadonlySet<string>>(new Set());
  const etag = useRef("*");
  const chain = useRef<Promise<unknown>>(Promise.resolve());

  const apply = useCallback((r: Result) => {
    etag.current = r.response.headers.get("ETag") ?? `"${r.data.version}"`;
    setWf(r.data);
  }, []);

  const load = useCallback(() => {
    setLoadProblem(null);
    unwrap(api.GET("/v1/workflows/{workflow_id}", { params: { path: { workflow_id: id } } }))
      .then((r) => {
        apply(r);
        setStale(false);
        setGeneration((g) => g + 1);
      })
      .catch((err: unknown) => setLoadProblem(problemOf(err)));
  }, [id, apply]);
  useEffect(load, [load]);

  const onDirty = useCallback((stepId: string, dirty: boolean) => {
    setUnsaved((u) => {
      if (u.has(stepId) === dirty) return u;
      const next = new Set(u);
      if (dirty) next.add(stepId);
      else next.delete(stepId);
      return next;
    });
  }, []);
  // A reload (or closing the tab) would drop the drafts: the browser asks first.
  useEffect(() => {
    if (unsaved.size === 0) return;
    const ask = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [unsaved]);

  // Edits go one after another, each with the ETag the previous one gave,
  // so that two saves in quick succession never refuse each other with a 412.
  const run: Run = useCallback(
    (op) => {
      const p = chain.current.then(async () => {
        try {
          apply(await op(etag.current));
          return null;
        } catch (err) {
          const problem = problemOf(err);
          if (problem.status === 412) setStale(true);
          return problem.status === 412
            ? { ...problem, detail: "Someone else changed this workflow since you opened it. Reload to see their version, then make your change again." }
            : problem;
        }
      });
      chain.current = p;
      return p;
    },
    [apply],
  );

  if (loadProblem) {
    return (
      <Page title="Workflow">
        <ProblemBanner problem={loadProblem} />
        <Button onClick={load}>Try again</Button>
      </Page>
    );
  }
  if (!wf) {
    return (
      <Page title="Workflow">
        <p role="status">Loading the workflow…</p>
      </Page>
    );
  }
  const path = { workflow_id: wf.id };

  const reorder = (from: number, to: number) => {
    const ids = moved(wf.steps, from, to).map((s) => s.id);
    setMoving(true);
    setStepsProblem(null);
    void run((m) => unwrap(api.POST("/v1/workflows/{workflow_id}/steps/reorder", { params: { path, header: { "If-Match": m } }, body: { step_ids: ids } }))).then((p) => {
      setMoving(false);
      setStepsProblem(p);
      setNotice(p ? "" : `Step moved to position ${to + 1}.`);
    });
  };
  const add = () => {
    setStepsProblem(null);
    void run((m) => unwrap(api.POST("/v1/workflows/{workflow_id}/steps", { params: { path, header: { "If-Match": m } }, body: newStep(addType) }))).then((p) => {
      setStepsProblem(p);
      setNotice(p ? "" : "Step added at the end.");
    });
  };
  const remove = (s: Step, i: number) => {
    setStepsProblem(null);
    void run((m) => unwrap(api.DELETE("/v1/workflows/{workflow_id}/steps/{step_id}", { params: { path: { ...path, step_id: s.id }, header: { "If-Match": m } } }))).then((p) => {
      setStepsProblem(p);
      setNotice(p ? "" : `Step ${i + 1} removed.`);
    });
  };

  return (
    <Page
      title={`Workflow: ${wf.name}`}
      actions={
        <>
          <a href={href(`/workflows/${encodeURIComponent(wf.id)}/versions`)}>Versions (current: {wf.version})</a>{" "}
          <a href={href("/workflows")}>All workflows</a>
        </>
      }
    >
      <Notice>{notice}</Notice>
      {stale ? (
        <div className="banner banner--problem" role="alert">
          <p className="banner__title">This workflow was changed elsewhere; your last change was not saved.</p>
          <Button onClick={load}>Reload the workflow</Button>
        </div>
      ) : null}
      <SettingsForm key={generation} wf={wf} run={run} onSaved={() => setNotice("Workflow saved.")} />

      <section aria-labelledby="preview-as" className="wf-section">
        <h2 id="preview-as">Preview as</h2>
        <PreviewTarget leadId={leadId} quoteId={quoteId} onLead={setLeadId} onQuote={setQuoteId} />
      </section>

      <section aria-labelledby="steps-title" className="wf-section">
        <h2 id="steps-title">Steps</h2>
        <p className="field__hint">
          The server checks a step as you type and shows any problem beside its field, with the line and column inside a template; nothing is
          saved until you press the step&apos;s Save button. Adding, removing and moving steps are saved at once. Drag a step by its handle, or
          use its arrows, to change the order.
        </p>
        {unsaved.size > 0 ? (
          <p className="wf-unsaved" role="status">
            Unsaved changes in {unsaved.size === 1 ? "1 step" : `${unsaved.size} steps`}.
          </p>
        ) : null}
        <ProblemBanner problem={stepsProblem} />
        {wf.steps.length === 0 ? <p>No steps yet.</p> : null}
        <Sortable
          label="Steps"
          items={wf.steps}
          itemKey={(s) => s.id}
          itemName={(_s, i) => `step ${i + 1}`}
          onMove={reorder}
          disabled={moving}
          render={(s, i) => (
            <StepCard
              key={`${generation}-${s.id}`}
              step={s}
              index={i}
              workflowId={wf.id}
              run={run}
              leadId={leadId}
              quoteId={quoteId}
              onRemove={() => remove(s, i)}
              onDirty={onDirty}
            />
          )}
        />
        <div className="form__actions">
          <label className="check">
            <span>New step</span>
            <select aria-label="Type of the new step" value={addType} onChange={(e) => setAddType(e.target.value as StepType)}>
              {(Object.keys(stepTypeNames) as StepType[]).map((t) => (
                <option key={t} value={t}>
                  {stepTypeNames[t]}
                </option>
              ))}
            </select>
          </label>
          <Button onClick={add}>Add step</Button>
        </div>
      </section>
    </Page>
  );
}

function SettingsForm({ wf, run, onSaved }: { wf: Workflow; run: Run; onSaved: () => void }) {
  const [name, setName] = useState(wf.name);
  const [trigger, setTrigger] = useState<Trigger>(wf.trigger);
  const [enabled, setEnabled] = useState(wf.enabled);
  const [exitOn, setExitOn] = useState<ExitOn[]>(wf.exit_on);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const save = () => {
    setBusy(true);
    void run((m) =>
      unwrap(
        api.PATCH("/v1/workflows/{workflow_id}", {
          params: { path: { workflow_id: wf.id }, header: { "If-Match": m } },
          body: { name, trigger, enabled, exit_on: exitStatuses.filter((s) => exitOn.includes(s)) },
        }),
      ),
    ).then((p) => {
      setBusy(false);
      setProblem(p);
      if (!p) onSaved();
    });
  };
  return (
    <Form label="Workflow settings" problem={problem} onSubmit={save}>
      <NameAndTrigger name={name} trigger={trigger} onName={setName} onTrigger={setTrigger} />
      <label className="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
      </label>
      <Field label="Stop a run when" path="body.exit_on" nested>
        {(p) => (
          <div id={p.id} role="group" aria-label="Stop a run when" aria-invalid={p["aria-invalid"]} className="cond__actions">
            {exitStatuses.map((s) => (
              <label key={s} className="check">
                <input type="checkbox" checked={exitOn.includes(s)} onChange={(e) => setExitOn(e.target.checked ? [...exitOn, s] : exitOn.filter((x) => x !== s))} /> {exitLabels[s] ?? s}
              </label>
            ))}
          </div>
        )}
      </Field>
      <div className="form__actions">
        <Button type="submit" variant="primary" busy={busy}>
          Save workflow
        </Button>
      </div>
    </Form>
  );
}

function PreviewTarget({ leadId, quoteId, onLead, onQuote }: { leadId: string; quoteId: string; onLead: (id: string) => void; onQuote: (id: string) => void }) {
  const [leads, setLeads] = useState<Lead[]>([]);
  const [quotes, setQuotes] = useState<Quote[]>([]);
  useEffect(() => {
    unwrap(api.GET("/v1/leads", { params: { query: { limit: 200 } } }))
      .then(({ data }) => setLeads(data.items))
      .catch(() => setLeads([]));
  }, []);
  useEffect(() => {
    setQuotes([]);
    if (!leadId) return;
    unwrap(api.GET("/v1/quotes", { params: { query: { lead_id: leadId, limit: 200 } } }))
      .then(({ data }) => setQuotes(data.items))
      .catch(() => setQuotes([]));
  }, [leadId]);
  const leadName = (l: Lead) => [l.first_name, l.last_name].filter(Boolean).join(" ") || l.email || l.id;
  return (
    <div className="row">
      <div className="field">
        <label className="field__label" htmlFor="preview-lead">
          Lead
        </label>
        <select
          id="preview-lead"
          value={leadId}
          onChange={(e) => {
            onLead(e.target.value);
            onQuote("");
          }}
        >
          <option value="">choose a lead…</option>
          {leads.map((l) => (
            <option key={l.id} value={l.id}>
              {leadName(l)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label className="field__label" htmlFor="preview-quote">
          Quote
        </label>
        <select id="preview-quote" value={quoteId} onChange={(e) => onQuote(e.target.value)} disabled={!leadId}>
          <option value="">no quote</option>
          {quotes.map((q) => (
            <option key={q.id} value={q.id}>
              {q.number} ({q.status})
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

interface StepCardProps {
  step: Step;
  index: number;
  workflowId: string;
  run: Run;
  leadId: string;
  quoteId: string;
  onRemove: () => void;
  /** Tells the editor whether this step has changes that are not saved. */
  onDirty: (stepId: string, dirty: boolean) => void;
}

function StepCard({ step, index, workflowId, run, leadId, quoteId, onRemove, onDirty }: StepCardProps) {
  const [draft, setDraft] = useState<StepDraft>(() => draftOf(step));
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [status, setStatus] = useState("");
  const [saving, setSaving] = useState(false);
  const [whenKey, setWhenKey] = useState(0);
  // What the API last accepted from this card: the server may write a step
  // back in another form than the one sent, and it is still this draft.
  const [accepted, setAccepted] = useState("");
  const checked = useRef(0);
  const n = index + 1;
  const current = JSON.stringify(patchOf(draft));
  const dirty = current !== JSON.stringify(patchOf(draftOf(step))) && current !== accepted;

  useEffect(() => onDirty(step.id, dirty), [onDirty, step.id, dirty]);
  useEffect(() => () => onDirty(step.id, false), [onDirty, step.id]);

  // Live validation: a pause in typing sends the draft to validate-step,
  // which saves nothing and answers with the problems saving would give.
  useEffect(() => {
    const seq = ++checked.current;
    if (!dirty) {
      setProblem(null);
      return;
    }
    const t = setTimeout(() => {
      unwrap(api.POST("/v1/workflows/{workflow_id}/steps/validate", { params: { path: { workflow_id: workflowId } }, body: stepInOf(draft) }))
        .then(() => {
          if (seq === checked.current) setProblem(null);
        })
        .catch((err: unknown) => {
          if (seq === checked.current) setProblem(problemOf(err));
        });
    }, validateMs);
    return () => clearTimeout(t);
  }, [draft, dirty, workflowId]);

  const save = () => {
    const body = patchOf(draft);
    const s = JSON.stringify(body);
    checked.current++; // the save's answer supersedes any check in flight
    setSaving(true);
    setStatus("Saving…");
    void run((m) =>
      unwrap(api.PATCH("/v1/workflows/{workflow_id}/steps/{step_id}", { params: { path: { workflow_id: workflowId, step_id: step.id }, header: { "If-Match": m } }, body })),
    ).then((p) => {
      setSaving(false);
      setProblem(p);
      if (!p) setAccepted(s);
      setStatus(p ? "Not saved: see the problems above." : "Saved.");
    });
  };

  const set = (p: Partial<StepDraft>) => {
    setStatus("");
    setDraft({ ...draft, ...p });
  };
  const emailFields = (
    <>
      <Field label="Subject" path="body.email.subject">
        {(p) => <input {...p} value={draft.subject} onChange={(e) => set({ subject: e.target.value })} />}
      </Field>
      <Field label="Text" path="body.email.text" hint="Liquid: {{ lead.first_name }}, {{ quote.amount | money }}, {{ quote.url }}">
        {(p) => <textarea {...p} rows={5} className="mono" value={draft.text} onChange={(e) => set({ text: e.target.value })} />}
      </Field>
      <Field label="HTML (optional)" path="body.email.html">
        {(p) => <textarea {...p} rows={4} className="mono" value={draft.html} onChange={(e) => set({ html: e.target.value })} />}
      </Field>
    </>
  );

  return (
    <div className="wf-step" data-step-id={step.id}>
      <Form label={`Step ${n}`} problem={problem} onSubmit={save}>
        <h3>
          Step {n}: {stepTypeNames[draft.type]}
        </h3>
        <Field label="Type" path="body.type">
          {(p) => (
            <select {...p} value={draft.type} onChange={(e) => set({ type: e.target.value as StepType })}>
              {(Object.keys(stepTypeNames) as StepType[]).map((t) => (
                <option key={t} value={t}>
                  {stepTypeNames[t]}
                </option>
              ))}
            </select>
          )}
        </Field>
        {draft.type === "send_email" ? emailFields : null}
        {draft.type === "send_whatsapp" ? (
          <>
            <div className="row">
              <Field label="Template" path="body.whatsapp.template" hint="An approved template's name">
                {(p) => <input {...p} value={draft.template} onChange={(e) => set({ template: e.target.value })} />}
              </Field>
              <Field label="Language" path="body.whatsapp.language" hint="e.g. en_US">
                {(p) => <input {...p} value={draft.language} onChange={(e) => set({ language: e.target.value })} />}
              </Field>
            </div>
            <Field label="Parameters" path="body.whatsapp.parameters" nested hint="One per line, in the template's order; Liquid allowed">
              {(p) => <textarea {...p} rows={3} className="mono" value={draft.parameters} onChange={(e) => set({ parameters: e.target.value })} />}
            </Field>
            <Field
              label="Free-form text (optional)"
              path="body.whatsapp.text"
              hint="Sent instead of the template while the customer's last reply is under 24 hours old; outside that window the template goes, else the email fallback. Liquid allowed."
            >
              {(p) => <textarea {...p} rows={3} className="mono" value={draft.waText} onChange={(e) => set({ waText: e.target.value })} />}
            </Field>
            <Field label="Fallback channel" path="body.fallback_channel">
              {(p) => (
                <select {...p} value={draft.fallback ? "email" : ""} onChange={(e) => set({ fallback: e.target.value === "email" })}>
                  <option value="">none</option>
                  <option value="email">email, when WhatsApp cannot reach the lead</option>
                </select>
              )}
            </Field>
            {draft.fallback ? emailFields : null}
          </>
        ) : null}
        {draft.type === "wait" ? (
          <Field label="Wait for" path="body.wait.duration" hint="An ISO 8601 duration: PT30M, P1D, P1DT12H">
            {(p) => <input {...p} value={draft.duration} onChange={(e) => set({ duration: e.target.value })} />}
          </Field>
        ) : null}
        <label className="check">
          <input
            type="checkbox"
            checked={draft.when !== null}
            onChange={(e) => {
              setWhenKey((k) => k + 1);
              set({ when: e.target.checked ? { all: [] } : null });
            }}
          />{" "}
          Only run step {n} when a condition holds
        </label>
        {draft.when !== null ? (
          <ConditionBuilder key={whenKey} value={draft.when} onChange={(when) => set({ when })} path="body.when" label={`Step ${n} runs when`} />
        ) : null}
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={saving} disabled={!dirty}>
            Save step {n}
          </Button>
          <Button variant="danger" onClick={onRemove}>
            Remove step {n}
          </Button>
          <span role="status" className="wf-step__status">
            {dirty ? <strong className="wf-unsaved">Unsaved changes</strong> : null} {status}
          </span>
        </div>
      </Form>
      <StepPreview workflowId={workflowId} stepId={step.id} n={n} leadId={leadId} quoteId={quoteId} differs={dirty} />
    </div>
  );
}

function StepPreview({ workflowId, stepId, n, leadId, quoteId, differs }: { workflowId: string; stepId: string; n: number; leadId: string; quoteId: string; differs: boolean }) {
  const [out, setOut] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const preview = () => {
    setBusy(true);
    setProblem(null);
    unwrap(
      api.POST("/v1/workflows/{workflow_id}/steps/{step_id}/preview", {
        params: { path: { workflow_id: workflowId, step_id: stepId } },
        body: { lead_id: leadId, ...(quoteId ? { quote_id: quoteId } : {}) },
      }),
    )
      .then(({ data }) => setOut(data))
      .catch((err: unknown) => {
        setOut(null);
        setProblem(problemOf(err));
      })
      .finally(() => setBusy(false));
  };
  return (
    <section className="wf-preview" aria-label={`Preview of step ${n}`}>
      <Button onClick={preview} busy={busy} disabled={!leadId} title={leadId ? undefined : "Choose a lead under Preview as"}>
        Preview step {n}
      </Button>
      {differs ? <p className="field__hint">The preview shows the saved step {n}; save it to preview your unsaved changes.</p> : null}
      <ProblemBanner problem={problem} />
      {out ? (
        <div className="wf-preview__out">
          <p>
            Runs for this lead: <strong>{out.when === "true" ? "yes" : out.when === "false" ? "no, it is skipped" : "unknown"}</strong>
            {out.missing_fields.length > 0 ? ` (missing: ${out.missing_fields.join(", ")})` : null}
          </p>
          {out.email ? (
            <dl>
              <dt>Subject</dt>
              <dd>{out.email.subject}</dd>
              <dt>Text</dt>
              <dd>
                <pre>{out.email.text}</pre>
              </dd>
              {out.email.html ? (
                <>
                  <dt>HTML</dt>
                  <dd>
                    <pre>{out.email.html}</pre>
                  </dd>
                </>
              ) : null}
            </dl>
          ) : null}
          {out.whatsapp ? (
            <dl>
              <dt>WhatsApp template</dt>
              <dd>
                {out.whatsapp.template} ({out.whatsapp.language})
              </dd>
              <dt>Parameters</dt>
              <dd>{out.whatsapp.parameters.join(" | ") || "none"}</dd>
            </dl>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
