#!/usr/bin/env bash
# Self-test of the hashicorp/aws stand-in: Go tests of provider/ (schema
# coverage of infrastructure/, fidelity facts, server behaviour), then
# terraform on the fixtures: a valid configuration validates, a mock_provider
# test passes, and a misspelt argument, wrong types, a missing required
# argument and too many blocks each fail with Terraform's own message. Last,
# a plan without mocks is refused.
#
#   bash infrastructure/testing/selftest.sh
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pass=0
fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

echo "--- go vet and go test (provider/)"
if (cd "$here/provider" && go vet ./... && go test -count=1 ./...); then ok "go test"; else bad "go test"; fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect NAME EXIT_STATUS [MESSAGE...]: validate.sh on fixtures/NAME exits
# with EXIT_STATUS (0 or non-zero) and prints every MESSAGE.
expect() {
  local name=$1 want=$2
  shift 2
  bash "$here/validate.sh" "$here/fixtures/$name" >"$out" 2>&1
  local rc=$?
  local good=1
  if [ "$want" = 0 ] && [ $rc -ne 0 ]; then good=0; fi
  if [ "$want" != 0 ] && [ $rc -eq 0 ]; then good=0; fi
  local msg
  for msg in "$@"; do
    # Terraform wraps long lines; compare with whitespace squeezed.
    tr -s ' \n' ' ' <"$out" | grep -qF -- "$msg" || { good=0; echo "  missing: $msg"; }
  done
  if [ $good = 1 ]; then
    ok "fixtures/$name (exit $rc)"
    for msg in "$@"; do echo "  found: $msg"; done
  else
    bad "fixtures/$name (exit $rc)"
    sed 's/^/  | /' "$out"
  fi
}

echo "--- terraform on fixtures/"
expect good 0 "Success! The configuration is valid."
expect mock-test 0 "Success! The configuration is valid." "2 passed, 0 failed."
expect misspelt 1 'An argument named "function_nme" is not expected here. Did you mean "function_name"?'
expect wrongtype 1 'Inappropriate value for attribute "timeout": a number is required.' \
  'Inappropriate value for attribute "name": string required.'
expect missing-required 1 'The argument "role" is required, but no definition was found.'
expect too-many-blocks 1 'No more than 1 "vpc_config" blocks are allowed'

echo "--- terraform plan without mocks is refused"
work=$(mktemp -d)
cp "$here/fixtures/good/main.tf" "$work/"
if (
  cd "$work" &&
    TF_CLI_CONFIG_FILE=$(bash "$here/install-provider.sh") &&
    export TF_CLI_CONFIG_FILE &&
    terraform init -input=false -no-color >/dev/null &&
    ! terraform plan -input=false -no-color >"$out" 2>&1 &&
    grep -qF "Error: this is a schema-only test provider, not for real deployments" "$out"
); then
  ok "plan refused: $(grep -m1 -F 'Error: this is a schema-only' "$out")"
else
  bad "plan without mocks was not refused"
  sed 's/^/  | /' "$out"
fi
rm -rf "$work"

echo "selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
