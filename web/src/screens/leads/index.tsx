import "./leads.css";
import { useCallback, useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import { Button, Notice, Page, ProblemBanner, Table } from "../../components";
import { href, navigate } from "../../router";
import type { ScreenProps } from "../../routes";
import { createBody, emptyDraft, leadName, type Lead, type LeadDraft } from "./draft";
import { formatTime } from "./explain";
import { LeadForm } from "./LeadForm";

export { LeadScreen } from "./LeadPage";

const pageSize = 50;

/** LeadsScreen lists the tenant's leads, a page at a time, and creates new ones. */
export function LeadsScreen(_props: ScreenProps) {
  const [leads, setLeads] = useState<Lead[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [creating, setCreating] = useState(false);
  const [draft, setDraft] = useState<LeadDraft>(emptyDraft);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState("");

  const loadPage = useCallback((after?: string) => {
    setLoadProblem(null);
    unwrap(api.GET("/v1/leads", { params: { query: { limit: pageSize, ...(after ? { cursor: after } : {}) } } }))
      .then(({ data }) => {
        setLeads((prev) => (after ? [...prev, ...data.items] : data.items));
        setCursor(data.next_cursor);
        setLoaded(true);
      })
      .catch((err: unknown) => setLoadProblem(problemOf(err)));
  }, []);

  useEffect(() => loadPage(), [loadPage]);

  const create = () => {
    const built = createBody(draft);
    if (built.problem) {
      setProblem(built.problem);
      return;
    }
    setBusy(true);
    setProblem(null);
    unwrap(api.POST("/v1/leads", { body: built.body }))
      .then(({ data }) => {
        setNotice(`Lead ${leadName(data)} created.`);
        setDraft(emptyDraft);
        setCreating(false);
        navigate(`/leads/${encodeURIComponent(data.id)}`);
      })
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };

  return (
    <Page
      title="Leads"
      actions={
        creating ? null : (
          <Button variant="primary" onClick={() => setCreating(true)}>
            New lead
          </Button>
        )
      }
    >
      <Notice>{notice}</Notice>
      {creating ? (
        <section aria-labelledby="new-lead">
          <h2 id="new-lead">New lead</h2>
          <LeadForm
            label="New lead"
            draft={draft}
            onChange={setDraft}
            problem={problem}
            onSubmit={create}
            submitLabel="Create lead"
            busy={busy}
            onCancel={() => {
              setCreating(false);
              setProblem(null);
            }}
          />
        </section>
      ) : null}
      {loadProblem ? (
        <>
          <ProblemBanner problem={loadProblem} />
          <Button onClick={() => loadPage()}>Try again</Button>
        </>
      ) : null}
      {loaded ? (
        <>
          <Table
            caption="Leads, in the order they were created"
            rows={leads}
            rowKey={(l) => l.id}
            empty="No leads yet. Create one with New lead, or through POST /v1/leads."
            columns={[
              { header: "Name", cell: (l) => <a href={href(`/leads/${encodeURIComponent(l.id)}`)}>{leadName(l)}</a> },
              { header: "Email", cell: (l) => l.email },
              { header: "Phone", cell: (l) => l.phone },
              { header: "Source", cell: (l) => l.source },
              { header: "Stage", cell: (l) => l.stage },
              { header: "Created", cell: (l) => formatTime(l.created_at) },
            ]}
          />
          {cursor ? <Button onClick={() => loadPage(cursor)}>Load more leads</Button> : null}
        </>
      ) : loadProblem ? null : (
        <p>Loading leads…</p>
      )}
    </Page>
  );
}
