import { useEffect, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import type { components } from "../../api/schema";
import { Page, ProblemBanner } from "../../components";
import { href } from "../../router";
import type { ScreenProps } from "../../routes";
import { diffWorkflows, type Change } from "./diff";
import "./workflows.css";

type Workflow = components["schemas"]["WorkflowOut"];

const kindWords: Record<Change["kind"], string> = { changed: "Changed", added: "Added", removed: "Removed", moved: "Moved" };

/** WorkflowVersionsScreen lists a workflow's versions and shows what changed between any two. */
export function WorkflowVersionsScreen({ params }: ScreenProps) {
  const id = params.id ?? "";
  const [versions, setVersions] = useState<Workflow[] | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);

  useEffect(() => {
    (async () => {
      const all: Workflow[] = [];
      let cursor: string | undefined;
      do {
        const { data } = await unwrap(
          api.GET("/v1/workflows/{workflow_id}/versions", { params: { path: { workflow_id: id }, query: { limit: 200, ...(cursor ? { cursor } : {}) } } }),
        );
        all.push(...data.items);
        cursor = data.next_cursor;
      } while (cursor);
      setVersions(all);
      const newest = all[0]?.version ?? 0;
      setTo(newest);
      setFrom(all[1]?.version ?? newest);
    })().catch((err: unknown) => setProblem(problemOf(err)));
  }, [id]);

  const title = versions?.[0] ? `Versions of ${versions[0].name}` : "Workflow versions";
  if (problem)
    return (
      <Page title={title}>
        <ProblemBanner problem={problem} />
      </Page>
    );
  if (!versions)
    return (
      <Page title={title}>
        <p role="status">Loading the versions…</p>
      </Page>
    );
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  const changes = a && b ? diffWorkflows(a, b) : [];
  const pick = (label: string, value: number, set: (v: number) => void, htmlId: string) => (
    <div className="field">
      <label className="field__label" htmlFor={htmlId}>
        {label}
      </label>
      <select id={htmlId} value={value} onChange={(e) => set(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            version {v.version}, {new Date(v.updated_at).toLocaleString()}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <Page title={title} actions={<a href={href(`/workflows/${encodeURIComponent(id)}`)}>Back to the editor</a>}>
      <p>
        {versions.length} version{versions.length === 1 ? "" : "s"}, newest first. Every edit makes a new version; runs keep the version they
        started with.
      </p>
      <div className="row">
        {pick("From version", from, setFrom, "diff-from")}
        {pick("To version", to, setTo, "diff-to")}
      </div>
      <section aria-labelledby="diff-title">
        <h2 id="diff-title">
          Changes from version {from} to version {to}
        </h2>
        {changes.length === 0 ? (
          <p>No differences.</p>
        ) : (
          <ul className="wf-diff" aria-label="Differences">
            {changes.map((c, i) => (
              <li key={i}>
                <span className="wf-diff__kind">{kindWords[c.kind]}</span> {c.what}
                {c.before !== undefined ? (
                  <pre>
                    {c.after !== undefined ? "from " : "was "}
                    <del>{c.before}</del>
                  </pre>
                ) : null}
                {c.after !== undefined ? (
                  <pre>
                    {c.before !== undefined ? "to " : "with "}
                    <ins>{c.after}</ins>
                  </pre>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
