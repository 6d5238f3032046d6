import { useId, useState } from "react";
import "./chart.css";
import { labelIndexes, linePath, niceMax, summarize, ticks, totals, type ChartSeries } from "./geometry";

export type { ChartSeries } from "./geometry";

// Eight colours with at least 3:1 contrast on white (WCAG's figure for
// graphics), and a dash pattern per colour, so that no series is told
// apart by colour alone.
const palette = ["#0b5cad", "#b3261e", "#1e6b34", "#8a4b00", "#6a3d9a", "#00707a", "#a3005f", "#4a5560"];
const dashes = ["", "6 3", "2 3", "8 3 2 3", "", "6 3", "2 3", "8 3 2 3"];

export interface LineChartProps {
  /** The chart's heading and the start of its text alternative. */
  title: string;
  /** One label per bucket, in full (the data table and the summary use them). */
  labels: string[];
  /** One short label per bucket for the x axis; defaults to labels. */
  axisLabels?: string[];
  series: ChartSeries[];
}

const W = 640;
const H = 180;
const left = 44;
const bottom = 24;
const top = 8;
const right = 8;

/**
 * LineChart draws series over buckets as an SVG (role="img", named by a
 * summary of the figures) with a legend, and the same figures as a data
 * table under a disclosure: the table is the chart for anyone who cannot
 * see it. Its cost is buckets × series, whatever the values are.
 */
export function LineChart({ title, labels, axisLabels = labels, series }: LineChartProps) {
  const id = useId();
  // The table is built when first opened: closed, it would be most of the
  // chart's DOM (buckets × series cells) for no one to see.
  const [tableOpen, setTableOpen] = useState(false);
  const max = niceMax(Math.max(0, ...series.map((s) => Math.max(0, ...s.values))));
  const w = W - left - right;
  const h = H - top - bottom;
  const summary = summarize(title, labels, series);
  const t = totals(series);
  const xs = labelIndexes(labels.length, 6);
  const x = (i: number) => (labels.length <= 1 ? 0 : (i * w) / (labels.length - 1));
  return (
    <figure className="chart" aria-labelledby={`${id}-t`}>
      <figcaption id={`${id}-t`} className="chart__title">
        {title}
      </figcaption>
      <svg className="chart__svg" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <g transform={`translate(${left} ${top})`}>
          {ticks(max).map((v) => {
            const y = h - (v / max) * h;
            return (
              <g key={v} aria-hidden="true">
                <line className="chart__grid" x1={0} x2={w} y1={y} y2={y} />
                <text className="chart__tick" x={-6} y={y + 4} textAnchor="end">
                  {Number.isInteger(v) ? v : v.toFixed(1)}
                </text>
              </g>
            );
          })}
          {xs.map((i) => (
            <text key={i} aria-hidden="true" className="chart__tick" x={x(i)} y={h + 16} textAnchor={i === 0 ? "start" : i === labels.length - 1 ? "end" : "middle"}>
              {axisLabels[i]}
            </text>
          ))}
          {series.map((s, i) => (
            <path
              key={s.name}
              d={linePath(s.values, max, w, h)}
              fill="none"
              stroke={palette[i % palette.length]}
              strokeDasharray={dashes[i % dashes.length] || undefined}
              strokeWidth={2}
              vectorEffect="non-scaling-stroke"
            />
          ))}
        </g>
      </svg>
      {series.length > 0 ? (
        <ul className="chart__legend" aria-label={`${title}: legend`}>
          {series.map((s, i) => (
            <li key={s.name}>
              <svg width="24" height="10" aria-hidden="true">
                <line x1="0" x2="24" y1="5" y2="5" stroke={palette[i % palette.length]} strokeWidth="2" strokeDasharray={dashes[i % dashes.length] || undefined} />
              </svg>
              {s.name} <span className="chart__total">{t.each[i]}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <details className="chart__data" onToggle={(e) => setTableOpen(e.currentTarget.open)}>
        <summary>Table of {title.toLowerCase()}</summary>
        {tableOpen ? (
          // Scrolls within its height: focusable so that the keyboard can scroll it.
          <div className="table-wrap" tabIndex={0} role="region" aria-label={`${title}: table`}>
            <table className="table">
              <caption>{title}</caption>
              <thead>
                <tr>
                  <th scope="col">Bucket</th>
                  {series.map((s) => (
                    <th key={s.name} scope="col" className="num">
                      {s.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {labels.map((l, bi) => (
                  <tr key={bi}>
                    <th scope="row">{l}</th>
                    {series.map((s) => (
                      <td key={s.name} className="num">
                        {s.values[bi] ?? 0}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </details>
    </figure>
  );
}
