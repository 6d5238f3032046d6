import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { loadSession } from "../session";

// Every call of the editor goes through this client: its types are
// generated from docs/openapi.json (npm run gen), none are written by hand.

/** One entry of a problem's errors[]: the part of the request at fault. */
export interface FieldProblem {
  /** Where: body.name, body.steps[0].email.text, query.trigger, header.If-Match. */
  location: string;
  message: string;
  value?: unknown;
  line?: number;
  column?: number;
}

/** An RFC 9457 problem as the forms use it (docs/api/errors.md). */
export interface ApiProblem {
  status: number;
  type: string;
  title: string;
  detail: string;
  fields: FieldProblem[];
}

/** Thrown by unwrap for any answer that is not a success. */
export class ProblemError extends Error {
  readonly problem: ApiProblem;
  constructor(problem: ApiProblem) {
    super(problem.detail);
    this.name = "ProblemError";
    this.problem = problem;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * toProblem turns an error answer into an ApiProblem. A body that is not a
 * problem document (a proxy's HTML page, nothing at all) still gives one,
 * from the status, so that a form always has something true to show.
 */
export function toProblem(status: number, body: unknown): ApiProblem {
  const p = isRecord(body) ? body : {};
  const fields: FieldProblem[] = [];
  if (Array.isArray(p.errors)) {
    for (const e of p.errors) {
      if (!isRecord(e)) continue;
      const location = typeof e.location === "string" ? e.location : "";
      const message = typeof e.message === "string" ? e.message : "is not valid";
      const f: FieldProblem = { location, message };
      if ("value" in e) f.value = e.value;
      if (typeof e.line === "number") f.line = e.line;
      if (typeof e.column === "number") f.column = e.column;
      fields.push(f);
    }
  }
  const title = typeof p.title === "string" ? p.title : status ? `HTTP ${status}` : "No answer";
  let detail = typeof p.detail === "string" && p.detail !== "" ? p.detail : title;
  if (status === 0) detail = "The server could not be reached. Check the connection and try again.";
  return {
    status: typeof p.status === "number" ? p.status : status,
    type: typeof p.type === "string" ? p.type : "about:blank",
    title,
    detail,
    fields,
  };
}

/** The problems of a form field at path; nested also takes those inside it (body.quiet_hours.start for body.quiet_hours). */
export function problemsAt(problem: ApiProblem | null | undefined, path: string, nested = false): FieldProblem[] {
  if (!problem) return [];
  return problem.fields.filter(
    (f) => f.location === path || (nested && (f.location.startsWith(path + ".") || f.location.startsWith(path + "["))),
  );
}

/** A field problem as a sentence, with its place inside a template when known. */
export function describe(f: FieldProblem): string {
  if (f.line !== undefined) return `${f.message} (line ${f.line}${f.column !== undefined ? `, column ${f.column}` : ""})`;
  return f.message;
}

/** Fired on window when the API refuses the key (401): the shell signs out. */
export const unauthorizedEvent = "quoteflow:unauthorized";

const auth: Middleware = {
  onRequest({ request }) {
    const s = loadSession();
    if (s && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${s.key}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && request.headers.has("Authorization")) {
      window.dispatchEvent(new CustomEvent(unauthorizedEvent));
    }
    return response;
  },
};

/** The typed client; baseUrl is this origin, as the editor is served by quoteflow itself. */
export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });
api.use(auth);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * unwrap awaits an openapi-fetch call and returns its data with the
 * response (for headers such as ETag), or throws a ProblemError.
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<{ data: T; response: Response }> {
  let r: FetchResult<T>;
  try {
    r = await call;
  } catch {
    throw new ProblemError(toProblem(0, null));
  }
  if (!r.response.ok) throw new ProblemError(toProblem(r.response.status, r.error));
  return { data: r.data as T, response: r.response };
}

/** The ApiProblem of anything a call threw. */
export function problemOf(err: unknown): ApiProblem {
  if (err instanceof ProblemError) return err.problem;
  return toProblem(0, null);
}
