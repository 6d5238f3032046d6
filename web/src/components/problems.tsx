import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { ApiProblem } from "../api/client";

// A form's problem and the field paths its <Field>s claim, so that the
// banner can show every problem no field shows: nothing the API says is
// ever hidden.

interface ProblemScope {
  problem: ApiProblem | null;
  claim: (path: string, nested: boolean) => () => void;
  claimed: Array<{ path: string; nested: boolean }>;
}

const ProblemContext = createContext<ProblemScope | null>(null);

export function ProblemProvider({ problem, children }: { problem: ApiProblem | null; children: ReactNode }) {
  const claims = useRef(new Map<number, { path: string; nested: boolean }>());
  const next = useRef(0);
  const [claimed, setClaimed] = useState<Array<{ path: string; nested: boolean }>>([]);
  const claim = useCallback((path: string, nested: boolean) => {
    const id = next.current++;
    claims.current.set(id, { path, nested });
    setClaimed([...claims.current.values()]);
    return () => {
      claims.current.delete(id);
      setClaimed([...claims.current.values()]);
    };
  }, []);
  const value = useMemo(() => ({ problem, claim, claimed }), [problem, claim, claimed]);
  return <ProblemContext.Provider value={value}>{children}</ProblemContext.Provider>;
}

export function useProblemScope(): ProblemScope | null {
  return useContext(ProblemContext);
}

/** Registers path as shown by the calling field while it is mounted. */
export function useClaim(path: string, nested: boolean): void {
  const scope = useContext(ProblemContext);
  const claim = scope?.claim;
  useEffect(() => (claim ? claim(path, nested) : undefined), [claim, path, nested]);
}

export function isClaimed(location: string, claimed: Array<{ path: string; nested: boolean }>): boolean {
  return claimed.some(
    (c) => c.path === location || (c.nested && (location.startsWith(c.path + ".") || location.startsWith(c.path + "["))),
  );
}
