import { useId, type ReactElement, type ReactNode } from "react";
import { describe, problemsAt, type ApiProblem } from "../api/client";
import { useClaim, useProblemScope } from "./problems";

/** What Field gives its control so that it is labelled and tied to its problems. */
export interface ControlProps {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby"?: string;
}

export interface FieldProps {
  /** The visible label. */
  label: ReactNode;
  /** The API's location of this value, e.g. "body.timezone". */
  path: string;
  /** Also show problems inside path (body.quiet_hours.start for body.quiet_hours). */
  nested?: boolean;
  /** A hint shown under the label. */
  hint?: ReactNode;
  /** The problem to show; by default the one of the enclosing <Form>. */
  problem?: ApiProblem | null;
  /** Renders the control with the ids and ARIA attributes it must carry. */
  children: (props: ControlProps) => ReactElement;
}

/**
 * Field is one labelled form control with the API's problems about it shown
 * beside it: every problem whose errors[].location is path (or inside it,
 * with nested) appears under the control, linked by aria-describedby.
 */
export function Field({ label, path, nested = false, hint, problem, children }: FieldProps) {
  const id = useId();
  const scope = useProblemScope();
  useClaim(path, nested);
  const mine = problemsAt(problem !== undefined ? problem : (scope?.problem ?? null), path, nested);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = mine.length > 0 ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={mine.length > 0 ? "field field--invalid" : "field"} data-path={path}>
      <label htmlFor={id} className="field__label">
        {label}
      </label>
      {hint ? (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      ) : null}
      {children({ id, "aria-invalid": mine.length > 0, ...(describedBy ? { "aria-describedby": describedBy } : {}) })}
      {mine.length > 0 ? (
        <ul id={errorId} className="field__problems" data-problem-for={path}>
          {mine.map((f, i) => (
            <li key={i}>{describe(f)}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
