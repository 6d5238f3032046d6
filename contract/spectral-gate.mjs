// Reads spectral's JSON report and decides the spectral gate of check.sh.
//
//   node spectral-gate.mjs REPORT.json BASELINE.txt           check
//   node spectral-gate.mjs REPORT.json BASELINE.txt --lower   rewrite BASELINE.txt
//                                                             with today's counts,
//                                                             only if none rose
//
// Any error fails. A warning fails unless BASELINE.txt tolerates it: the file
// lists "rule count" per line, the most warnings of that rule the document may
// have. A rule above its count, or a rule not listed, fails. A missing or empty
// baseline tolerates nothing: that is the target (docs/api/VERSIONING.md).
// Prints one summary line on stdout; details on stderr.
import { readFileSync, writeFileSync, existsSync } from "node:fs";

const [reportPath, baselinePath, mode] = process.argv.slice(2);
if (!reportPath || !baselinePath) {
  console.error("usage: node spectral-gate.mjs REPORT.json BASELINE.txt [--lower]");
  process.exit(2);
}

let results;
try {
  results = JSON.parse(readFileSync(reportPath, "utf8"));
  if (!Array.isArray(results)) throw new Error("not an array");
} catch (e) {
  console.log(`FAIL spectral did not produce a report (${e.message})`);
  process.exit(1);
}

// Spectral severities: 0 error, 1 warn, 2 info, 3 hint.
const errors = results.filter((r) => r.severity === 0);
const warnings = results.filter((r) => r.severity === 1);
const counts = new Map();
for (const w of warnings) counts.set(w.code, (counts.get(w.code) ?? 0) + 1);

const baseline = new Map();
if (existsSync(baselinePath)) {
  for (const raw of readFileSync(baselinePath, "utf8").split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\d+)$/.exec(line);
    if (!m) {
      console.log(`FAIL ${baselinePath}: cannot read line "${raw}" (want "rule count")`);
      process.exit(1);
    }
    baseline.set(m[1], Number(m[2]));
  }
}
const tolerated = [...baseline.values()].reduce((a, b) => a + b, 0);

const where = (r) => `${r.path.join(".")}${r.range ? ` (line ${r.range.start.line + 1})` : ""}`;
for (const e of errors) console.error(`  error ${e.code}: ${e.message} at ${where(e)}`);

const rose = [];
for (const [rule, n] of [...counts].sort()) {
  const allowed = baseline.get(rule) ?? 0;
  if (n > allowed) {
    rose.push(`${rule} ${n} > ${allowed}`);
    const of = warnings.filter((x) => x.code === rule);
    for (const w of of.slice(0, 5)) console.error(`  warning ${rule}: ${w.message} at ${where(w)}`);
    if (of.length > 5) console.error(`  ... and ${of.length - 5} more ${rule}`);
  }
}
const fell = [...baseline].filter(([rule, n]) => (counts.get(rule) ?? 0) < n).map(([rule, n]) => `${rule} ${counts.get(rule) ?? 0} < ${n}`);

if (mode === "--lower") {
  if (errors.length || rose.length) {
    console.log(`FAIL will not rewrite ${baselinePath}: ${errors.length} errors, rose: ${rose.join(", ") || "none"}`);
    process.exit(1);
  }
  const head = readFileSync(baselinePath, "utf8").split("\n").filter((l) => l.startsWith("#"));
  const body = [...counts].sort().map(([rule, n]) => `${rule} ${n}`);
  writeFileSync(baselinePath, [...head, ...body, ""].join("\n"));
  console.log(`PASS ${baselinePath} now tolerates ${warnings.length} warnings (was ${tolerated})`);
  process.exit(0);
}

if (errors.length || rose.length) {
  const why = [errors.length ? `${errors.length} errors` : "", rose.length ? `warnings above the baseline: ${rose.join(", ")}` : ""].filter(Boolean);
  console.log(`FAIL ${why.join("; ")} (${warnings.length} warnings, ${tolerated} tolerated; target 0)`);
  process.exit(1);
}
let msg = `PASS 0 errors, ${warnings.length} warnings`;
if (tolerated > 0) msg += ` (baseline tolerates ${tolerated}; target 0)`;
if (fell.length) msg += `; fewer than the baseline (${fell.join(", ")}): run contract/check.sh --lower-spectral-baseline and commit`;
console.log(msg);
