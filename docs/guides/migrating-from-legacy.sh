#!/usr/bin/env bash
# Runs docs/guides/migrating-from-legacy.md as written (every ```sh block, in
# order, against a quoteflow built from this tree); see run-guide.sh.
#
# Usage (from anywhere):
#   bash docs/guides/migrating-from-legacy.sh                  on SQLite (a new file)
#   bash docs/guides/migrating-from-legacy.sh postgres://...   on that PostgreSQL database
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/run-guide.sh" "$here/migrating-from-legacy.md" "${1:-}"
