#!/usr/bin/env bash
# The v1 contract gate (issue 9, docs/api/VERSIONING.md). Four gates on the
# committed OpenAPI document, each printing one summary line:
#
#   npm ci      the pinned tools of contract/package-lock.json (npm registry only)
#   oasdiff     no breaking change against docs/api/v1-baseline.json, the
#               released v1 (warnings fail too); exceptions only through
#               contract/oasdiff-accepted.md
#   typescript  openapi-typescript generates contract/client/schema.d.ts, and
#               contract/client/smoke.ts compiles with tsc --noEmit --strict
#   spectral    spectral:oas (+ contract/.spectral.yaml): any error fails, and
#               so does any warning beyond contract/spectral-baseline.txt,
#               which tolerates only the legacy routes' missing x-sunset (2)
#               until their Sunset date is set; then the file goes and any
#               warning fails (a missing baseline tolerates nothing)
#
# Every gate runs even when an earlier one fails; the exit status is 1 if any
# failed. Whether the committed document equals what the server serves is
# internal/api's TestOpenAPIDocumentIsCommitted, run by go test.
#
# Usage (from anywhere):
#   bash contract/check.sh                           run the gate
#   bash contract/check.sh --lower-spectral-baseline lower the tolerated warning
#                                                    counts to today's (never raises)
# Environment:
#   CONTRACT_DOC=path   check this document instead of docs/openapi.json
#                       (used to show that a breaking copy fails)
#
# Needs node/npm (20+) and go (1.26, /usr/local/go/bin is added to PATH).
set -uo pipefail

contract="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$contract/.." && pwd)"
export PATH="/usr/local/go/bin:$PATH"
doc="$(realpath "${CONTRACT_DOC:-$root/docs/openapi.json}")"
baseline="$root/docs/api/v1-baseline.json"
accepted="$contract/oasdiff-accepted.md"
spectral_baseline="$contract/spectral-baseline.txt"
work="$(mktemp -d "${TMPDIR:-/tmp}/contract.XXXXXX")"
trap 'rm -rf "$work"' EXIT

rel() { echo "${1#"$root"/}"; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
passed=0 failed=0
report() { # gate, PASS|FAIL, message, start time
  printf 'contract: %-10s %s %s (%s)\n' "$1" "$2" "$3" "$(took "$4")"
  if [ "$2" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
show() { sed 's/^/    /' "$1" >&2; } # a failing gate's details, indented

# --- npm ci: skipped when node_modules was installed from this very lockfile.
t=$(now)
lock_sum="$(sha256sum "$contract/package-lock.json" | cut -d' ' -f1)"
stamp="$contract/node_modules/.installed-from-lock"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  report "npm ci" PASS "node_modules already matches package-lock.json" "$t"
elif (cd "$contract" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1; then
  echo "$lock_sum" >"$stamp"
  report "npm ci" PASS "$(grep -c '"node_modules/' "$contract/package-lock.json") packages from package-lock.json" "$t"
else
  show "$work/npm.log"
  report "npm ci" FAIL "npm ci failed; the other gates cannot run" "$t"
  echo "contract: $passed passed, $failed failed"
  exit 1
fi
bin="$contract/node_modules/.bin"

if [ "${1:-}" = "--lower-spectral-baseline" ]; then
  "$bin/spectral" lint "$doc" --ruleset "$contract/.spectral.yaml" --format json --quiet --fail-severity=warn >"$work/spectral.json" 2>"$work/spectral.err"
  exec node "$contract/spectral-gate.mjs" "$work/spectral.json" "$spectral_baseline" --lower
fi

# --- oasdiff breaking: the tool is pinned in contract/tools/go.mod, a module
# of its own, so the service's go.mod is untouched. --fail-on WARN: oasdiff's
# warnings (a request property or parameter removed, a pattern changed) break
# a client of this API too, whose request bodies refuse unknown fields.
t=$(now)
if GOWORK=off go -C "$contract/tools" tool oasdiff breaking "$baseline" "$doc" \
  --fail-on WARN --err-ignore "$accepted" --warn-ignore "$accepted" \
  --allow-external-refs=false --color never --format text >"$work/oasdiff.log" 2>&1; then
  if grep -q '^No changes detected' "$work/oasdiff.log"; then
    report oasdiff PASS "identical to $(rel "$baseline")" "$t"
  else
    report oasdiff PASS "no breaking change against $(rel "$baseline")" "$t"
  fi
else
  show "$work/oasdiff.log"
  n=$(grep -m1 -oE '^[0-9]+ changes: [0-9]+ error, [0-9]+ warning' "$work/oasdiff.log" || true)
  report oasdiff FAIL "breaking changes against $(rel "$baseline"): ${n:-oasdiff failed, see above}; see docs/api/VERSIONING.md" "$t"
fi

# --- TypeScript: generate the client types from the document, then compile
# the smoke client against them with strict checking.
t=$(now)
if "$bin/openapi-typescript" "$doc" --output "$contract/client/schema.d.ts" >"$work/ts.log" 2>&1 &&
  (cd "$contract" && "$bin/tsc" -p tsconfig.json --noEmit --strict) >>"$work/ts.log" 2>&1; then
  report typescript PASS "client/schema.d.ts generated ($(wc -l <"$contract/client/schema.d.ts") lines); tsc --noEmit --strict clean" "$t"
else
  show "$work/ts.log"
  report typescript FAIL "openapi-typescript or tsc --strict failed, see above" "$t"
fi

# --- spectral: --fail-severity=warn so that spectral itself fails on a
# warning; spectral-gate.mjs then applies the baseline, per rule.
t=$(now)
"$bin/spectral" lint "$doc" --ruleset "$contract/.spectral.yaml" --format json --quiet --fail-severity=warn \
  >"$work/spectral.json" 2>"$work/spectral.err"
if line=$(node "$contract/spectral-gate.mjs" "$work/spectral.json" "$spectral_baseline" 2>"$work/spectral.log"); then
  report spectral PASS "${line#PASS }" "$t"
else
  show "$work/spectral.err"
  show "$work/spectral.log"
  report spectral FAIL "${line#FAIL }" "$t"
fi

echo "contract: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
