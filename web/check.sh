#!/usr/bin/env bash
# The editor's gate (issue 11, docs/WEB.md), run by .ci/run after the
# contract gate. Each step prints one line with its time:
#
#   chromium    Debian's package, installed if /usr/bin/chromium is missing
#   npm ci      the pinned tools of web/package-lock.json (npm registry only)
#   gen         openapi-typescript from docs/openapi.json must give the
#               committed web/src/api/schema.d.ts
#   typecheck   tsc --noEmit, strict
#   build       npm run build, twice: each must leave internal/web/dist as
#               committed (the committed assets are what the binary embeds,
#               and the build is deterministic)
#   size        the editor's JavaScript under 300 KB gzipped
#   unit        vitest (jsdom): components and the API client
#   e2e         vitest + playwright-core + Chromium against a real quoteflow
#
# Usage: bash web/check.sh   (from anywhere; needs node 20.19+, npm, go)
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$web/.." && pwd)"
export PATH="/usr/local/go/bin:$PATH"
cd "$web"

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
step() { printf 'web: %-10s %s (%s)\n' "$1" "$2" "$(took "$3")"; }
start=$(now)

t=$(now)
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
step chromium "$("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null | head -n1)" "$t"

# Skipped when node_modules was installed from this very lockfile.
t=$(now)
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.installed-from-lock
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  step "npm ci" "node_modules already matches package-lock.json" "$t"
else
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" >"$stamp"
  step "npm ci" "$(grep -c '"node_modules/' package-lock.json) packages from package-lock.json" "$t"
fi

t=$(now)
npm run --silent gen >/dev/null 2>&1
if ! git -C "$root" diff --exit-code --stat -- web/src/api/schema.d.ts; then
  echo "web/src/api/schema.d.ts differs from what docs/openapi.json generates: run (cd web && npm run gen) and commit it" >&2
  exit 1
fi
step gen "src/api/schema.d.ts matches docs/openapi.json" "$t"

t=$(now)
npx tsc --noEmit -p tsconfig.json
step typecheck "tsc --noEmit clean" "$t"

t=$(now)
for i in 1 2; do
  npm run --silent build >/dev/null
  changed="$(git -C "$root" status --porcelain -- internal/web/dist)"
  if [ -n "$changed" ]; then
    echo "$changed" >&2
    echo "build $i: internal/web/dist differs from the committed build: run (cd web && npm run build) and commit internal/web/dist" >&2
    exit 1
  fi
done
step build "built twice, both identical to the committed internal/web/dist" "$t"

t=$(now)
step size "$(node scripts/size.mjs | tail -n1 | sed 's/^size: //')" "$t"

# vitest's own summary, as one plain line: "<suite>: N passed, 0 failed".
vitest_suite() { # name, log, vitest args...
  local name=$1 log=$2
  shift 2
  if ! NO_COLOR=1 npx vitest run --reporter=dot "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "$name: $(grep -oE '[0-9]+ failed' "$log" | tail -n1 || echo '? failed'), see above" >&2
    exit 1
  fi
  local n
  n=$(grep -E '^ +Tests +[0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
  echo "$name: ${n:-0} passed, 0 failed"
}
logs="$(mktemp -d "${TMPDIR:-/tmp}/web-check.XXXXXX")"
trap 'rm -rf "$logs"' EXIT

t=$(now)
vitest_suite web-unit "$logs/unit.log"
step unit "vitest, jsdom" "$t"

t=$(now)
vitest_suite web-e2e "$logs/e2e.log" --config e2e/vitest.config.ts
step e2e "vitest, playwright-core, Chromium, quoteflow serve and demo on SQLite" "$t"

step total "editor gate passed" "$start"
