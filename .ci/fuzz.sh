#!/usr/bin/env bash
# CI: run every fuzz target for a short time from its committed corpus
# (testdata/fuzz/FuzzXxx plus its f.Add seeds), one target at a time, since
# go test -fuzz takes one target per invocation. Targets are found, not
# listed: every func FuzzXxx in a *_fuzz_test.go file runs. A crash fails
# the run and go test writes the input to the package's testdata/fuzz/;
# commit it with the fix, as a regression seed (docs/RELIABILITY.md).
#
# FUZZTIME is each target's time (default 5s: about 19 targets and their
# builds stay within about 2.5 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
fuzztime="${FUZZTIME:-5s}"

mapfile -t targets < <(grep -H -o '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' $(git ls-files '*_fuzz_test.go') |
  sed -E 's#^(.*)/[^/]+:func (Fuzz[A-Za-z0-9_]*)\(.*#./\1 \2#' | sort -u)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "no fuzz targets found"; exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log="$tmp/log"
cache="$(go env GOCACHE)/fuzz"
start=$SECONDS
built=""
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  # One instrumented test binary per package, run once per target from the
  # package's directory (where testdata/fuzz is): linking it again for
  # every target was most of the time.
  bin="$tmp/$(echo "$pkg" | tr / _).test"
  if [ "$built" != "$pkg" ]; then
    go test -c -fuzz "^${name}\$" -o "$bin" "$pkg"
    built="$pkg"
  fi
  importpath="$(go list "$pkg")"
  echo "== fuzz $name ($pkg, $fuzztime)"
  for attempt in 1 2; do
    if (cd "$pkg" && "$bin" -test.run '^$' -test.fuzz "^${name}\$" -test.fuzztime "$fuzztime" \
      -test.fuzzcachedir "$cache/$importpath") >"$log" 2>&1; then
      break
    fi
    # A worker still busy on an input when the time is up makes the
    # coordinator report "context deadline exceeded" with no failing
    # input: a loaded machine, not a crash. Anything else, or the same
    # twice, fails.
    if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "   (deadline exceeded without a failing input; once more)"
      continue
    fi
    grep -v '^fuzz: elapsed' "$log"
    echo "FAIL: fuzz target $name in $pkg (the failing input is in $pkg/testdata/fuzz/$name/)"
    exit 1
  done
  grep -v '^fuzz: elapsed' "$log" | tail -n1
done
echo "== fuzz: ${#targets[@]} targets in $((SECONDS - start))s"
