import { explainDecision, type Decision, type Names } from "./explain";

/** DecisionView shows a decision in words: what happens, why, and the trace on demand. */
export function DecisionView({ decision, trigger, names }: { decision: Decision; trigger: string; names: Names }) {
  const x = explainDecision(decision, trigger, names);
  return (
    <div className="decision" data-outcome={decision.outcome}>
      <p className="decision__headline">
        <strong>{x.headline}</strong>
      </p>
      {x.because.map((s, i) => (
        <p key={i} className="decision__because">
          {s}
        </p>
      ))}
      {x.steps.length > 0 ? (
        <details>
          <summary>How this was decided ({x.steps.length === 1 ? "one step" : `${x.steps.length} steps`})</summary>
          <ol>
            {x.steps.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}
