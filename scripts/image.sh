#!/usr/bin/env bash
# make image: builds the container image from the Dockerfile with podman
# (or buildah), installing podman from Debian when neither is there. No
# Docker daemon is needed.
#
# When the Go toolchain image cannot be pulled (no registry reachable, as on
# the CI machine), the build stage's tree is made on this machine by the
# script the build stage runs (scripts/image-rootfs.sh) with the local Go,
# and handed to the Dockerfile as its `build` stage (--build-context): the
# final stage, which is the whole image, is still built by the Dockerfile.
# IMAGE_BUILDER=local asks for that without trying the pull.
#
#   env: IMAGE (icy-morning), IMAGE_ARCH (the host's: amd64|arm64),
#        IMAGE_BUILDER (auto|registry|local)
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-icy-morning}
arch=${IMAGE_ARCH:-$(go env GOARCH)}
case $arch in amd64 | arm64) ;; *) echo "IMAGE_ARCH must be amd64 or arm64" >&2; exit 2 ;; esac
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# The image's timestamps are the commit's, so a rebuild of one commit
# gives the same layers.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)

if command -v podman >/dev/null; then
  tool=podman
elif command -v buildah >/dev/null; then
  tool=buildah
else
  echo "--- installing podman (Debian)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null; }
  tool=podman
fi

go_image=$(sed -n 's/^ARG GO_IMAGE=//p' Dockerfile)
args=(build --format docker --platform "linux/$arch" --timestamp "$epoch"
  --build-arg "TARGETARCH=$arch" --build-arg "VERSION=$version" --build-arg "COMMIT=$commit"
  --tag "$image:$version" --tag "$image:latest" --file Dockerfile)

mode=${IMAGE_BUILDER:-auto}
if [ "$mode" = auto ]; then
  mode=registry
  if ! timeout 60 "$tool" pull --quiet --platform "linux/$arch" "$go_image" >/dev/null 2>&1; then
    echo "--- cannot pull $go_image: building its stage's output here instead (see scripts/image.sh)" >&2
    mode=local
  fi
fi
ctx=""
if [ "$mode" = local ]; then
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  TARGETOS=linux TARGETARCH=$arch VERSION=$version COMMIT=$commit sh scripts/image-rootfs.sh "$ctx/out"
  args+=(--build-context "build=$ctx")
fi

"$tool" "${args[@]}" . >&2
size=$("$tool" image inspect --format '{{.Size}}' "$image:$version")
awk -v s="$size" -v i="$image:$version" -v m="$mode" 'BEGIN { printf "%s: %d bytes (%.1f MB), linux build stage: %s\n", i, s, s/1e6, m }'
