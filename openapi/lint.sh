#!/usr/bin/env bash
# make lint's checks of the OpenAPI document: Redocly's recommended rules
# (redocly.yaml) on the document as each AUTH_TYPE publishes it, failing on
# any error or warning, and the generated Go client is what the generator
# makes of the document now.
#
# Usage, from the repository root after `make init`: bash openapi/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

redocly=openapi/node_modules/.bin/redocly
[ -x "$redocly" ] || { echo "$redocly is missing: run make init" >&2; exit 1; }

docs="$(mktemp -d)"
trap 'rm -rf "$docs"' EXIT
# The document of AUTH_TYPE=basic, from the command that prints what the
# server serves; and those of jwt and basic,jwt (with the docs login),
# which need an issuer: the httpapi test that checks their words runs one
# and writes them.
go run ./cmd/icy-morning openapi > "$docs/openapi.json"
if ! out="$(go test -count=1 -run '^TestDocumentIsDescribed$' ./httpapi -args -write-documents="$docs" 2>&1)"; then
  echo "$out" >&2
  exit 1
fi

failed=0
for doc in "$docs"/openapi.json "$docs"/openapi-jwt.json "$docs"/openapi-basic-jwt.json; do
  [ -s "$doc" ] || { echo "$doc was not written" >&2; exit 1; }
  echo "redocly lint $(basename "$doc")"
  # Redocly exits non-zero on errors only; its totals count the warnings.
  totals="$("$redocly" lint --config openapi/redocly.yaml --format=json "$doc" 2>/dev/null |
    node -e 'const t = JSON.parse(require("fs").readFileSync(0)).totals; console.log(t.errors + " " + t.warnings)')" || true
  read -r errors warnings <<<"${totals:-x x}"
  if [ "$errors" != 0 ] || [ "$warnings" != 0 ]; then
    "$redocly" lint --config openapi/redocly.yaml "$doc" 2>/dev/null || true
    echo "$(basename "$doc"): ${errors} errors and ${warnings} warnings from Redocly's recommended rules" >&2
    failed=1
  fi
done

echo "go generate ./openapi/goclient (the generated Go client must be up to date)"
go generate ./openapi/goclient
if ! git diff --exit-code --stat -- openapi/goclient; then
  echo "openapi/goclient/client.gen.go is stale: commit what go generate ./openapi/goclient wrote" >&2
  failed=1
fi
exit "$failed"
