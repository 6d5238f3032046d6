import type { ApiProblem } from "../../api/client";
import { Button, Field, Form } from "../../components";
import { textFields, type LeadDraft, type TextField } from "./draft";

const labels: Record<TextField, { label: string; hint?: string; type?: string }> = {
  first_name: { label: "First name" },
  last_name: { label: "Last name" },
  email: { label: "Email", type: "email" },
  phone: { label: "Phone", hint: "International format (E.164), e.g. +351912345678", type: "tel" },
  language: { label: "Language", hint: "e.g. pt or en" },
  country: { label: "Country", hint: "Two letters (ISO 3166-1), e.g. PT" },
  timezone: { label: "Time zone", hint: "An IANA zone, e.g. Europe/Lisbon; empty: the tenant's" },
  source: { label: "Source", hint: "Where the lead came from, e.g. web" },
  stage: { label: "Stage" },
  owner: { label: "Owner" },
};

export interface LeadFormProps {
  label: string;
  draft: LeadDraft;
  onChange: (d: LeadDraft) => void;
  problem: ApiProblem | null;
  onSubmit: () => void;
  submitLabel: string;
  busy: boolean;
  onCancel?: () => void;
}

/** LeadForm edits every field of a lead, with the API's problems beside each. */
export function LeadForm({ label, draft, onChange, problem, onSubmit, submitLabel, busy, onCancel }: LeadFormProps) {
  const set = <K extends keyof LeadDraft>(k: K, v: LeadDraft[K]) => onChange({ ...draft, [k]: v });
  return (
    <Form label={label} problem={problem} onSubmit={onSubmit}>
      <div className="row">
        {textFields.map((f) => (
          <Field key={f} label={labels[f].label} path={`body.${f}`} hint={labels[f].hint}>
            {(p) => <input {...p} type={labels[f].type ?? "text"} value={draft[f]} onChange={(e) => set(f, e.target.value)} />}
          </Field>
        ))}
      </div>
      <Field label="Tags" path="body.tags" nested hint="Separated by commas">
        {(p) => <input {...p} value={draft.tags} onChange={(e) => set("tags", e.target.value)} />}
      </Field>
      <Field label="Custom fields" path="body.custom" nested hint='A JSON object, e.g. {"roof_type": "flat"}'>
        {(p) => <textarea {...p} rows={3} value={draft.custom} onChange={(e) => set("custom", e.target.value)} />}
      </Field>
      <div className="row">
        <label className="check">
          <input type="checkbox" checked={draft.email_opt_out} onChange={(e) => set("email_opt_out", e.target.checked)} />
          Opted out of email
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.whatsapp_opt_in} onChange={(e) => set("whatsapp_opt_in", e.target.checked)} />
          Opted in to WhatsApp
        </label>
      </div>
      <div className="form__actions">
        <Button type="submit" variant="primary" busy={busy}>
          {submitLabel}
        </Button>
        {onCancel ? <Button onClick={onCancel}>Cancel</Button> : null}
      </div>
    </Form>
  );
}
