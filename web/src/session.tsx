import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

// The admin's API key is kept for this tab only: sessionStorage, never
// localStorage (it would outlive the tab and be shared by every tab) and
// never the URL (it would land in history, logs and Referer headers).
const storageKey = "quoteflow.session";

export interface Session {
  key: string;
  tenantId?: string;
}

export function loadSession(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(storageKey);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.key === "string" && s.key !== "" ? { key: s.key, tenantId: s.tenantId } : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) window.sessionStorage.setItem(storageKey, JSON.stringify(s));
  else window.sessionStorage.removeItem(storageKey);
}

interface SessionContextValue {
  session: Session | null;
  signIn: (s: Session) => void;
  signOut: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const signIn = useCallback((s: Session) => {
    saveSession(s);
    setSession(s);
  }, []);
  const signOut = useCallback(() => {
    saveSession(null);
    setSession(null);
  }, []);
  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSession outside SessionProvider");
  return v;
}
