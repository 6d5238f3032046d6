import { useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import { Button, ProblemBanner } from "../../components";
import { formatTime, type Names } from "./explain";

/** The time within the day the heading names, to the second: several things often happen in one minute. */
function timeOfDay(iso: string): string {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
import { groupByDay, timelineEntries, type Timeline } from "./timeline";

const kindLabel: Record<string, string> = {
  event: "Event",
  run: "Run",
  step: "Step",
  message: "Message",
  attempt: "Attempt",
  receipt: "Receipt",
  alert: "Alert",
  reply: "Reply",
  consent: "Consent",
};

/** TimelineView shows everything that happened to the lead, oldest first, by day. */
export function TimelineView({ leadId, names, quoteNumbers, reload }: { leadId: string; names: Names; quoteNumbers: Map<string, string>; reload: number }) {
  const [t, setT] = useState<Timeline | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [again, setAgain] = useState(0);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setBusy(true);
    unwrap(api.GET("/v1/leads/{lead_id}/timeline", { params: { path: { lead_id: leadId } } }))
      .then(({ data }) => {
        if (!live) return;
        setT(data);
        setProblem(null);
      })
      .catch((err: unknown) => live && setProblem(problemOf(err)))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [leadId, reload, again]);

  const days = t ? groupByDay(timelineEntries(t, names, quoteNumbers)) : [];
  return (
    <section aria-labelledby="timeline-title" className="lead-section">
      <h2 id="timeline-title">Timeline</h2>
      <div className="form__actions">
        <Button onClick={() => setAgain((n) => n + 1)} busy={busy}>
          Refresh timeline
        </Button>
      </div>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {t && days.length === 0 ? <p>Nothing has happened to this lead yet.</p> : null}
      {days.map((d) => (
        <section key={d.day} aria-label={d.day}>
          <h3>{d.day}</h3>
          <ol className="timeline">
            {d.entries.map((e) => (
              <li key={e.key} className={`timeline__entry timeline__entry--${e.kind}`}>
                <time dateTime={e.at} title={formatTime(e.at)}>
                  {timeOfDay(e.at)}
                </time> <span className="timeline__kind">{kindLabel[e.kind]}</span>{" "}
                <span className="timeline__title">{e.title}</span>
                {e.detail ? <p className="timeline__detail">{e.detail}</p> : null}
              </li>
            ))}
          </ol>
        </section>
      ))}
      {t?.truncated ? <p>Older history exists beyond what the timeline shows.</p> : null}
    </section>
  );
}
