#!/usr/bin/env bash
# make compose-config: validates compose.yaml with a real Compose
# implementation (Debian's docker-compose; `config` needs no daemon), and
# proves the validation bites by feeding it a broken copy. Then checks what
# the stack promises: PostgreSQL 16 health-checked on a named volume, Mailpit
# with its UI published, the service built from the Dockerfile and started
# after the database is healthy, every port on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-compose >/dev/null; then
  echo "--- installing docker-compose (Debian)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }
fi
fail() { echo "compose-config: $*" >&2; exit 1; }

docker-compose -f compose.yaml config -q || fail "compose.yaml is invalid"
echo "ok: docker-compose $(docker-compose version --short) accepts compose.yaml"

broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed 's/condition: service_healthy/condition: when_ready/' compose.yaml >"$broken"
if docker-compose -f "$broken" config -q 2>/dev/null; then
  fail "docker-compose accepted a broken copy: it is not validating"
fi
echo "ok: a broken copy is refused"

config=$(docker-compose -f compose.yaml config)
expect() { grep -Eq -- "$1" <<<"$config" || fail "$2"; }
expect '^  api:$' "no api service"
expect 'dockerfile: Dockerfile' "the api is not built from the Dockerfile"
expect 'condition: service_healthy' "the api does not wait for a healthy database"
expect 'DATABASE_URL: postgres://[^@]+@db:5432/' "the api does not use the db service"
expect 'MAIL_URL: smtp://mail:1025' "the api does not send mail to Mailpit"
expect 'image: docker.io/library/postgres:16[-.]' "the database is not PostgreSQL 16"
expect 'pg_isready' "the database has no health check"
expect 'pgdata:/var/lib/postgresql/data' "the database's data is not in the named volume"
expect '^  pgdata: \{\}$|^  pgdata:$' "no named volume pgdata"
expect 'image: docker.io/axllent/mailpit:' "no Mailpit"
expect '127.0.0.1:8025:8025' "Mailpit's UI is not published"
expect '127.0.0.1:8000:8000' "the api is not published"
if grep -E '^\s*- (0\.0\.0\.0:)?[0-9]+:[0-9]+' <<<"$config"; then
  fail "a port is published on every address, not loopback"
fi
echo "ok: api (Dockerfile, after a healthy db), PostgreSQL 16 (health check, volume pgdata), Mailpit (UI on 127.0.0.1:8025)"
