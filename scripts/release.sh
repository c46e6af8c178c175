#!/usr/bin/env bash
# make release: the release artefacts in OUT (default dist/release):
# icy-morning for linux/amd64, linux/arm64, darwin/amd64, darwin/arm64 and
# windows/amd64 (…_windows_amd64.exe), the Lambda zips for arm64 and
# amd64, a CycloneDX SBOM beside each (cyclonedx-gomod, from the binary's
# own build information), and SHA256SUMS. Version and commit are linked
# in (icy-morning version prints them). The same commit gives the same
# bytes: -trimpath, no build id, no VCS stamp beyond the commit passed in,
# zips with fixed metadata (internal/lambdazip), SBOMs without serial
# number or timestamp.
#
#   scripts/release.sh [OUT]      (env: VERSION, COMMIT override git's)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist/release}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
CYCLONEDX_VERSION=v1.10.0
sbom_tool=$(go env GOPATH)/bin/cyclonedx-gomod
if [ "$("$sbom_tool" version 2>/dev/null | awk '/^Version/ { print $2 }')" != "$CYCLONEDX_VERSION" ] &&
  [ "$(go version -m "$sbom_tool" 2>/dev/null | awk '$1 == "mod" { print $3 }')" != "$CYCLONEDX_VERSION" ]; then
  go install "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_VERSION"
fi

ldflags="-s -w -buildid= -X main.buildVersion=$version -X main.buildCommit=$commit"
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sbom() { # sbom BINARY OUTPUT
  "$sbom_tool" bin -json -noserial -notimestamp -version "$version" -output "$2" "$1"
}

for platform in ${RELEASE_PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64}; do
  goos=${platform%/*} goarch=${platform#*/}
  name=icy-morning_${version}_${goos}_${goarch}
  [ "$goos" = windows ] && name=$name.exe
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=false -ldflags "$ldflags" \
    -o "$out/$name" ./cmd/icy-morning
  sbom "$out/$name" "$out/${name%.exe}.cdx.json"
done

# The Lambda zips: what make lambda builds, for both architectures.
go build -o "$work/zipbootstrap" ./cmd/zipbootstrap
for arch in arm64 amd64; do
  mkdir -p "$work/$arch"
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -tags lambda.norpc -trimpath -buildvcs=false -ldflags "$ldflags" \
    -o "$work/$arch/bootstrap" ./cmd/icy-morning
  name=icy-morning-lambda_${version}_${arch}
  "$work/zipbootstrap" -o "$out/$name.zip" "$work/$arch/bootstrap"
  sbom "$work/$arch/bootstrap" "$out/$name.cdx.json"
done

(cd "$out" && sha256sum -- * >SHA256SUMS)
cat "$out/SHA256SUMS"
