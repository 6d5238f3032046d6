// The editor's JavaScript budget (issue 11): every built script, gzipped,
// under 300 KB together. Prints the figure; exits 1 past the budget.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const budget = 300 * 1024;
const dir = fileURLToPath(new URL("../../internal/web/dist/assets", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".js")).sort();
if (files.length === 0) {
  console.error(`size: no .js in ${dir}; run npm run build first`);
  process.exit(1);
}
let total = 0;
for (const f of files) {
  const n = gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  total += n;
  console.log(`size: ${f} ${(n / 1024).toFixed(1)} KB gzipped`);
}
const verdict = total <= budget ? "within" : "OVER";
console.log(`size: ${(total / 1024).toFixed(1)} KB gzipped in ${files.length} file(s), ${verdict} the ${budget / 1024} KB budget`);
process.exit(total <= budget ? 0 : 1);
