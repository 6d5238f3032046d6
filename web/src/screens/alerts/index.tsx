import { useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components, operations } from "../../api/schema";
import { Button, Field, Form, Page, Table } from "../../components";
import type { ScreenProps } from "../../routes";
import { href } from "../../router";
import { when } from "../outbox/list";
import "../outbox/outbox.css";

type Alert = components["schemas"]["AlertOut"];
type AlertQuery = NonNullable<operations["list-alerts"]["parameters"]["query"]>;

const kinds: Array<{ value: NonNullable<AlertQuery["kind"]>; label: string }> = [
  { value: "circuit_open", label: "Provider circuit open" },
  { value: "message_failed", label: "Message failed" },
  { value: "decision_spike", label: "Decision spike" },
  { value: "dead_rule", label: "Rule matching nothing" },
  { value: "delivery_lag", label: "Delivery lag" },
  { value: "provider_failing", label: "Provider failing (retries held back)" },
  { value: "rule_field_missing", label: "Rule losing matches to a missing field" },
];

interface Filters {
  state: "" | "open" | "resolved";
  kind: string;
}

/** AlertsScreen lists the tenant's alerts with what each is about and what to do. */
export function AlertsScreen(_props: ScreenProps) {
  const [form, setForm] = useState<Filters>({ state: "open", kind: "" });
  const [filters, setFilters] = useState<Filters>(form);
  const [items, setItems] = useState<Alert[] | null>(null);
  const [next, setNext] = useState<string | undefined>();
  const [cursor, setCursor] = useState<string | undefined>();
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let live = true;
    const query: AlertQuery = { limit: 50 };
    if (filters.state) query.state = filters.state;
    if (filters.kind) query.kind = filters.kind as AlertQuery["kind"];
    if (cursor) query.cursor = cursor;
    setLoading(true);
    unwrap(api.GET("/v1/alerts", { params: { query } }))
      .then(({ data }) => {
        if (!live) return;
        setProblem(null);
        // The list is oldest first; "More" appends the next page.
        setItems((prev) => (cursor && prev ? [...prev, ...data.items] : data.items));
        setNext(data.next_cursor || undefined);
      })
      .catch((e) => live && setProblem(problemOf(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  return (
    <Page title="Alerts">
      <Form
        label="Alert filters"
        problem={problem}
        onSubmit={() => {
          setCursor(undefined);
          setFilters(form);
        }}
      >
        <div className="row">
          <Field label="State" path="query.state">
            {(p) => (
              <select {...p} value={form.state} onChange={(e) => setForm({ ...form, state: e.target.value as Filters["state"] })}>
                <option value="open">Open</option>
                <option value="resolved">Resolved</option>
                <option value="">Any</option>
              </select>
            )}
          </Field>
          <Field label="Kind" path="query.kind">
            {(p) => (
              <select {...p} value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
                <option value="">Any</option>
                {kinds.map((k) => (
                  <option key={k.value} value={k.value}>
                    {k.label}
                  </option>
                ))}
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
      {items ? (
        <>
          <Table
            caption={`Alerts, oldest first (${items.length}${next ? "+" : ""})`}
            rows={items}
            rowKey={(a) => a.id}
            empty={filters.state === "open" ? "No open alert: nothing needs attention." : "No alert matches these filters."}
            columns={[
              { header: "State", cell: (a) => (
                  <>
                    <span className={`status status--${a.state}`}>{a.state}</span>
                    {a.resolved_at ? ` ${when(a.resolved_at)}` : ""}
                  </>
                ),
              },
              { header: "Kind", cell: (a) => kinds.find((k) => k.value === a.kind)?.label ?? a.kind },
              { header: "Subject", cell: (a) => subject(a) },
              { header: "What happened", cell: (a) => a.summary },
              { header: "First seen", cell: (a) => when(a.first_seen) },
              { header: "Last seen", cell: (a) => when(a.last_seen) },
              { header: "What to do", cell: (a) => a.action },
            ]}
          />
          {next ? (
            <div className="pager">
              <Button disabled={loading} onClick={() => setCursor(next)}>
                More alerts
              </Button>
            </div>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}

/** The subject, linked to its message when it is one. */
function subject(a: Alert) {
  if (a.message_id) return <a href={href(`/outbox/messages/${a.message_id}`)}>message {a.message_id.slice(-8)}</a>;
  if (a.trigger && a.subject !== a.trigger) return `${a.trigger}: ${a.subject}`;
  return a.subject || a.provider || a.trigger || "—";
}
