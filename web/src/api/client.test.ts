import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { problemsAt, toProblem, type ApiProblem } from "./client";

const validation = {
  type: "urn:quoteflow:problem:validation",
  title: "Unprocessable Entity",
  status: 422,
  detail: "validation failed: body.timezone must be an IANA timezone",
  errors: [
    { location: "body.timezone", message: "must be an IANA timezone", value: "Mars/Base" },
    { location: "body.steps[0].email.text", message: "unknown variable lead.nmae", line: 2, column: 7 },
    { location: "body.quiet_hours.start", message: "must match HH:MM" },
  ],
};

describe("toProblem", () => {
  test("keeps the type, status, detail and every field entry of an RFC 9457 problem", () => {
    const p = toProblem(422, validation);
    expect(p.type).toBe("urn:quoteflow:problem:validation");
    expect(p.status).toBe(422);
    expect(p.detail).toBe(validation.detail);
    expect(p.fields).toEqual([
      { location: "body.timezone", message: "must be an IANA timezone", value: "Mars/Base" },
      { location: "body.steps[0].email.text", message: "unknown variable lead.nmae", line: 2, column: 7 },
      { location: "body.quiet_hours.start", message: "must match HH:MM" },
    ]);
  });

  test("an answer that is not a problem document still gives a problem from its status", () => {
    const p = toProblem(502, "<html>Bad gateway</html>");
    expect(p).toMatchObject({ status: 502, title: "HTTP 502", detail: "HTTP 502", fields: [] });
  });

  test("no answer at all (network down) says the server could not be reached", () => {
    expect(toProblem(0, null).detail).toMatch(/could not be reached/);
  });

  test("field entries without a location or message are kept, for the form-level banner", () => {
    const p = toProblem(422, { status: 422, errors: [{ message: "something" }, { location: "body.x" }, "junk"] });
    expect(p.fields).toEqual([
      { location: "", message: "something" },
      { location: "body.x", message: "is not valid" },
    ]);
  });
});

describe("problemsAt", () => {
  const p: ApiProblem = toProblem(422, validation);
  test("takes the entries at exactly the path", () => {
    expect(problemsAt(p, "body.timezone").map((f) => f.message)).toEqual(["must be an IANA timezone"]);
    expect(problemsAt(p, "body.quiet_hours")).toEqual([]);
  });
  test("with nested, also the entries inside the path, but not a sibling sharing its prefix", () => {
    expect(problemsAt(p, "body.quiet_hours", true).map((f) => f.location)).toEqual(["body.quiet_hours.start"]);
    expect(problemsAt(p, "body.steps", true).map((f) => f.location)).toEqual(["body.steps[0].email.text"]);
    expect(problemsAt(p, "body.time", true)).toEqual([]);
  });
});

describe("the client", () => {
  const calls: Request[] = [];
  let answer: () => Response;

  beforeEach(() => {
    calls.length = 0;
    vi.stubGlobal("fetch", async (req: Request) => {
      calls.push(req);
      return answer();
    });
    vi.resetModules();
    sessionStorage.clear();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const json = (status: number, body: unknown, type = "application/json") =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });

  test("sends the tab's key as a Bearer token and gives the data with the response", async () => {
    sessionStorage.setItem("quoteflow.session", JSON.stringify({ key: "qf_abc_def" }));
    answer = () => new Response(JSON.stringify({ id: "t1", name: "Acme" }), { status: 200, headers: { "Content-Type": "application/json", ETag: '"3"' } });
    const { api, unwrap } = await import("./client");
    const { data, response } = await unwrap(api.GET("/v1/tenant"));
    expect(data).toMatchObject({ name: "Acme" });
    expect(response.headers.get("ETag")).toBe('"3"');
    expect(calls[0]!.headers.get("Authorization")).toBe("Bearer qf_abc_def");
  });

  test("a 422 problem is thrown as a ProblemError carrying each field", async () => {
    sessionStorage.setItem("quoteflow.session", JSON.stringify({ key: "qf_abc_def" }));
    answer = () => json(422, validation, "application/problem+json");
    const { api, unwrap, ProblemError } = await import("./client");
    const err = await unwrap(api.PATCH("/v1/tenant", { body: { timezone: "Mars/Base" } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect((err as InstanceType<typeof ProblemError>).problem.fields[0]).toMatchObject({ location: "body.timezone" });
  });

  test("a 401 for the tab's key tells the shell to sign out", async () => {
    sessionStorage.setItem("quoteflow.session", JSON.stringify({ key: "qf_revoked_x" }));
    answer = () => json(401, { type: "urn:quoteflow:problem:unauthorized", status: 401, detail: "invalid API key" }, "application/problem+json");
    const { api, unwrap, unauthorizedEvent } = await import("./client");
    const heard = vi.fn();
    window.addEventListener(unauthorizedEvent, heard);
    await unwrap(api.GET("/v1/tenant")).catch(() => undefined);
    window.removeEventListener(unauthorizedEvent, heard);
    expect(heard).toHaveBeenCalledOnce();
  });

  test("a failed connection is a ProblemError of status 0", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    const { api, unwrap, problemOf } = await import("./client");
    const err = await unwrap(api.GET("/v1/tenant")).catch((e: unknown) => e);
    expect(problemOf(err).status).toBe(0);
  });
});
