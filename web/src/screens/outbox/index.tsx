import { useEffect, useRef, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import { Field, Form, Page, Table } from "../../components";
import { LineChart } from "../../components/chart/LineChart";
import type { ScreenProps } from "../../routes";
import { MessageList } from "./list";
import { bucketLabels, chartsOf, duration, windows, type Bucket, type Dimension, type Stats, type WindowValue } from "./series";
import "./outbox.css";

export { MessageScreen } from "./message";

/**
 * The performance marks of the outbox charts (docs/WEB.md, "Outbox"):
 * from the statistics answer arriving to the frame after the charts were
 * committed, measured as "outbox:chart-render". The e2e reads it.
 */
export const marks = { received: "outbox:stats-received", painted: "outbox:chart-painted", render: "outbox:chart-render" } as const;

interface Query {
  window: WindowValue;
  bucket: Bucket;
  dim: Dimension;
}

/** OutboxScreen shows sends, retries and failures over time, the latencies, and the filtered message list. */
export function OutboxScreen(_props: ScreenProps) {
  const [form, setForm] = useState<Query>({ window: "7d", bucket: "1h", dim: "trigger" });
  const [query, setQuery] = useState<Query>(form);
  const [stats, setStats] = useState<{ data: Stats; q: Query } | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [loading, setLoading] = useState(false);
  const pending = useRef(false);

  useEffect(() => {
    let live = true;
    const to = new Date();
    const from = new Date(to.getTime() - windows.find((w) => w.value === query.window)!.ms);
    setLoading(true);
    unwrap(api.GET("/v1/stats/outbox", { params: { query: { from: from.toISOString(), to: to.toISOString(), bucket: query.bucket, group_by: [query.dim, "status"] } } }))
      .then(({ data }) => {
        if (!live) return;
        performance.clearMarks(marks.received);
        performance.mark(marks.received);
        pending.current = true;
        setProblem(null);
        setStats({ data, q: query });
      })
      .catch((e) => live && setProblem(problemOf(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [query]);

  // Runs after the charts of a new answer are in the DOM; the mark is taken
  // in the task after the next animation frame, i.e. once it was painted.
  useEffect(() => {
    if (!stats || !pending.current) return;
    pending.current = false;
    const raf = requestAnimationFrame(() =>
      setTimeout(() => {
        performance.clearMarks(marks.painted);
        performance.mark(marks.painted);
        performance.clearMeasures(marks.render);
        performance.measure(marks.render, marks.received, marks.painted);
      }, 0),
    );
    return () => cancelAnimationFrame(raf);
  }, [stats]);

  const charts = stats ? chartsOf(stats.data, stats.q.dim) : null;
  const labels = stats ? bucketLabels(stats.data, stats.q.bucket) : null;
  const byName = stats?.q.dim === "channel" ? "channel" : "trigger";
  const totals = stats?.data.totals;

  return (
    <Page title="Outbox">
      <Form label="Statistics window" problem={problem} onSubmit={() => setQuery(form)}>
        <div className="row">
          <Field label="Window" path="query.from">
            {(p) => (
              <select
                {...p}
                value={form.window}
                onChange={(e) => {
                  const w = windows.find((x) => x.value === e.target.value)!;
                  setForm({ ...form, window: w.value, bucket: w.bucket });
                }}
              >
                {windows.map((w) => (
                  <option key={w.value} value={w.value}>
                    {w.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Bucket" path="query.bucket">
            {(p) => (
              <select {...p} value={form.bucket} onChange={(e) => setForm({ ...form, bucket: e.target.value as Bucket })}>
                <option value="5m">5 minutes</option>
                <option value="1h">1 hour</option>
                <option value="1d">1 day</option>
              </select>
            )}
          </Field>
          <Field label="Group by" path="query.group_by">
            {(p) => (
              <select {...p} value={form.dim} onChange={(e) => setForm({ ...form, dim: e.target.value as Dimension })}>
                <option value="trigger">Trigger</option>
                <option value="channel">Channel</option>
              </select>
            )}
          </Field>
        </div>
        <div className="form__actions">
          <button type="submit" className="btn btn--primary" disabled={loading} aria-busy={loading || undefined}>
            Show
          </button>
        </div>
      </Form>

      {stats && charts && labels && totals ? (
        <section aria-labelledby="outbox-charts" className="outbox__charts" data-testid="outbox-charts">
          <h2 id="outbox-charts">
            By {byName}, {windows.find((w) => w.value === stats.q.window)!.label.toLowerCase()} ({stats.data.timezone})
          </h2>
          <p className="outbox__totals">
            {totals.messages} messages, {totals.attempts} attempts, {totals.retries} retries, {totals.decisions} decisions.
          </p>
          <LineChart title={`Messages by ${byName}`} labels={labels.full} axisLabels={labels.axis} series={charts.sends} />
          <LineChart title={`Retries by ${byName}`} labels={labels.full} axisLabels={labels.axis} series={charts.retries} />
          <LineChart title={`Failures by ${byName}`} labels={labels.full} axisLabels={labels.axis} series={charts.failures} />
          <Table
            caption="Latencies over the window"
            rows={[
              { name: "Quote action → sent", l: totals.event_to_sent },
              { name: "Sent → delivered", l: totals.sent_to_delivered },
            ]}
            rowKey={(r) => r.name}
            columns={[
              { header: "From → to", cell: (r) => r.name },
              { header: "Messages", numeric: true, cell: (r) => r.l.count },
              { header: "p50", numeric: true, cell: (r) => duration(r.l.p50_seconds, r.l.count) },
              { header: "p95", numeric: true, cell: (r) => duration(r.l.p95_seconds, r.l.count) },
            ]}
          />
        </section>
      ) : loading ? (
        <p role="status">Loading the statistics…</p>
      ) : null}

      <MessageList />
    </Page>
  );
}
