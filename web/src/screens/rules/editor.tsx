import { useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form, Page, ProblemBanner } from "../../components";
import { ConditionBuilder, type ConditionJSON } from "../../components/condition";
import { href, navigate } from "../../router";
import type { ScreenProps } from "../../routes";
import { allWorkflows } from "./index";

type Rule = components["schemas"]["RuleOut"];
type Workflow = components["schemas"]["WorkflowOut"];
type RuleTrigger = Rule["trigger"];

const ruleTriggers: RuleTrigger[] = ["*", "quote.sent", "quote.viewed", "quote.accepted", "quote.rejected", "quote.expired"];

interface Draft {
  name: string;
  trigger: RuleTrigger;
  enabled: boolean;
  condition: ConditionJSON;
  workflow_id: string;
}

/** RuleEditorScreen creates (#/rules/new) or edits one assignment rule. */
export function RuleEditorScreen({ params }: ScreenProps) {
  const id = params.id ?? "new";
  const creating = id === "new";
  const [draft, setDraft] = useState<Draft | null>(creating ? { name: "", trigger: "*", enabled: true, condition: { all: [] }, workflow_id: "" } : null);
  const [etag, setEtag] = useState("*");
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    allWorkflows()
      .then((ws) => {
        setWorkflows(ws);
        if (creating) setDraft((d) => (d && d.workflow_id === "" && ws[0] ? { ...d, workflow_id: ws[0].id } : d));
      })
      .catch(() => setWorkflows([]));
    if (creating) return;
    unwrap(api.GET("/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: id } } }))
      .then(({ data, response }) => {
        setEtag(response.headers.get("ETag") ?? `"${data.version}"`);
        setDraft({ name: data.name, trigger: data.trigger, enabled: data.enabled, condition: data.condition, workflow_id: data.workflow_id });
      })
      .catch((err: unknown) => setLoadProblem(problemOf(err)));
  }, [id, creating]);

  const title = creating ? "New rule" : `Rule: ${draft?.name ?? ""}`;
  if (loadProblem)
    return (
      <Page title="Rule">
        <ProblemBanner problem={loadProblem} />
        <a href={href("/rules")}>All rules</a>
      </Page>
    );
  if (!draft)
    return (
      <Page title="Rule">
        <p role="status">Loading the rule…</p>
      </Page>
    );

  const set = (p: Partial<Draft>) => setDraft({ ...draft, ...p });
  const save = () => {
    setBusy(true);
    setProblem(null);
    const call = creating
      ? unwrap(api.POST("/v1/assignment-rules", { body: draft }))
      : unwrap(api.PATCH("/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: id }, header: { "If-Match": etag } }, body: draft }));
    call
      .then(() => navigate("/rules"))
      .catch((err: unknown) => {
        const p = problemOf(err);
        setProblem(p.status === 412 ? { ...p, detail: "Someone else changed this rule since you opened it. Reload to see theirs, then make your change again." } : p);
      })
      .finally(() => setBusy(false));
  };
  const remove = () => {
    setBusy(true);
    unwrap(api.DELETE("/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: id } } }))
      .then(() => navigate("/rules"))
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };

  return (
    <Page title={title} actions={<a href={href("/rules")}>All rules</a>}>
      <Form label={title} problem={problem} onSubmit={save}>
        <div className="row">
          <Field label="Name" path="body.name">
            {(p) => <input {...p} value={draft.name} onChange={(e) => set({ name: e.target.value })} />}
          </Field>
          <Field label="Trigger" path="body.trigger">
            {(p) => (
              <select {...p} value={draft.trigger} onChange={(e) => set({ trigger: e.target.value as RuleTrigger })}>
                {ruleTriggers.map((t) => (
                  <option key={t} value={t}>
                    {t === "*" ? "* (every trigger)" : t}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Workflow" path="body.workflow_id">
            {(p) => (
              <select {...p} value={draft.workflow_id} onChange={(e) => set({ workflow_id: e.target.value })}>
                <option value="">choose a workflow…</option>
                {workflows.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name} ({w.trigger}
                    {w.enabled ? "" : ", disabled"})
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <label className="check">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Enabled
        </label>
        <ConditionBuilder value={draft.condition} onChange={(condition) => set({ condition })} path="body.condition" label="Matches leads when" />
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            {creating ? "Create rule" : "Save rule"}
          </Button>
          {creating ? null : (
            <Button variant="danger" onClick={remove} disabled={busy}>
              Delete rule
            </Button>
          )}
        </div>
      </Form>
    </Page>
  );
}
