import { useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form, ProblemBanner, Table } from "../../components";
import { formatTime, triggerLabel, triggers } from "./explain";

type Schemas = components["schemas"];
export type Override = Schemas["OverrideOut"];
type OverrideIn = Schemas["OverrideIn"];
type Workflow = Schemas["WorkflowOut"];

/** A datetime-local value as RFC 3339 in UTC; "" stays absent. */
export function localToISO(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

interface Props {
  leadId: string;
  overrides: Override[];
  workflows: Workflow[];
  onChanged: (message: string) => void;
}

/** Overrides lists the lead's overrides and adds or removes one. */
export function Overrides({ leadId, overrides, workflows, onChanged }: Props) {
  const [trigger, setTrigger] = useState<OverrideIn["trigger"]>("*");
  const [action, setAction] = useState<OverrideIn["action"]>("suppress");
  const [workflowId, setWorkflowId] = useState("");
  const [expires, setExpires] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [removeProblem, setRemoveProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const wfName = (id?: string) => (id ? (workflows.find((w) => w.id === id)?.name ?? id) : "");

  const add = () => {
    const body: OverrideIn = { trigger, action };
    if (action === "workflow") body.workflow_id = workflowId;
    const at = localToISO(expires);
    if (at) body.expires_at = at;
    if (reason.trim()) body.reason = reason.trim();
    setBusy(true);
    setProblem(null);
    unwrap(api.POST("/v1/leads/{lead_id}/overrides", { params: { path: { lead_id: leadId } }, body }))
      .then(() => {
        setReason("");
        setExpires("");
        onChanged("Override added.");
      })
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };

  const remove = (o: Override) => {
    setRemoveProblem(null);
    unwrap(api.DELETE("/v1/leads/{lead_id}/overrides/{override_id}", { params: { path: { lead_id: leadId, override_id: o.id } } }))
      .then(() => onChanged("Override removed."))
      .catch((err: unknown) => setRemoveProblem(problemOf(err)));
  };

  return (
    <section aria-labelledby="overrides-title" className="lead-section">
      <h2 id="overrides-title">Overrides</h2>
      <p className="field__hint">An override comes before every rule: it pins a workflow for this lead, or stops all messages.</p>
      {removeProblem ? <ProblemBanner problem={removeProblem} /> : null}
      <Table
        caption="This lead's overrides"
        rows={overrides}
        rowKey={(o) => o.id}
        empty="No overrides: the rules decide."
        columns={[
          { header: "Trigger", cell: (o) => (o.trigger === "*" ? "Every trigger" : o.trigger) },
          { header: "Action", cell: (o) => (o.action === "suppress" ? "Suppress all messages" : `Run workflow '${wfName(o.workflow_id)}'`) },
          { header: "Until", cell: (o) => (o.expires_at ? formatTime(o.expires_at) : "Until removed") },
          { header: "Reason", cell: (o) => o.reason },
          { header: "State", cell: (o) => (o.active ? "Active" : "Expired") },
          {
            header: "Remove",
            cell: (o) => (
              <Button variant="danger" onClick={() => remove(o)} aria-label={`Remove override ${o.reason || o.id}`}>
                Remove
              </Button>
            ),
          },
        ]}
      />
      <h3>Add an override</h3>
      <Form label="Add an override" problem={problem} onSubmit={add}>
        <div className="row">
          <Field label="Trigger" path="body.trigger">
            {(p) => (
              <select {...p} value={trigger} onChange={(e) => setTrigger(e.target.value as OverrideIn["trigger"])}>
                <option value="*">Every trigger (*)</option>
                {triggers.map((t) => (
                  <option key={t} value={t}>
                    {triggerLabel(t)} ({t})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Action" path="body.action">
            {(p) => (
              <select {...p} value={action} onChange={(e) => setAction(e.target.value as OverrideIn["action"])}>
                <option value="suppress">Suppress: send nothing</option>
                <option value="workflow">Run a chosen workflow</option>
              </select>
            )}
          </Field>
          {action === "workflow" ? (
            <Field label="Workflow" path="body.workflow_id">
              {(p) => (
                <select {...p} value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
                  <option value="">Choose a workflow</option>
                  {workflows.map((w) => (
                    <option key={w.id} value={w.id}>
                      {w.name} ({w.trigger}
                      {w.enabled ? "" : ", off"})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          <Field label="Expires at" path="body.expires_at" hint="In your time zone; empty: until removed">
            {(p) => <input {...p} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />}
          </Field>
        </div>
        <Field label="Reason" path="body.reason" hint="Why, for whoever reads this lead later">
          {(p) => <input {...p} value={reason} onChange={(e) => setReason(e.target.value)} />}
        </Field>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Add override
          </Button>
        </div>
      </Form>
    </section>
  );
}
