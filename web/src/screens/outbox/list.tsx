import { memo, useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components, operations } from "../../api/schema";
import { Button, Field, Form, Table } from "../../components";
import { href } from "../../router";

type Message = components["schemas"]["MessageOut"];
type ListQuery = NonNullable<operations["list-messages"]["parameters"]["query"]>;

export const statuses = ["scheduled", "queued", "sending", "sent", "delivered", "read", "failed", "unknown", "suppressed", "cancelled", "shadow"] as const;
export const channels = ["email", "whatsapp"] as const;
export const triggers = ["quote.sent", "quote.viewed", "quote.accepted", "quote.rejected", "quote.expired"] as const;

interface Filters {
  status: string;
  channel: string;
  trigger: string;
  from: string;
  to: string;
}

const empty: Filters = { status: "", channel: "", trigger: "", from: "", to: "" };
const pageSize = 25;

/** A datetime-local value (the browser's zone) as RFC 3339, or the text as typed so that the API names it. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

export function queryOf(f: Filters, cursor: string | undefined): ListQuery {
  const q: ListQuery = { order: "newest", limit: pageSize };
  if (f.status) q.status = f.status as ListQuery["status"];
  if (f.channel) q.channel = f.channel as ListQuery["channel"];
  if (f.trigger) q.trigger = f.trigger as ListQuery["trigger"];
  const from = instant(f.from);
  const to = instant(f.to);
  if (from) q.from = from;
  if (to) q.to = to;
  if (cursor) q.cursor = cursor;
  return q;
}

export function when(t: string | undefined): string {
  if (!t) return "—";
  return new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * MessageList is the outbox's messages, newest first, filtered by status,
 * channel, trigger and creation time, a page at a time. Earlier pages are
 * kept as their cursors so that "Previous" shows the same rows again.
 */
export const MessageList = memo(function MessageList() {
  const [form, setForm] = useState<Filters>(empty);
  const [filters, setFilters] = useState<Filters>(empty);
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState<{ items: Message[]; next?: string } | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [loading, setLoading] = useState(false);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setLoading(true);
    unwrap(api.GET("/v1/messages", { params: { query: queryOf(filters, cursor) } }))
      .then(({ data }) => {
        if (!live) return;
        setProblem(null);
        setPage({ items: data.items, next: data.next_cursor || undefined });
      })
      .catch((e) => {
        if (!live) return;
        setProblem(problemOf(e));
        setPage(null);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const select = (k: keyof Filters, label: string, values: readonly string[]) => (
    <Field label={label} path={`query.${k}`}>
      {(p) => (
        <select {...p} value={form[k]} onChange={set(k)}>
          <option value="">Any</option>
          {values.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  return (
    <section aria-labelledby="outbox-messages">
      <h2 id="outbox-messages">Messages</h2>
      <Form
        label="Message filters"
        problem={problem}
        onSubmit={() => {
          setFilters(form);
          setCursors([undefined]);
        }}
      >
        <div className="row">
          {select("status", "Status", statuses)}
          {select("channel", "Channel", channels)}
          {select("trigger", "Trigger", triggers)}
          <Field label="Created from" path="query.from">
            {(p) => <input {...p} type="datetime-local" value={form.from} onChange={set("from")} />}
          </Field>
          <Field label="Created before" path="query.to">
            {(p) => <input {...p} type="datetime-local" value={form.to} onChange={set("to")} />}
          </Field>
        </div>
        <div className="form__actions">
          <button type="submit" className="btn btn--primary" disabled={loading} aria-busy={loading || undefined}>
            Filter
          </button>
          <Button
            onClick={() => {
              setForm(empty);
              setFilters(empty);
              setCursors([undefined]);
            }}
          >
            Clear
          </Button>
        </div>
      </Form>
      {page ? (
        <>
          <Table
            caption={`Messages, newest first, page ${cursors.length}`}
            rows={page.items}
            rowKey={(m) => m.id}
            empty="No message matches these filters."
            columns={[
              { header: "Created", cell: (m) => <a href={href(`/outbox/messages/${m.id}`)}>{when(m.created_at)}</a> },
              { header: "Trigger", cell: (m) => m.trigger },
              { header: "Channel", cell: (m) => m.channel },
              { header: "Status", cell: (m) => <span className={`status status--${m.status}`}>{m.status}</span> },
              { header: "To", cell: (m) => m.to || "—" },
              { header: "Content", cell: (m) => m.subject || m.template?.template || "—" },
              { header: "Attempts", numeric: true, cell: (m) => m.attempts },
            ]}
          />
          <nav className="pager" aria-label="Message pages">
            <Button disabled={cursors.length === 1 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </Button>
            <Button disabled={!page.next || loading} onClick={() => page.next && setCursors([...cursors, page.next])}>
              Next page
            </Button>
          </nav>
        </>
      ) : null}
    </section>
  );
});
