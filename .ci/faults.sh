#!/usr/bin/env bash
# The fault harness (issue 12; docs/RELIABILITY.md): quoteflow processes
# killed under load, a PostgreSQL server of the harness's own restarted
# under load, two processes on one database, and a WhatsApp stand-in that
# fails 20 % of sends, times out 5 % and answers 429 in bursts. Each
# scenario asserts 0 lost and 0 duplicated deliveries per run step and that
# every 2xx the clients saw is stored; a summary table ends the output.
#
# Usage: .ci/faults.sh [postgres://URL of a server to create schemas on]
# The URL defaults to TEST_DATABASE_URL, then to the local server on 5432.
# The restart scenario never touches that server: it runs initdb into a
# temporary directory and restarts only that cluster (as the postgres user
# when run as root). About three minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

export TEST_DATABASE_URL="${1:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The suite is behind the "faults" build tag, so `go vet ./...` and
# staticcheck in .ci/run do not see it: they run on it here.
echo "== faults: vet and staticcheck"
go vet -tags faults ./internal/faults
go tool staticcheck -tags faults ./internal/faults

echo "== faults: the harness"
# -run names the one test; -v streams the scenarios and the summary table;
# -parallel 8 runs every scenario at once (the default is GOMAXPROCS, 2
# here): they mostly wait on backoffs and timeouts, not on the CPU.
go test -tags faults -count=1 -v -parallel 8 -timeout 9m -run '^TestFaults$' ./internal/faults
