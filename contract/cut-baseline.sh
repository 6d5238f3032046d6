#!/usr/bin/env bash
# Moves the released-v1 baseline to the document being released: run by the
# person cutting a release (docs/api/VERSIONING.md), on a clean checkout of
# the commit to be released, and committed as a change of its own:
#
#   bash contract/cut-baseline.sh v1.1.0
#   git commit -am "contract: v1 baseline moves to v1.1.0"
#
# It refuses unless the contract gate passes, so a breaking change can never
# become the baseline by accident; accepted exceptions in
# contract/oasdiff-accepted.md are dropped, being part of the new baseline.
set -euo pipefail
contract="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$contract/.." && pwd)"
release="${1:?usage: contract/cut-baseline.sh RELEASE (e.g. v1.1.0)}"
case "$release" in v1.*) ;; *) echo "cut-baseline: $release is not a v1 release; a v2 gets a baseline of its own (docs/api/VERSIONING.md)" >&2; exit 2 ;; esac
if [ -n "$(git -C "$root" status --porcelain)" ]; then
  echo "cut-baseline: the work tree is not clean; cut a release from a committed state" >&2
  exit 1
fi
bash "$contract/check.sh"
cp "$root/docs/openapi.json" "$root/docs/api/v1-baseline.json"
sed -i '/^## Entries$/q' "$contract/oasdiff-accepted.md"
printf '\n(none)\n' >>"$contract/oasdiff-accepted.md"
git -C "$root" status --short
echo "cut-baseline: docs/api/v1-baseline.json is now $release's document; commit it:"
echo "  git commit -am \"contract: v1 baseline moves to $release\""
