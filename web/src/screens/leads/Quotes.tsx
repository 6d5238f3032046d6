import { useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Field, Form, ProblemBanner, Table } from "../../components";
import { DecisionView } from "./DecisionView";
import { formatTime, type Names } from "./explain";
import { localToISO } from "./Overrides";

type Schemas = components["schemas"];
export type Quote = Schemas["QuoteOut"];
type ActionOut = Schemas["ActionOut"];
type Action = "send" | "view" | "accept" | "reject" | "expire";

const actions: Array<{ action: Action; label: string; done: string }> = [
  { action: "send", label: "Send", done: "sent" },
  { action: "view", label: "Mark viewed", done: "marked viewed" },
  { action: "accept", label: "Accept", done: "accepted" },
  { action: "reject", label: "Reject", done: "rejected" },
  { action: "expire", label: "Expire", done: "expired" },
];

/** The amount with its currency, as the browser writes money. */
export function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

interface Props {
  leadId: string;
  quotes: Quote[];
  names: Names;
  onChanged: (message: string) => void;
}

/** Quotes lists the lead's quotes, creates one, and acts on them, showing each answer's event and decision. */
export function Quotes({ leadId, quotes, names, onChanged }: Props) {
  const [number, setNumber] = useState("");
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [validUntil, setValidUntil] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [rejecting, setRejecting] = useState<string | null>(null);
  const [rejectReason, setRejectReason] = useState("");
  const [actionProblem, setActionProblem] = useState<ApiProblem | null>(null);
  const [rejectProblem, setRejectProblem] = useState<ApiProblem | null>(null);
  const [last, setLast] = useState<{ out: ActionOut; done: string } | null>(null);
  const [acting, setActing] = useState("");

  const create = () => {
    const a = amount.trim() === "" ? NaN : Number(amount);
    if (Number.isNaN(a)) {
      setProblem({ status: 422, type: "local", title: "Not sent", detail: "Some values need attention.", fields: [{ location: "body.amount", message: "must be a number, e.g. 1250.50" }] });
      return;
    }
    const at = localToISO(validUntil);
    setBusy(true);
    setProblem(null);
    unwrap(api.POST("/v1/quotes", { body: { lead_id: leadId, number: number.trim(), amount: a, currency: currency.trim(), ...(at ? { valid_until: at } : {}) } }))
      .then(({ data }) => {
        setNumber("");
        setAmount("");
        setValidUntil("");
        onChanged(`Quote ${data.number} created.`);
      })
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };

  const act = (q: Quote, action: Action, reason?: string) => {
    const done = actions.find((x) => x.action === action)!.done;
    const path = { params: { path: { quote_id: q.id } } };
    setActionProblem(null);
    setRejectProblem(null);
    setActing(`${q.id}/${action}`);
    let call;
    switch (action) {
      case "send":
        call = api.POST("/v1/quotes/{quote_id}/send", path);
        break;
      case "view":
        call = api.POST("/v1/quotes/{quote_id}/view", path);
        break;
      case "accept":
        call = api.POST("/v1/quotes/{quote_id}/accept", path);
        break;
      case "reject":
        call = api.POST("/v1/quotes/{quote_id}/reject", { ...path, body: reason ? { reason } : {} });
        break;
      case "expire":
        call = api.POST("/v1/quotes/{quote_id}/expire", path);
        break;
    }
    unwrap(call)
      .then(({ data }) => {
        setLast({ out: data, done });
        setRejecting(null);
        setRejectReason("");
        onChanged(`Quote ${q.number} ${done}.`);
      })
      .catch((err: unknown) => (action === "reject" ? setRejectProblem(problemOf(err)) : setActionProblem(problemOf(err))))
      .finally(() => setActing(""));
  };

  return (
    <section aria-labelledby="quotes-title" className="lead-section">
      <h2 id="quotes-title">Quotes</h2>
      {actionProblem ? <ProblemBanner problem={actionProblem} /> : null}
      <Table
        caption="This lead's quotes"
        rows={quotes}
        rowKey={(q) => q.id}
        empty="No quotes yet: create one below."
        columns={[
          { header: "Number", cell: (q) => q.number },
          { header: "Amount", cell: (q) => money(q.amount, q.currency), numeric: true },
          { header: "Status", cell: (q) => q.status + (q.rejection_reason ? ` (${q.rejection_reason})` : "") },
          { header: "Valid until", cell: (q) => formatTime(q.valid_until) || "No end" },
          {
            header: "Actions",
            cell: (q) => (
              <div className="actions">
                {actions.map((x) => (
                  <Button
                    key={x.action}
                    busy={acting === `${q.id}/${x.action}`}
                    aria-label={`${x.label} quote ${q.number}`}
                    onClick={() => (x.action === "reject" ? setRejecting(q.id) : act(q, x.action))}
                  >
                    {x.label}
                  </Button>
                ))}
              </div>
            ),
          },
        ]}
      />
      {rejecting ? (
        <Form label="Reject the quote" problem={rejectProblem} onSubmit={() => act(quotes.find((q) => q.id === rejecting)!, "reject", rejectReason.trim())}>
          <Field label={`Why was quote ${quotes.find((q) => q.id === rejecting)?.number ?? ""} rejected?`} path="body.reason" hint="Optional">
            {(p) => <input {...p} value={rejectReason} onChange={(e) => setRejectReason(e.target.value)} />}
          </Field>
          <div className="form__actions">
            <Button type="submit" variant="danger">
              Reject quote
            </Button>
            <Button onClick={() => setRejecting(null)}>Cancel</Button>
          </div>
        </Form>
      ) : null}
      {last ? (
        <div className="banner banner--info" aria-labelledby="last-action">
          <h3 id="last-action">
            Quote {last.out.quote.number} {last.done}: event {last.out.event.trigger}
            {last.out.event.duplicate ? " (a duplicate: nothing ran)" : ""}
          </h3>
          <p>
            Recorded {formatTime(last.out.event.created_at)}; the quote is now {last.out.quote.status}.
          </p>
          <DecisionView decision={last.out.event.decision} trigger={last.out.event.trigger} names={names} />
        </div>
      ) : null}
      <h3>New quote</h3>
      <Form label="New quote" problem={problem} onSubmit={create}>
        <div className="row">
          <Field label="Number" path="body.number" hint="e.g. Q-1001">
            {(p) => <input {...p} value={number} onChange={(e) => setNumber(e.target.value)} />}
          </Field>
          <Field label="Amount" path="body.amount">
            {(p) => <input {...p} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />}
          </Field>
          <Field label="Currency" path="body.currency" hint="ISO 4217, e.g. EUR">
            {(p) => <input {...p} value={currency} onChange={(e) => setCurrency(e.target.value)} />}
          </Field>
          <Field label="Valid until" path="body.valid_until" hint="In your time zone; empty: no end">
            {(p) => <input {...p} type="datetime-local" value={validUntil} onChange={(e) => setValidUntil(e.target.value)} />}
          </Field>
        </div>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Create quote
          </Button>
        </div>
      </Form>
    </section>
  );
}
