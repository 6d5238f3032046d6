#!/usr/bin/env bash
# Runs docs/guides/migrating-from-legacy.md as written: every ```sh block of
# the guide, in order, in one bash with `set -euo pipefail`, against a
# quoteflow built from this tree and started by the guide itself on
# 127.0.0.1 with a free port. Any failing command fails the run.
#
# Usage (from anywhere):
#   bash docs/guides/migrating-from-legacy.sh                  on SQLite (a new file)
#   bash docs/guides/migrating-from-legacy.sh postgres://...   on that PostgreSQL database
#
# Needs go (1.26; /usr/local/go/bin is added to PATH), curl, jq, and python3
# or node to find a free port.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
guide="$here/migrating-from-legacy.md"
export PATH="/usr/local/go/bin:$PATH"

work="$(mktemp -d "${TMPDIR:-/tmp}/guide.XXXXXX")"
cleanup() {
  # The guide stops its server in its last block; a failed run may not get
  # there, so the server it started (its pid in the guide's QF_PID, written
  # out by the trap below) is stopped here.
  if [ -s "$work/server.pid" ]; then kill "$(cat "$work/server.pid")" 2>/dev/null || true; fi
  if [ "${KEEP_GUIDE_WORK:-}" = "" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

for tool in curl jq; do
  command -v "$tool" > /dev/null || { echo "migrating-from-legacy.sh: needs $tool" >&2; exit 1; }
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

database="${1:-sqlite:$work/quoteflow.db}"
label=SQLite
case "$database" in postgres://* | postgresql://*) label=PostgreSQL ;; esac

# The guide's blocks, extracted as written.
awk '/^```sh[[:space:]]*$/ { inblock = 1; next } /^```[[:space:]]*$/ { inblock = 0; next } inblock' "$guide" > "$work/guide-blocks.sh"
if [ ! -s "$work/guide-blocks.sh" ]; then
  echo "migrating-from-legacy.sh: no sh blocks in $guide" >&2
  exit 1
fi
{
  echo 'set -euo pipefail'
  echo "trap 'if [ -n \"\${QF_PID:-}\" ]; then echo \"\$QF_PID\" > \"$work/server.pid\"; fi' EXIT"
  echo 'set -x'
  cat "$work/guide-blocks.sh"
} > "$work/guide.sh"

echo "== guide on $label: $(grep -c '' "$work/guide-blocks.sh") lines of the guide's commands"
status=0
(
  cd "$work"
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
  cat "$work/quoteflow.log" 2>/dev/null || true
  echo "== guide on $label: FAILED (exit $status)"
  exit "$status"
fi
echo "== guide on $label: passed"
