import type { ReactNode } from "react";
import { describe, type ApiProblem } from "../api/client";
import { isClaimed, useProblemScope } from "./problems";

/**
 * ProblemBanner is a form's own message: the problem's detail when no field
 * is at fault, else a pointer to the fields, plus every field problem that
 * no <Field> on the page shows (with its location, so it is still useful).
 */
export function ProblemBanner({ problem: given }: { problem?: ApiProblem | null }) {
  const scope = useProblemScope();
  const problem = given !== undefined ? given : (scope?.problem ?? null);
  if (!problem) return null;
  const claimed = scope?.claimed ?? [];
  const unclaimed = problem.fields.filter((f) => !f.location || !isClaimed(f.location, claimed));
  const shown = problem.fields.length - unclaimed.length;
  return (
    <div className="banner banner--problem" role="alert" data-problem-type={problem.type}>
      <p className="banner__title">
        {problem.fields.length === 0
          ? problem.detail
          : shown > 0
            ? `Not saved: ${shown === 1 ? "one field needs" : `${shown} fields need`} attention, see below.`
            : "Not saved."}
      </p>
      {unclaimed.length > 0 ? (
        <ul className="banner__list">
          {unclaimed.map((f, i) => (
            <li key={i}>
              {f.location ? <code>{f.location}</code> : null} {describe(f)}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/**
 * Notice is a short confirmation after an action. The live region is always
 * there, empty or not, so that screen readers announce what appears in it.
 */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className={children ? "notice notice--ok" : "notice"} role="status">
      {children}
    </div>
  );
}
