import { useCallback, useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Button, Notice, Page, ProblemBanner } from "../../components";
import { Sortable, moved, summary } from "../../components/condition";
import { href } from "../../router";
import type { ScreenProps } from "../../routes";
import { missingFieldsByRule, warningsByRule, type MissingField, type RuleWarning } from "./coverage";
import "./rules.css";

export { RuleEditorScreen } from "./editor";

type Rule = components["schemas"]["RuleOut"];
type Workflow = components["schemas"]["WorkflowOut"];
type Coverage = components["schemas"]["CoverageReport"];

/** Every workflow of the tenant, for naming them and picking one. */
export async function allWorkflows(): Promise<Workflow[]> {
  const all: Workflow[] = [];
  let cursor: string | undefined;
  do {
    const { data } = await unwrap(api.GET("/v1/workflows", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }));
    all.push(...data.items);
    cursor = data.next_cursor;
  } while (cursor);
  return all;
}

/** RulesScreen lists the assignment rules in the order they are tried, with their coverage warnings; they reorder by drag or by arrows. */
export function RulesScreen(_props: ScreenProps) {
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [coverage, setCoverage] = useState<Coverage | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState("");

  const loadCoverage = useCallback(() => {
    unwrap(api.GET("/v1/coverage"))
      .then(({ data }) => setCoverage(data))
      .catch(() => setCoverage(null));
  }, []);
  const load = useCallback(() => {
    setProblem(null);
    unwrap(api.GET("/v1/assignment-rules"))
      .then(({ data }) => setRules(data.items ?? []))
      .catch((err: unknown) => setProblem(problemOf(err)));
    allWorkflows()
      .then(setWorkflows)
      .catch(() => setWorkflows([]));
    loadCoverage();
  }, [loadCoverage]);
  useEffect(load, [load]);

  const reorder = (from: number, to: number) => {
    if (!rules) return;
    const ids = moved(rules, from, to).map((r) => r.id);
    setBusy(true);
    setProblem(null);
    unwrap(api.POST("/v1/assignment-rules/reorder", { body: { rule_ids: ids } }))
      .then(({ data }) => {
        setRules(data.items ?? []);
        setNotice(`Rule moved to position ${to + 1}.`);
        loadCoverage();
      })
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };
  const remove = (r: Rule) => {
    setBusy(true);
    setProblem(null);
    unwrap(api.DELETE("/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: r.id } } }))
      .then(() => {
        setRules((rs) => (rs ?? []).filter((x) => x.id !== r.id));
        setNotice(`Rule “${r.name}” deleted.`);
        loadCoverage();
      })
      .catch((err: unknown) => setProblem(problemOf(err)))
      .finally(() => setBusy(false));
  };

  const byRule = warningsByRule(coverage);
  const missingByRule = missingFieldsByRule(coverage);
  const others = byRule.get("") ?? [];
  const wfName = (id: string) => workflows.find((w) => w.id === id)?.name ?? id;

  return (
    <Page title="Rules" actions={<a href={href("/rules/new")}>New rule</a>}>
      <p>Rules are tried top to bottom for each quote event; the first that matches picks the workflow. Drag a rule by its handle, or use its arrows, to change the order.</p>
      <Notice>{notice}</Notice>
      <ProblemBanner problem={problem} />
      {coverage ? <CoverageSummary coverage={coverage} /> : null}
      {rules === null ? (
        problem ? null : <p role="status">Loading rules…</p>
      ) : rules.length === 0 ? (
        <p>No rules yet. Without rules no workflow is chosen: <a href={href("/rules/new")}>add the first</a>.</p>
      ) : (
        <Sortable
          label="Rules in priority order"
          items={rules}
          itemKey={(r) => r.id}
          itemName={(r) => `rule ${r.name}`}
          onMove={reorder}
          disabled={busy}
          render={(r, i) => (
            <div className="rule" data-rule-id={r.id}>
              <h2 className="rule__name">
                {i + 1}. <a href={href(`/rules/${encodeURIComponent(r.id)}`)}>{r.name}</a>
                {r.enabled ? null : <span className="rule__off"> (disabled)</span>}
              </h2>
              <p className="rule__what">
                On <code>{r.trigger === "*" ? "every trigger" : r.trigger}</code>, when {summary(r.condition)}: run <strong>{wfName(r.workflow_id)}</strong>
              </p>
              <Warnings items={byRule.get(r.id) ?? []} label={`Coverage warnings for rule ${r.name}`} />
              <MissingFields items={missingByRule.get(r.id) ?? []} label={`Fields rule ${r.name} reads that leads lacked`} />
              <Button variant="danger" onClick={() => remove(r)} disabled={busy}>
                Delete rule {r.name}
              </Button>
            </div>
          )}
        />
      )}
      {others.length > 0 ? (
        <section aria-labelledby="other-warnings">
          <h2 id="other-warnings">Other coverage warnings</h2>
          <Warnings items={others} label="Other coverage warnings" />
        </section>
      ) : null}
    </Page>
  );
}

function MissingFields({ items, label }: { items: MissingField[]; label: string }) {
  if (items.length === 0) return null;
  return (
    <ul className="rule__warnings" aria-label={label}>
      {items.map((f) => (
        <li key={f.field} data-missing-field={f.field}>
          <strong>Missing context</strong>: <code>{f.field}</code> was missing in {f.missing} of {f.events} events of the last 30 days ({f.percent} %), so
          the rule could not match those leads.
        </li>
      ))}
    </ul>
  );
}

function Warnings({ items, label }: { items: RuleWarning[]; label: string }) {
  if (items.length === 0) return null;
  return (
    <ul className="rule__warnings" aria-label={label}>
      {items.map((w, i) => (
        <li key={i} data-warning-code={w.code}>
          <strong>Warning</strong> ({w.triggers.join(", ")}): {w.message}
        </li>
      ))}
    </ul>
  );
}

function CoverageSummary({ coverage }: { coverage: Coverage }) {
  const uncovered = coverage.triggers.filter((t) => !t.enabled_path).map((t) => t.trigger);
  if (uncovered.length === 0) return null;
  return (
    <p className="banner banner--info">
      No enabled path for: {uncovered.map((t) => <code key={t}>{t} </code>)} (mode {coverage.mode}).
    </p>
  );
}
