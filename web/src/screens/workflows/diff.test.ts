import { describe, expect, test } from "vitest";
import type { components } from "../../api/schema";
import { canonical, diffWorkflows } from "./diff";

type Workflow = components["schemas"]["WorkflowOut"];

const email = (id: string, subject: string) => ({ id, type: "send_email" as const, email: { subject, text: "Hello {{ lead.first_name }}" } });
const wait = (id: string, duration: string) => ({ id, type: "wait" as const, wait: { duration } });

function wf(over: Partial<Workflow>): Workflow {
  return {
    id: "wf_1",
    name: "Follow up",
    trigger: "quote.sent",
    enabled: true,
    exit_on: ["accepted"],
    steps: [email("s1", "Your quote"), wait("s2", "P2D"), email("s3", "Still there?")],
    version: 1,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...over,
  };
}

describe("diffWorkflows", () => {
  test("identical versions have no differences", () => {
    expect(diffWorkflows(wf({}), wf({ version: 2 }))).toEqual([]);
  });

  test("the workflow's own fields", () => {
    expect(diffWorkflows(wf({}), wf({ name: "Chase", enabled: false, exit_on: [] }))).toEqual([
      { kind: "changed", what: "name", before: "Follow up", after: "Chase" },
      { kind: "changed", what: "enabled", before: "yes", after: "no" },
      { kind: "changed", what: "exit on", before: "accepted", after: "none" },
    ]);
  });

  test("removing the first step reports it alone, not every later step as moved", () => {
    const b = wf({ steps: [wait("s2", "P2D"), email("s3", "Still there?")] });
    expect(diffWorkflows(wf({}), b)).toEqual([
      { kind: "removed", what: "step 1 (send email)", before: "email subject: Your quote; email text: Hello {{ lead.first_name }}" },
    ]);
  });

  test("a swap, an added step and a changed field", () => {
    const b = wf({ steps: [wait("s2", "P3D"), email("s1", "Your quote"), email("s3", "Still there?"), email("s4", "Last call")] });
    expect(diffWorkflows(wf({}), b)).toEqual([
      { kind: "moved", what: "step 1 (wait)", before: "position 2", after: "position 1" },
      { kind: "changed", what: "step 1 (wait): wait", before: "P2D", after: "P3D" },
      { kind: "moved", what: "step 2 (send email)", before: "position 1", after: "position 2" },
      { kind: "added", what: "step 4 (send email)", after: "email subject: Last call; email text: Hello {{ lead.first_name }}" },
    ]);
  });

  test("a when condition is compared by content, not by key order", () => {
    const a = wf({ steps: [{ ...email("s1", "x"), when: { field: "lead.country", op: "eq", value: "PT" } }] });
    const same = wf({ steps: [{ ...email("s1", "x"), when: { value: "PT", op: "eq", field: "lead.country" } as never }] });
    const other = wf({ steps: [{ ...email("s1", "x"), when: { field: "lead.country", op: "eq", value: "ES" } }] });
    expect(diffWorkflows(a, same)).toEqual([]);
    expect(diffWorkflows(a, other)).toEqual([
      { kind: "changed", what: "step 1 (send email): when", before: canonical({ field: "lead.country", op: "eq", value: "PT" }), after: canonical({ field: "lead.country", op: "eq", value: "ES" }) },
    ]);
  });
});
