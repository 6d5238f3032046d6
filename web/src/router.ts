import { useSyncExternalStore } from "react";

// The editor routes by the URL's fragment (/#/settings), so the server
// serves one page at / and needs no fallback for client paths.

/** A parsed hash location: "#/sign-in?code=x" is path "/sign-in", query code=x. */
export interface HashLocation {
  path: string;
  query: URLSearchParams;
}

export function parseHash(hash: string): HashLocation {
  const raw = hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = raw.split("?", 2);
  return { path: path.startsWith("/") ? path : "/" + path, query: new URLSearchParams(search) };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  window.addEventListener("popstate", onChange);
  return () => {
    window.removeEventListener("hashchange", onChange);
    window.removeEventListener("popstate", onChange);
  };
}

/** The current hash, re-rendering on every change. */
export function useHashLocation(): HashLocation {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseHash(hash);
}

/** Goes to path ("/settings"), adding a history entry. */
export function navigate(path: string): void {
  window.location.hash = "#" + path;
}

/**
 * Replaces the current address without a history entry and without
 * reloading: used to take a one-time sign-in code out of the address bar.
 */
export function replaceHash(path: string): void {
  window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search + "#" + path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** The href of a client route, for <a> elements. */
export function href(path: string): string {
  return "#" + path;
}
