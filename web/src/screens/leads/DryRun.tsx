import { useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form } from "../../components";
import { DecisionView } from "./DecisionView";
import { explainPlannedStep, triggerLabel, triggers, type Names, type Trigger } from "./explain";
import type { Quote } from "./Quotes";

type SimulateOut = components["schemas"]["SimulateOut"];

/** DryRun asks what a trigger would do for this lead and quote, and shows the steps it would take, sending nothing. */
export function DryRun({ leadId, quotes, names }: { leadId: string; quotes: Quote[]; names: Names }) {
  const [trigger, setTrigger] = useState<Trigger>("quote.sent");
  const [quoteId, setQuoteId] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [out, setOut] = useState<SimulateOut | null>(null);
  const [busy, setBusy] = useState(false);

  const run = () => {
    setBusy(true);
    setProblem(null);
    unwrap(api.POST("/v1/leads/{lead_id}/simulate", { params: { path: { lead_id: leadId } }, body: { trigger, ...(quoteId ? { quote_id: quoteId } : {}) } }))
      .then(({ data }) => setOut(data))
      .catch((err: unknown) => {
        setOut(null);
        setProblem(problemOf(err));
      })
      .finally(() => setBusy(false));
  };

  return (
    <section aria-labelledby="dryrun-title" className="lead-section">
      <h2 id="dryrun-title">Dry run</h2>
      <p className="field__hint">What would happen, step by step, if this trigger happened now. Nothing is sent or recorded.</p>
      <Form label="Dry run" problem={problem} onSubmit={run}>
        <div className="row">
          <Field label="Trigger to try" path="body.trigger">
            {(p) => (
              <select {...p} value={trigger} onChange={(e) => setTrigger(e.target.value as Trigger)}>
                {triggers.map((t) => (
                  <option key={t} value={t}>
                    {triggerLabel(t)} ({t})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Quote" path="body.quote_id">
            {(p) => (
              <select {...p} value={quoteId} onChange={(e) => setQuoteId(e.target.value)}>
                <option value="">No quote</option>
                {quotes.map((q) => (
                  <option key={q.id} value={q.id}>
                    {q.number}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Run the dry run
          </Button>
        </div>
      </Form>
      {out ? (
        <div className="dryrun" aria-labelledby="dryrun-result">
          <h3 id="dryrun-result">Dry run of {out.trigger}</h3>
          <DecisionView decision={out} trigger={out.trigger} names={names} />
          {out.steps.length > 0 ? (
            <>
              <h4>Planned steps</h4>
              <ol className="plain-list">
                {out.steps.map((s) => (
                  <li key={s.step_id}>
                    <span>{explainPlannedStep(s)}</span>
                    {s.email ? (
                      <details>
                        <summary>The email</summary>
                        <pre className="preview">{s.email.text}</pre>
                      </details>
                    ) : null}
                  </li>
                ))}
              </ol>
            </>
          ) : (
            <p>No steps would run.</p>
          )}
          {out.cancelled_by.length > 0 ? <p>The run would stop if the quote became {out.cancelled_by.join(" or ")}.</p> : null}
        </div>
      ) : null}
    </section>
  );
}
