import { useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { ProblemBanner } from "../../components";
import { DecisionView } from "./DecisionView";
import { triggerLabel, triggers, type Names } from "./explain";

type ResolutionOut = components["schemas"]["ResolutionOut"];

/** Resolution shows, for each of the five triggers, the workflow that would run now and why. */
export function Resolution({ leadId, names, reload }: { leadId: string; names: Names; reload: number }) {
  const [items, setItems] = useState<ResolutionOut[] | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  useEffect(() => {
    let live = true;
    setProblem(null);
    Promise.all(
      triggers.map((trigger) =>
        unwrap(api.GET("/v1/leads/{lead_id}/resolution", { params: { path: { lead_id: leadId }, query: { trigger } } })).then((r) => r.data),
      ),
    )
      .then((rs) => live && setItems(rs))
      .catch((err: unknown) => live && setProblem(problemOf(err)));
    return () => {
      live = false;
    };
  }, [leadId, reload]);

  return (
    <section aria-labelledby="resolution-title" className="lead-section">
      <h2 id="resolution-title">What happens on each trigger</h2>
      <p className="field__hint">The workflow the resolver would pick for this lead now, from its overrides, the rules and the fallback.</p>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {items ? (
        <ul className="resolutions">
          {items.map((r) => (
            <li key={r.trigger} className="resolution" aria-labelledby={`res-${r.trigger}`}>
              <h3 id={`res-${r.trigger}`}>
                {triggerLabel(r.trigger)} <code>{r.trigger}</code>
              </h3>
              <DecisionView decision={r} trigger={r.trigger} names={names} />
            </li>
          ))}
        </ul>
      ) : problem ? null : (
        <p>Resolving…</p>
      )}
    </section>
  );
}
