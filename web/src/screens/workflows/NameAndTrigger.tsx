import { Field } from "../../components";
import { triggers, type Trigger } from "./triggers";

/** NameAndTrigger is a workflow's name and trigger, side by side, as both the create form and the editor ask for them. */
export function NameAndTrigger({
  name,
  trigger,
  onName,
  onTrigger,
}: {
  name: string;
  trigger: Trigger;
  onName: (v: string) => void;
  onTrigger: (v: Trigger) => void;
}) {
  return (
    <div className="row">
      <Field label="Name" path="body.name">
        {(p) => <input {...p} value={name} onChange={(e) => onName(e.target.value)} />}
      </Field>
      <Field label="Trigger" path="body.trigger">
        {(p) => (
          <select {...p} value={trigger} onChange={(e) => onTrigger(e.target.value as Trigger)}>
            {triggers.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}
