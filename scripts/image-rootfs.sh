#!/bin/sh
# Writes the container image's filesystem into OUT/rootfs: the static
# binary, the CA bundle, Go's time zone database and the nonroot account;
# and OUT/data, the empty volume the nonroot user owns.
# The Dockerfile's build stage runs it; `make image` runs it on the host
# when the Go toolchain image cannot be pulled (scripts/image.sh), so both
# ways produce the same tree.
#
#   scripts/image-rootfs.sh OUT     (env: TARGETOS, TARGETARCH, VERSION, COMMIT)
set -eu
out=${1:?usage: image-rootfs.sh OUT}
goos=${TARGETOS:-linux}
goarch=${TARGETARCH:-$(go env GOARCH)}
version=${VERSION:-dev}
commit=${COMMIT:-unknown}

rm -rf "$out"
mkdir -p "$out/data"
chown 65532:65532 "$out/data" 2>/dev/null || true # the Dockerfile's COPY --chown says so too
out=$out/rootfs
mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/usr/share" "$out/tmp"

# The same flags as `make build` and `make lambda` (lambda.norpc: the image
# is also a Lambda container image, which talks to the runtime API only).
CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -tags lambda.norpc -trimpath -buildvcs=false \
  -ldflags "-s -w -buildid= -X main.buildVersion=$version -X main.buildCommit=$commit" \
  -o "$out/usr/local/bin/icy-morning" ./cmd/icy-morning

# TLS to RDS, SES, Secrets Manager and OIDC issuers verifies against these
# roots (the RDS authorities are in the binary too).
cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
# Go's own zone database (ZONEINFO points at it): 0.4 MB instead of the
# distribution's 4 MB directory, and the same in every builder.
cp "$(go env GOROOT)/lib/time/zoneinfo.zip" "$out/usr/share/zoneinfo.zip"

# uid and gid 65532, as distroless's nonroot; no shell, no password.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/data:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/etc/group"
chmod 1777 "$out/tmp"
