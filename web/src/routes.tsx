import type { ComponentType } from "react";
import { AlertsScreen } from "./screens/alerts";
import { LeadScreen, LeadsScreen } from "./screens/leads";
import { MigrationScreen } from "./screens/migration";
import { MessageScreen, OutboxScreen } from "./screens/outbox";
import { RuleEditorScreen, RulesScreen } from "./screens/rules";
import { SettingsScreen } from "./screens/settings";
import { WorkflowEditorScreen, WorkflowVersionsScreen, WorkflowsScreen } from "./screens/workflows";

// The route table: one entry per screen, in navigation order. A screen
// lives in src/screens/<name>/ and exports one component taking
// ScreenProps (docs/WEB.md, "Adding a screen").

/** What the shell passes every screen. */
export interface ScreenProps {
  /** The :name segments of the matched pattern, e.g. {id} for "/workflows/:id". */
  params: Record<string, string>;
  /** The query after the path inside the hash (#/leads?q=ana). */
  query: URLSearchParams;
}

export interface RouteDef {
  /** The hash path pattern: "/workflows" or "/workflows/:id". */
  path: string;
  /** The navigation label and default page title. */
  title: string;
  /** Listed in the main navigation (the first of a screen's patterns only). */
  nav: boolean;
  screen: ComponentType<ScreenProps>;
}

export const routes: RouteDef[] = [
  { path: "/workflows", title: "Workflows", nav: true, screen: WorkflowsScreen },
  { path: "/workflows/:id", title: "Workflow", nav: false, screen: WorkflowEditorScreen },
  { path: "/workflows/:id/versions", title: "Workflow versions", nav: false, screen: WorkflowVersionsScreen },
  { path: "/rules", title: "Rules", nav: true, screen: RulesScreen },
  { path: "/rules/:id", title: "Rule", nav: false, screen: RuleEditorScreen },
  { path: "/leads", title: "Leads", nav: true, screen: LeadsScreen },
  { path: "/leads/:id", title: "Lead", nav: false, screen: LeadScreen },
  { path: "/outbox", title: "Outbox", nav: true, screen: OutboxScreen },
  { path: "/outbox/messages/:id", title: "Message", nav: false, screen: MessageScreen },
  { path: "/alerts", title: "Alerts", nav: true, screen: AlertsScreen },
  { path: "/migration", title: "Migration", nav: true, screen: MigrationScreen },
  { path: "/settings", title: "Settings", nav: true, screen: SettingsScreen },
];

/** Where "/" and a fresh sign-in go. */
export const homePath = "/workflows";

/** matchRoute finds the route of path and the values of its :params. */
export function matchRoute(path: string, table: RouteDef[] = routes): { route: RouteDef; params: Record<string, string> } | null {
  const segs = path.split("/").filter(Boolean);
  for (const route of table) {
    const pat = route.path.split("/").filter(Boolean);
    if (pat.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length; i++) {
      const p = pat[i]!;
      const s = segs[i]!;
      if (p.startsWith(":")) params[p.slice(1)] = decodeURIComponent(s);
      else if (p !== s) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return null;
}

/** The nav entry a path belongs to: /workflows/abc is under Workflows. */
export function navFor(path: string): RouteDef | undefined {
  return routes.find((r) => r.nav && (path === r.path || path.startsWith(r.path + "/")));
}
