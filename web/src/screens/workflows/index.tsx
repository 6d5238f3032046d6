import { useCallback, useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Form, Page, ProblemBanner, Table } from "../../components";
import { href, navigate } from "../../router";
import type { ScreenProps } from "../../routes";
import { NameAndTrigger } from "./NameAndTrigger";
import type { Trigger } from "./triggers";

export { WorkflowEditorScreen } from "./editor";
export { WorkflowVersionsScreen } from "./versions";

type Workflow = components["schemas"]["WorkflowOut"];

/** WorkflowsScreen lists the tenant's workflows and creates new ones. */
export function WorkflowsScreen(_props: ScreenProps) {
  const [items, setItems] = useState<Workflow[] | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [name, setName] = useState("");
  const [trigger, setTrigger] = useState<Trigger>("quote.sent");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setLoadProblem(null);
    try {
      const all: Workflow[] = [];
      let cursor: string | undefined;
      do {
        const { data } = await unwrap(api.GET("/v1/workflows", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }));
        all.push(...data.items);
        cursor = data.next_cursor;
      } while (cursor);
      setItems(all);
    } catch (err) {
      setLoadProblem(problemOf(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = () => {
    setBusy(true);
    setProblem(null);
    unwrap(api.POST("/v1/workflows", { body: { name, trigger, enabled: true, steps: [] } }))
      .then(({ data }) => navigate(`/workflows/${encodeURIComponent(data.id)}`))
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };

  return (
    <Page title="Workflows">
      <Form label="New workflow" problem={problem} onSubmit={create}>
        <h2>New workflow</h2>
        <NameAndTrigger name={name} trigger={trigger} onName={setName} onTrigger={setTrigger} />
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Create workflow
          </Button>
        </div>
      </Form>
      {loadProblem ? (
        <>
          <ProblemBanner problem={loadProblem} />
          <Button onClick={() => void load()}>Try again</Button>
        </>
      ) : items === null ? (
        <p role="status">Loading workflows…</p>
      ) : (
        <Table
          caption="Workflows"
          rows={items}
          rowKey={(w) => w.id}
          empty="No workflows yet: create the first one above."
          columns={[
            { header: "Name", cell: (w) => <a href={href(`/workflows/${encodeURIComponent(w.id)}`)}>{w.name}</a> },
            { header: "Trigger", cell: (w) => <code>{w.trigger}</code> },
            { header: "Enabled", cell: (w) => (w.enabled ? "yes" : "no") },
            { header: "Steps", cell: (w) => w.steps.length, numeric: true },
            { header: "Version", cell: (w) => <a href={href(`/workflows/${encodeURIComponent(w.id)}/versions`)}>{w.version}</a>, numeric: true },
          ]}
        />
      )}
    </Page>
  );
}
