#!/usr/bin/env bash
# make image-check: proves the image `make image` built without running a
# container (this machine cannot: no cgroups for the runtime). It exports
# the filesystem of a created, never started, container and checks:
#   - the image config: non-root user, entrypoint, /data volume, port,
#     HEALTHCHECK, OCI labels, environment;
#   - the filesystem: a static binary, the CA bundle, the zone database,
#     /data owned by the nonroot user;
#   - the entrypoint, run inside that filesystem (chroot) as the image's
#     user: it serves on 127.0.0.1 with SQLite in /data, the image's own
#     HEALTHCHECK command passes, and an API write and read work;
#   - the same filesystem as a Lambda function: the entrypoint under the
#     Lambda Runtime Interface Emulator answers an API Gateway event.
# Every server it starts listens on 127.0.0.1 and is stopped by its PID.
#
#   env: IMAGE (icy-morning:latest)
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-icy-morning:latest}
tool=podman
command -v podman >/dev/null || tool=buildah
fail() { echo "image-check: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The image configuration.
inspect() { "$tool" image inspect --format "$1" "$image"; }
[ "$(inspect '{{.Config.User}}')" = "65532:65532" ] || fail "user is '$(inspect '{{.Config.User}}')', want 65532:65532"
pass "user 65532:65532 (non-root)"
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/local/bin/icy-morning"]' ] || fail "entrypoint $(inspect '{{json .Config.Entrypoint}}')"
[ "$(inspect '{{json .Config.Cmd}}')" = "null" ] || fail "a CMD would stop the binary choosing serve or lambda: $(inspect '{{json .Config.Cmd}}')"
pass "entrypoint the binary, no CMD"
inspect '{{json .Config.Volumes}}' | grep -q '"/data"' || fail "no /data volume"
inspect '{{json .Config.ExposedPorts}}' | grep -q '"8000/tcp"' || fail "port 8000 not exposed"
health=$(inspect '{{json .Config.Healthcheck.Test}}')
[ "$health" = '["CMD","/usr/local/bin/icy-morning","healthcheck"]' ] || fail "healthcheck $health"
pass "volume /data, port 8000, HEALTHCHECK $health"
for label in version revision source; do
  v=$(inspect "{{index .Config.Labels \"org.opencontainers.image.$label\"}}")
  [ -n "$v" ] && [ "$v" != "<no value>" ] || fail "no org.opencontainers.image.$label label"
  pass "org.opencontainers.image.$label=$v"
done
env_list=$(inspect '{{json .Config.Env}}')
for want in ADDR=0.0.0.0:8000 DATABASE_URL=sqlite:////data/icy-morning.db ZONEINFO=/usr/share/zoneinfo.zip; do
  grep -q "\"$want\"" <<<"$env_list" || fail "environment lacks $want: $env_list"
done
pass "environment $env_list"

# The filesystem, from a container that is created but never started.
cid=$("$tool" create "$image" 2>/dev/null || "$tool" from "$image")
root=$work/rootfs
mkdir -p "$root"
if [ "$tool" = podman ]; then
  podman export "$cid" | tar -x -C "$root" --numeric-owner
  podman rm "$cid" >/dev/null 2>&1
else
  buildah unshare true 2>/dev/null
  mnt=$(buildah mount "$cid")
  cp -a "$mnt/." "$root/"
  buildah umount "$cid" >/dev/null
  buildah rm "$cid" >/dev/null
fi
bin=$root/usr/local/bin/icy-morning
[ -x "$bin" ] || fail "no /usr/local/bin/icy-morning"
readelf -l "$bin" | grep -q 'Requesting program interpreter' && fail "the binary is dynamically linked"
pass "static binary, $(stat -c %s "$bin") bytes"
grep -c 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt" | awk '$1 < 50 { exit 1 }' ||
  fail "CA bundle missing or short"
pass "CA bundle: $(grep -c 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt") certificates"
python3 -c 'import sys, zipfile; names = set(zipfile.ZipFile(sys.argv[1]).namelist()); sys.exit(0 if {"Europe/Berlin", "America/New_York", "UTC"} <= names else 1)' \
  "$root/usr/share/zoneinfo.zip" || fail "zone database missing or incomplete"
pass "zone database: $(python3 -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "$root/usr/share/zoneinfo.zip") zones"
[ "$(stat -c %u:%g "$root/data")" = "65532:65532" ] || fail "/data is owned by $(stat -c %u:%g "$root/data")"
grep -q '^nonroot:x:65532:65532:' "$root/etc/passwd" || fail "no nonroot account"
pass "/data owned by 65532:65532"
echo "files in the image:"
(cd "$root" && find . -type f -printf '  %p %s\n' | sort)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# in_image [NAME=VALUE...] COMMAND...: COMMAND inside the exported
# filesystem as the image's user, with only the given environment. It
# execs, so that a background call's PID is the command's own: call it in
# the background or in a subshell.
chroot=$(command -v chroot)
in_image() {
  local vars=()
  while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
  exec env -i "${vars[@]}" "$chroot" --userspec=65532:65532 "$root" "$@"
}

# serve, as `docker run -p 8000:8000 IMAGE` would, but on loopback.
port=$(free_port)
in_image ADDR="127.0.0.1:$port" DATABASE_URL=sqlite:////data/icy-morning.db ZONEINFO=/usr/share/zoneinfo.zip \
  BASIC_AUTH_USERNAME=admin BASIC_AUTH_PASSWORD=image-check LOG_FORMAT=text \
  /usr/local/bin/icy-morning >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/serve.log" >&2; fail "serve exited"; }
  sleep 0.1
done
# The image's HEALTHCHECK, exactly as its configuration has it.
mapfile -t hc < <(jq -r '.[1:][]' <<<"$health")
(in_image ADDR="127.0.0.1:$port" "${hc[@]}") || { cat "$work/serve.log" >&2; fail "HEALTHCHECK fails"; }
pass "serve from the image's filesystem on 127.0.0.1:$port; its HEALTHCHECK passes"
code=$(curl -s -o /dev/null -w '%{http_code}' -u admin:image-check -H 'Content-Type: application/json' \
  -d '{"name":"Ada Lovelace","company":"Analytical Engines"}' "http://127.0.0.1:$port/api/v1/analysts")
[ "$code" = 201 ] || fail "POST /api/v1/analysts answered $code"
curl -fsS "http://127.0.0.1:$port/api/v1/analysts" | grep -q 'Ada Lovelace' || fail "the analyst was not read back"
[ -s "$root/data/icy-morning.db" ] && [ "$(stat -c %u "$root/data/icy-morning.db")" = 65532 ] ||
  fail "no SQLite database written by the nonroot user in /data"
pass "a write and a read; SQLite in /data, owned by 65532"
kill "${pids[0]}" && wait "${pids[0]}" 2>/dev/null || true
pids=()
# A stopped server fails the health check.
if (in_image ADDR="127.0.0.1:$port" /usr/local/bin/icy-morning healthcheck >/dev/null 2>&1); then
  fail "HEALTHCHECK passes with the server stopped"
fi
pass "HEALTHCHECK fails once the server is stopped"

# The same filesystem as a Lambda container image.
rie=$(go env GOPATH)/bin/aws-lambda-rie
if [ ! -x "$rie" ]; then
  [ "${ICY_REQUIRE_LAMBDA:-}" = 1 ] && fail "aws-lambda-rie is not installed (make init)"
  echo "SKIPPED: the Lambda check needs aws-lambda-rie (make init)"
  exit 0
fi
api=$(free_port)
runtime=$(free_port)
exec env -i DATABASE_URL=sqlite:////tmp/lambda.db BASIC_AUTH_USERNAME=admin BASIC_AUTH_PASSWORD=image-check \
  NOTIFY_SECRET=image-check-link-signing-key-0123456789 \
  "$rie" --runtime-interface-emulator-address "127.0.0.1:$api" --runtime-api-address "127.0.0.1:$runtime" \
  "$chroot" --userspec=65532:65532 "$root" /usr/local/bin/icy-morning >"$work/lambda.log" 2>&1 &
pids+=($!)
event='{"version":"2.0","rawPath":"/healthz","requestContext":{"stage":"$default","requestId":"image-check","http":{"method":"GET","path":"/healthz","sourceIp":"127.0.0.1"}}}'
answer=""
for _ in $(seq 1 50); do
  answer=$(curl -s "http://127.0.0.1:$api/2015-03-31/functions/function/invocations" -d "$event" 2>/dev/null) && [ -n "$answer" ] && break
  sleep 0.1
done
[ "$(jq -r .statusCode <<<"$answer" 2>/dev/null)" = 200 ] || { cat "$work/lambda.log" >&2; fail "the Lambda invocation answered: $answer"; }
pass "as a Lambda function (emulator, no arguments): GET /healthz -> 200"
