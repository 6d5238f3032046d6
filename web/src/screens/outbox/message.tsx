import { useCallback, useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Notice, Page, ProblemBanner, Table } from "../../components";
import type { ScreenProps } from "../../routes";
import { href } from "../../router";
import { when } from "./list";

type Detail = components["schemas"]["MessageDetailOut"];

/** MessageScreen is one message: what was sent to whom, every attempt and receipt, and retry or cancel. */
export function MessageScreen({ params }: ScreenProps) {
  const id = params.id ?? "";
  const [msg, setMsg] = useState<Detail | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState<"" | "retry" | "cancel">("");
  const [done, setDone] = useState("");

  const load = useCallback(() => {
    unwrap(api.GET("/v1/messages/{message_id}", { params: { path: { message_id: id } } }))
      .then(({ data }) => {
        setMsg(data);
        setLoadProblem(null);
      })
      .catch((e) => setLoadProblem(problemOf(e)));
  }, [id]);
  useEffect(load, [load]);

  // Retry and cancel are offered whatever the status: the API decides,
  // and its 409 says why a message cannot be retried or cancelled now.
  const act = async (what: "retry" | "cancel") => {
    setBusy(what);
    setProblem(null);
    setDone("");
    try {
      const call =
        what === "retry"
          ? api.POST("/v1/messages/{message_id}/retry", { params: { path: { message_id: id } } })
          : api.POST("/v1/messages/{message_id}/cancel", { params: { path: { message_id: id } } });
      const { data } = await unwrap(call);
      setDone(what === "retry" ? `Queued again: the message is ${data.status}.` : `Cancelled: the message is ${data.status}.`);
      load();
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy("");
    }
  };

  return (
    <Page title="Message" actions={<a href={href("/outbox")}>Back to the outbox</a>}>
      <ProblemBanner problem={loadProblem} />
      {msg ? (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd data-testid="message-status">
              <span className={`status status--${msg.status}`}>{msg.status}</span>
              {msg.reason ? ` (${msg.reason})` : ""}
            </dd>
            <dt>Trigger</dt>
            <dd>{msg.trigger}</dd>
            <dt>Channel</dt>
            <dd>
              {msg.channel}
              {msg.provider ? ` via ${msg.provider}` : ""}
            </dd>
            <dt>To</dt>
            <dd>{msg.to || "—"}</dd>
            <dt>{msg.channel === "email" ? "Subject" : "Template"}</dt>
            <dd>{msg.subject || (msg.template ? `${msg.template.template} (${msg.template.language})` : "—")}</dd>
            <dt>Created</dt>
            <dd>{when(msg.created_at)}</dd>
            <dt>Scheduled</dt>
            <dd>{when(msg.scheduled_at)}</dd>
            <dt>Sent</dt>
            <dd>{when(msg.sent_at)}</dd>
            <dt>Delivered</dt>
            <dd>{when(msg.delivered_at)}</dd>
            <dt>Read</dt>
            <dd>{when(msg.read_at)}</dd>
            {msg.last_error ? (
              <>
                <dt>Last error</dt>
                <dd>
                  {msg.last_error}
                  {msg.error_class ? ` (${msg.error_class})` : ""}
                </dd>
              </>
            ) : null}
            {msg.provider_message_id ? (
              <>
                <dt>Provider's id</dt>
                <dd className="mono">{msg.provider_message_id}</dd>
              </>
            ) : null}
          </dl>
          {msg.body ? (
            <details className="message__body">
              <summary>Body</summary>
              <pre>{msg.body}</pre>
            </details>
          ) : null}

          <div className="form__actions" role="group" aria-label="Message actions">
            <Button variant="primary" busy={busy === "retry"} onClick={() => void act("retry")}>
              Retry
            </Button>
            <Button variant="danger" busy={busy === "cancel"} onClick={() => void act("cancel")}>
              Cancel message
            </Button>
          </div>
          <ProblemBanner problem={problem} />
          <Notice>{done}</Notice>

          <Table
            caption={`Attempts (${msg.attempt_list.length})`}
            rows={msg.attempt_list}
            rowKey={(a) => String(a.number)}
            empty="No attempt yet."
            columns={[
              { header: "#", numeric: true, cell: (a) => a.number },
              { header: "Started", cell: (a) => when(a.started_at) },
              { header: "Finished", cell: (a) => when(a.finished_at) },
              { header: "Provider", cell: (a) => a.provider },
              { header: "Outcome", cell: (a) => a.outcome || "in progress" },
              { header: "Error", cell: (a) => (a.error ? `${a.error}${a.error_class ? ` (${a.error_class})` : ""}` : "—") },
              { header: "Retry at", cell: (a) => when(a.retry_at) },
            ]}
          />
          <Table
            caption={`Receipts (${msg.receipts.length})`}
            rows={msg.receipts}
            rowKey={(r) => `${r.received_at}-${r.status}`}
            empty="No receipt from the provider yet."
            columns={[
              { header: "Status", cell: (r) => r.status },
              { header: "Provider's time", cell: (r) => when(r.provider_timestamp) },
              { header: "Received", cell: (r) => when(r.received_at) },
              { header: "Error", cell: (r) => (r.error_code ? `${r.error_code}${r.error_class ? ` (${r.error_class})` : ""}` : "—") },
            ]}
          />
        </>
      ) : !loadProblem ? (
        <p role="status">Loading…</p>
      ) : null}
    </Page>
  );
}
