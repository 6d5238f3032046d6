import { useCallback, useEffect, useMemo, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Notice, Page, ProblemBanner } from "../../components";
import { href, navigate } from "../../router";
import type { ScreenProps } from "../../routes";
import { draftOf, leadName, patchBody, type Lead, type LeadDraft } from "./draft";
import { DryRun } from "./DryRun";
import type { Names } from "./explain";
import { LeadForm } from "./LeadForm";
import { Overrides, type Override } from "./Overrides";
import { Quotes, type Quote } from "./Quotes";
import { Resolution } from "./Resolution";
import { TimelineView } from "./TimelineView";

type Schemas = components["schemas"];
type Workflow = Schemas["WorkflowOut"];
type Rule = Schemas["RuleOut"];

/** LeadScreen is one lead: its details, what each trigger would do, overrides, quotes, a dry run and the timeline. */
export function LeadScreen({ params }: ScreenProps) {
  const id = params.id ?? "";
  const [lead, setLead] = useState<Lead | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [rules, setRules] = useState<Rule[]>([]);
  const [overrides, setOverrides] = useState<Override[]>([]);
  const [quotes, setQuotes] = useState<Quote[]>([]);
  const [reload, setReload] = useState(0);
  const [notice, setNotice] = useState("");
  const [editing, setEditing] = useState<{ base: LeadDraft; draft: LeadDraft } | null>(null);
  const [editProblem, setEditProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleteProblem, setDeleteProblem] = useState<ApiProblem | null>(null);

  const loadLead = useCallback(() => {
    setLoadProblem(null);
    unwrap(api.GET("/v1/leads/{lead_id}", { params: { path: { lead_id: id } } }))
      .then(({ data, response }) => {
        setLead(data);
        setEtag(response.headers.get("ETag"));
      })
      .catch((err: unknown) => setLoadProblem(problemOf(err)));
  }, [id]);

  useEffect(loadLead, [loadLead]);

  // The names the explanations use; a failure only costs the names, so it is not shown.
  useEffect(() => {
    unwrap(api.GET("/v1/workflows", { params: { query: { limit: 200 } } }))
      .then(({ data }) => setWorkflows(data.items))
      .catch(() => setWorkflows([]));
    unwrap(api.GET("/v1/assignment-rules"))
      .then(({ data }) => setRules(data.items ?? []))
      .catch(() => setRules([]));
  }, [reload]);

  useEffect(() => {
    unwrap(api.GET("/v1/leads/{lead_id}/overrides", { params: { path: { lead_id: id } } }))
      .then(({ data }) => setOverrides(data.items ?? []))
      .catch(() => setOverrides([]));
    unwrap(api.GET("/v1/quotes", { params: { query: { lead_id: id, limit: 200 } } }))
      .then(({ data }) => setQuotes(data.items))
      .catch(() => setQuotes([]));
  }, [id, reload]);

  const names: Names = useMemo(
    () => ({
      rules: new Map(rules.map((r) => [r.id, { name: r.name, condition: r.condition }])),
      workflows: new Map(workflows.map((w) => [w.id, { name: w.name }])),
      overrides: new Map(overrides.map((o) => [o.id, { reason: o.reason, expires_at: o.expires_at }])),
    }),
    [rules, workflows, overrides],
  );
  const quoteNumbers = useMemo(() => new Map(quotes.map((q) => [q.id, q.number])), [quotes]);

  const changed = (message: string) => {
    setNotice(message);
    setReload((n) => n + 1);
  };

  const save = () => {
    if (!editing) return;
    const built = patchBody(editing.base, editing.draft);
    if (built.problem) {
      setEditProblem(built.problem);
      return;
    }
    setBusy(true);
    setEditProblem(null);
    unwrap(api.PATCH("/v1/leads/{lead_id}", { params: { path: { lead_id: id }, ...(etag ? { header: { "If-Match": etag } } : {}) }, body: built.body }))
      .then(({ data, response }) => {
        setLead(data);
        setEtag(response.headers.get("ETag"));
        setEditing(null);
        changed("Lead saved.");
      })
      .catch((err: unknown) => {
        const p = problemOf(err);
        setEditProblem(p.status === 412 ? { ...p, fields: [], detail: "Someone changed this lead meanwhile. Reload the page to see their change, then edit again." } : p);
      })
      .finally(() => setBusy(false));
  };

  const remove = () => {
    setDeleteProblem(null);
    unwrap(api.DELETE("/v1/leads/{lead_id}", { params: { path: { lead_id: id } } }))
      .then(() => navigate("/leads"))
      .catch((err: unknown) => setDeleteProblem(problemOf(err)));
  };

  if (loadProblem) {
    return (
      <Page title="Lead">
        <ProblemBanner problem={loadProblem} />
        <p>
          <a href={href("/leads")}>Back to the leads</a>
        </p>
      </Page>
    );
  }
  if (!lead) {
    return (
      <Page title="Lead">
        <p>Loading the lead…</p>
      </Page>
    );
  }

  return (
    <Page
      title={leadName(lead)}
      actions={
        <>
          <a href={href("/leads")}>All leads</a>
          {editing ? null : (
            <Button onClick={() => setEditing({ base: draftOf(lead), draft: draftOf(lead) })}>Edit lead</Button>
          )}
          <Button variant="danger" onClick={() => setConfirmDelete(true)}>
            Delete lead
          </Button>
        </>
      }
    >
      <Notice>{notice}</Notice>
      {confirmDelete ? (
        <div className="banner banner--problem" role="alertdialog" aria-labelledby="confirm-delete">
          <p id="confirm-delete" className="banner__title">
            Delete {leadName(lead)} and everything recorded about them?
          </p>
          {deleteProblem ? <ProblemBanner problem={deleteProblem} /> : null}
          <div className="form__actions">
            <Button variant="danger" onClick={remove}>
              Yes, delete the lead
            </Button>
            <Button onClick={() => setConfirmDelete(false)}>Keep the lead</Button>
          </div>
        </div>
      ) : null}
      {editing ? (
        <section aria-labelledby="edit-lead" className="lead-section">
          <h2 id="edit-lead">Edit lead</h2>
          <LeadForm
            label="Edit lead"
            draft={editing.draft}
            onChange={(d) => setEditing({ ...editing, draft: d })}
            problem={editProblem}
            onSubmit={save}
            submitLabel="Save lead"
            busy={busy}
            onCancel={() => {
              setEditing(null);
              setEditProblem(null);
            }}
          />
        </section>
      ) : (
        <dl className="facts">
          <dt>Email</dt>
          <dd>{lead.email || "none"}{lead.email_opt_out ? " (opted out)" : ""}</dd>
          <dt>Phone</dt>
          <dd>{lead.phone || "none"}{lead.whatsapp_opt_in ? " (WhatsApp opted in)" : ""}</dd>
          <dt>Language, country, time zone</dt>
          <dd>{[lead.language, lead.country, lead.timezone].map((v) => v || "–").join(", ")}</dd>
          <dt>Source, stage, owner</dt>
          <dd>{[lead.source, lead.stage, lead.owner].map((v) => v || "–").join(", ")}</dd>
          <dt>Tags</dt>
          <dd>{lead.tags.length ? lead.tags.join(", ") : "none"}</dd>
          {Object.keys(lead.custom ?? {}).length ? (
            <>
              <dt>Custom fields</dt>
              <dd>
                <code>{JSON.stringify(lead.custom)}</code>
              </dd>
            </>
          ) : null}
        </dl>
      )}
      <Resolution leadId={id} names={names} reload={reload} />
      <Overrides leadId={id} overrides={overrides} workflows={workflows} onChanged={changed} />
      <Quotes leadId={id} quotes={quotes} names={names} onChanged={changed} />
      <DryRun leadId={id} quotes={quotes} names={names} />
      <TimelineView leadId={id} names={names} quoteNumbers={quoteNumbers} reload={reload} />
    </Page>
  );
}
