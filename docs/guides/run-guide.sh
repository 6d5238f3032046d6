#!/usr/bin/env bash
# Runs a markdown guide as written: every ```sh block of it (or of one of
# its sections), in order, in one bash with `set -euo pipefail`, against a
# quoteflow built from this tree. The guide starts its own server; this
# script hands it a free port on 127.0.0.1 and a database through the
# QUOTEFLOW_* variables, which the guide uses when they are set. Any failing
# command fails the run.
#
# Usage (from anywhere):
#   bash docs/guides/run-guide.sh GUIDE.md [DATABASE]
# where DATABASE is empty for a new SQLite file, or postgres://... .
# Settings:
#   GUIDE_SECTION="A five-minute walk-through"  only the blocks under this
#                                               "## " heading
#   GUIDE_CWD=root   run the blocks in the repository's root (for a guide
#                    that builds from it, as the README does); otherwise in
#                    a new directory with a quoteflow binary on PATH
#   KEEP_GUIDE_WORK=1  keep the work directory, its output and server log
#
# Needs go (1.26; /usr/local/go/bin is added to PATH), curl, jq, and python3
# or node to find a free port.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
guide="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
name="$(basename "$guide")"
export PATH="/usr/local/go/bin:$PATH"

work="$(mktemp -d "${TMPDIR:-/tmp}/guide.XXXXXX")"
cleanup() {
  # A guide stops its server in its last block; a failed run may not get
  # there, so the server it started (its pid in the guide's QF_PID, written
  # out by the trap below) is stopped here.
  if [ -s "$work/server.pid" ]; then kill "$(cat "$work/server.pid")" 2>/dev/null || true; fi
  if [ "${KEEP_GUIDE_WORK:-}" = "" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

for tool in curl jq; do
  command -v "$tool" > /dev/null || { echo "run-guide.sh: needs $tool" >&2; exit 1; }
done

mkdir -p "$work/bin"
(cd "$root" && go build -o "$work/bin/quoteflow" ./cmd/quoteflow)

free_port() {
  if command -v python3 > /dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
  fi
}

database="${2:-}"
if [ -z "$database" ]; then database="sqlite:$work/quoteflow.db"; fi
label=SQLite
case "$database" in postgres://* | postgresql://*) label=PostgreSQL ;; esac

# The blocks, extracted as written: all of them, or those of one section.
awk -v section="${GUIDE_SECTION:-}" '
  /^## / { if (section != "") { insection = (substr($0, 4) == section) } }
  section != "" && !insection { next }
  /^```sh[[:space:]]*$/ { inblock = 1; next }
  /^```[[:space:]]*$/ { inblock = 0; next }
  inblock' "$guide" > "$work/guide-blocks.sh"
if [ ! -s "$work/guide-blocks.sh" ]; then
  echo "run-guide.sh: no sh blocks in $guide${GUIDE_SECTION:+ under \"## $GUIDE_SECTION\"}" >&2
  exit 1
fi
{
  echo 'set -euo pipefail'
  echo "trap 'if [ -n \"\${QF_PID:-}\" ]; then echo \"\$QF_PID\" > \"$work/server.pid\"; fi' EXIT"
  echo 'set -x'
  cat "$work/guide-blocks.sh"
} > "$work/guide.sh"

cwd="$work"
if [ "${GUIDE_CWD:-}" = root ]; then cwd="$root"; fi

echo "== $name on $label: $(grep -c '' "$work/guide-blocks.sh") lines of its commands"
status=0
(
  cd "$cwd"
  PATH="$work/bin:$PATH" \
    QUOTEFLOW_ADDR="127.0.0.1:$(free_port)" \
    QUOTEFLOW_DATABASE_URL="$database" \
    QUOTEFLOW_OPERATOR_TOKEN="guide-$(date +%s)-$$" \
    QUOTEFLOW_LOG_LEVEL=warn \
    bash "$work/guide.sh"
) > "$work/guide.out" 2>&1 || status=$?
if [ "$status" != 0 ]; then
  cat "$work/guide.out"
  echo "== server log"
  cat "$cwd"/*.log 2>/dev/null || true
  echo "== $name on $label: FAILED (exit $status)"
  exit "$status"
fi
echo "== $name on $label: passed"
