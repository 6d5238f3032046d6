#!/usr/bin/env bash
# Vendors the renderer of the API reference (/v1/docs): RapiDoc's built
# file, at the pinned version, from the npm registry through npm itself.
# The tarball must be the one pinned (its sha512 integrity); the file copied
# is recorded in VERSION with its sha256, which a Go test checks against
# the embedded copy.
#
#   internal/api/docsui/vendor.sh          copy the pinned version in
#   internal/api/docsui/vendor.sh --check  fetch it again and fail if the
#                                          committed files differ
#
# To move to another version: change version and integrity below (npm view
# rapidoc@X dist.integrity), run the script, and read the Go test's list of
# addresses the file names (docsui_test.go) if it fails.
set -euo pipefail

name=rapidoc
version=9.3.8
integrity=sha512-eCYEbr1Xr8OJZvVCw8SXl9zBCRoLJbhNGuG5IZTHq/RWAOq/O4MafUCuFEyZHsrhLrlUcGZMa64pyhpib8fQKQ==
files=(dist/rapidoc-min.js dist/rapidoc-min.js.LICENSE.txt LICENSE.txt)

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
tgz="$tmp/$name-$version.tgz"
got=$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")
if [ "$got" != "$integrity" ]; then
	echo "vendor.sh: $name@$version is $got, pinned $integrity" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp"

out="$tmp/out"
mkdir -p "$out/assets"
for f in "${files[@]}"; do
	cp "$tmp/package/$f" "$out/assets/$(basename "$f")"
done
{
	echo "# Written by vendor.sh: the renderer of /v1/docs, as the npm registry serves it."
	echo "package $name"
	echo "version $version"
	echo "integrity $integrity"
	for f in "${files[@]}"; do
		b=$(basename "$f")
		echo "sha256 $(sha256sum "$out/assets/$b" | cut -d' ' -f1) $b"
	done
} >"$out/VERSION"

if [ "${1:-}" = "--check" ]; then
	diff -r "$out/assets" "$here/assets" >/dev/null && diff "$out/VERSION" "$here/VERSION" >/dev/null || {
		echo "vendor.sh: the committed renderer differs from $name@$version; run internal/api/docsui/vendor.sh" >&2
		exit 1
	}
	echo "vendor.sh: $name@$version matches the committed files"
	exit 0
fi
rm -rf "$here/assets"
cp -r "$out/assets" "$here/assets"
cp "$out/VERSION" "$here/VERSION"
echo "vendor.sh: $name@$version vendored into $here"
