import type { components } from "../../api/schema";
import type { ChartSeries } from "../../components/chart/LineChart";

export type Stats = components["schemas"]["OutboxStatsOut"];
export type Dimension = "trigger" | "channel";

/** The windows the screen offers, each with the bucket it starts with. */
export const windows = [
  { value: "24h", label: "Last 24 hours", ms: 24 * 3600_000, bucket: "5m" },
  { value: "7d", label: "Last 7 days", ms: 7 * 24 * 3600_000, bucket: "1h" },
  { value: "30d", label: "Last 30 days", ms: 30 * 24 * 3600_000, bucket: "1d" },
] as const;
export type WindowValue = (typeof windows)[number]["value"];
export type Bucket = "5m" | "1h" | "1d";

/** The three charts of the screen, each a set of series over the answer's buckets. */
export interface OutboxCharts {
  sends: ChartSeries[];
  retries: ChartSeries[];
  failures: ChartSeries[];
}

function add(into: Map<string, number[]>, name: string, counts: number[] | null | undefined, n: number) {
  let acc = into.get(name);
  if (!acc) {
    acc = new Array<number>(n).fill(0);
    into.set(name, acc);
  }
  if (!counts) return;
  for (let i = 0; i < n && i < counts.length; i++) acc[i]! += counts[i]!;
}

function sorted(m: Map<string, number[]>): ChartSeries[] {
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, values]) => ({ name, values }));
}

/**
 * chartsOf folds an answer asked with group_by=<dim>,status into the
 * screen's three charts by dim: every message written (sends), every
 * attempt after a message's first (retries) and the messages whose status
 * is failed (failures). One request gives all three; the work is linear in
 * series × buckets.
 */
export function chartsOf(stats: Stats, dim: Dimension): OutboxCharts {
  const n = stats.buckets?.length ?? 0;
  const sends = new Map<string, number[]>();
  const retries = new Map<string, number[]>();
  const failures = new Map<string, number[]>();
  for (const s of stats.messages ?? []) {
    const name = s.key[dim] || "(none)";
    add(sends, name, s.counts, n);
    add(failures, name, s.key.status === "failed" ? s.counts : null, n);
  }
  for (const s of stats.attempts ?? []) add(retries, s.key[dim] || "(none)", s.retry_counts, n);
  return { sends: sorted(sends), retries: sorted(retries), failures: sorted(failures) };
}

/** The bucket labels: the full start for the table, a short one for the axis. */
export function bucketLabels(stats: Stats, bucket: Bucket, locale?: string): { full: string[]; axis: string[] } {
  const tz = stats.timezone || undefined;
  const full = new Intl.DateTimeFormat(locale, { timeZone: tz, dateStyle: "medium", timeStyle: bucket === "1d" ? undefined : "short" });
  const axis = new Intl.DateTimeFormat(locale, bucket === "1d" ? { timeZone: tz, day: "numeric", month: "short" } : bucket === "1h" ? { timeZone: tz, day: "numeric", month: "short", hour: "2-digit" } : { timeZone: tz, hour: "2-digit", minute: "2-digit" });
  const b = stats.buckets ?? [];
  return { full: b.map((x) => full.format(new Date(x.start))), axis: b.map((x) => axis.format(new Date(x.start))) };
}

/** A duration in seconds as people read it: 45 s, 12 min, 3.5 h, 2.1 d. */
export function duration(seconds: number | undefined, count: number): string {
  if (!count || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
