#!/usr/bin/env bash
# make release-check: builds the release twice, into two directories, and
# fails unless both SHA256SUMS are the same: the same commit gives the same
# bytes. Go's build cache holds compiled packages, not the artefacts: every
# link, zip and SBOM is written again, so what is compared is what the
# tools write from the same inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
# One version and commit for all three builds, read once: the tree must
# not be edited while they run.
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
export VERSION COMMIT
a=$(mktemp -d) b=$(mktemp -d)
trap 'rm -rf "$a" "$b"' EXIT
start=$SECONDS
bash scripts/release.sh "$a/release" >/dev/null
first=$((SECONDS - start))
bash scripts/release.sh "$b/release" >/dev/null
second=$((SECONDS - start - first))
if ! diff -u "$a/release/SHA256SUMS" "$b/release/SHA256SUMS"; then
  echo "release-check: two builds of one commit differ" >&2
  exit 1
fi
# The build must not depend on where the source is: a third build from a
# copy of the tree in another directory gives the same bytes too.
copy=$(mktemp -d)
trap 'rm -rf "$a" "$b" "$copy"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$copy"
(cd "$copy" && bash scripts/release.sh "$copy/out" >/dev/null)
if ! diff -u "$a/release/SHA256SUMS" "$copy/out/SHA256SUMS"; then
  echo "release-check: a build from another directory differs" >&2
  exit 1
fi
echo "release-check: three builds (two here, one from a copy elsewhere) gave the same $(wc -l <"$a/release/SHA256SUMS") artefacts; $first s, then $second s"
cat "$a/release/SHA256SUMS"
