// The arithmetic behind LineChart, kept apart from React so that it can be
// tested on its own. Every function here is linear in buckets × series:
// the chart's cost never depends on how many messages were counted.

/** One line of a chart: a name (the legend) and one value per bucket. */
export interface ChartSeries {
  name: string;
  values: number[];
}

/**
 * niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so that
 * the axis reads 0, 25, 50 rather than 0, 23.3, 46.7. Zero stays 1: an empty
 * chart still has an axis.
 */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** The y-axis ticks from 0 to top, four intervals. */
export function ticks(top: number): number[] {
  return [0, 1, 2, 3, 4].map((i) => (top * i) / 4);
}

/**
 * linePath is the SVG path of values in a box of width × height, x spread
 * evenly over the buckets, y from 0 (bottom) to top. One bucket draws a
 * short level line so that it is still visible.
 */
export function linePath(values: number[], top: number, width: number, height: number): string {
  const n = values.length;
  if (n === 0) return "";
  const y = (v: number) => (height - (Math.min(v, top) / top) * height).toFixed(1);
  if (n === 1) return `M0 ${y(values[0]!)}H${width}`;
  const step = width / (n - 1);
  let d = "";
  for (let i = 0; i < n; i++) d += `${i === 0 ? "M" : "L"}${(i * step).toFixed(1)} ${y(values[i]!)}`;
  return d;
}

/** The total of each series, and of all. */
export function totals(series: ChartSeries[]): { each: number[]; all: number } {
  const each = series.map((s) => s.values.reduce((a, b) => a + b, 0));
  return { each, all: each.reduce((a, b) => a + b, 0) };
}

/** The largest value of any series in any bucket, and where. */
export function peak(series: ChartSeries[]): { value: number; bucket: number; series: number } {
  let best = { value: 0, bucket: -1, series: -1 };
  series.forEach((s, si) =>
    s.values.forEach((v, bi) => {
      if (v > best.value) best = { value: v, bucket: bi, series: si };
    }),
  );
  return best;
}

/**
 * summarize is the chart's text alternative: what it counts, over which
 * buckets, each series' total and the peak. A screen reader hears this; the
 * data table beside the chart has every figure.
 */
export function summarize(title: string, labels: string[], series: ChartSeries[]): string {
  if (labels.length === 0) return `${title}: no buckets in this window.`;
  const { each, all } = totals(series);
  const span = `${labels.length} buckets from ${labels[0]} to ${labels[labels.length - 1]}`;
  if (all === 0) return `${title}: none in ${span}.`;
  const parts = series.map((s, i) => `${s.name} ${each[i]}`).join(", ");
  const p = peak(series);
  return `${title}: ${all} in ${span}. By series: ${parts}. Highest: ${p.value} (${series[p.series]!.name}) at ${labels[p.bucket]}.`;
}

/** The indexes of at most n evenly spaced labels for the x axis, first and last included. */
export function labelIndexes(count: number, n: number): number[] {
  if (count <= 0) return [];
  if (count <= n) return Array.from({ length: count }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round((i * (count - 1)) / (n - 1)));
  return out;
}
