#!/usr/bin/env bash
# Offline checks of infrastructure/: terraform fmt, validate and test (against
# the stand-in aws provider of testing/), and the tfsec and trivy security
# scans. Installs the pinned scanners into $(go env GOPATH)/bin when they are
# missing or at another version, and reuses them otherwise.
#
#   scripts/ci-checks.sh [fmt|validate|test|scan|all]     (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

TFSEC_VERSION=v1.26.0
TRIVY_VERSION=v0.74.0
TF=${TF:-terraform}
GOBIN=$(go env GOPATH)/bin

step() { echo "--- infrastructure: $*"; }

# go_tool NAME PACKAGE VERSION [ENV...]: the path of NAME at VERSION, built if needed.
go_tool() {
  local name=$1 pkg=$2 version=$3
  shift 3
  local bin=$GOBIN/$name
  if [ -x "$bin" ] && [ "$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3 }')" = "$version" ]; then
    echo "$bin"
    return
  fi
  local start=$SECONDS
  echo "installing $name $version (first run only)" >&2
  env "$@" go install "$pkg@$version" >&2
  echo "installed $name $version in $((SECONDS - start)) s" >&2
  echo "$bin"
}

# validate and test run through testing/validate.sh (owned by testing/): it
# installs the schema-only stand-in for hashicorp/aws from a filesystem
# mirror and runs terraform init, validate and test in a scratch copy, so
# nothing it writes lands here.
stand_in() {
  if [ ! -f testing/validate.sh ]; then
    echo "testing/validate.sh is missing: the stand-in aws provider is not available" >&2
    exit 1
  fi
  bash testing/validate.sh "$@"
}

run_fmt() {
  step "terraform fmt -check -recursive"
  TF_CLI_CONFIG_FILE=/dev/null "$TF" fmt -check -recursive -diff
}

run_validate() {
  step "terraform validate (stand-in aws provider)"
  stand_in --no-test
}

# testing/validate.sh validates before it tests.
run_test() {
  step "terraform validate and test (stand-in aws provider)"
  stand_in
  step "make destroy-guard (stub terraform)"
  bash scripts/test-destroy-guard.sh
}

run_scan() {
  local tfsec trivy
  tfsec=$(go_tool tfsec github.com/aquasecurity/tfsec/cmd/tfsec "$TFSEC_VERSION")
  trivy=$(go_tool trivy github.com/aquasecurity/trivy/cmd/trivy "$TRIVY_VERSION" GOEXPERIMENT=jsonv2)

  # An empty cache makes trivy use the checks built into this version (with
  # --skip-check-update it never downloads a bundle), so results do not
  # depend on whatever bundle an earlier run left in ~/.cache/trivy.
  local trivy_cache
  trivy_cache=$(mktemp -d)
  trap 'rm -rf "$trivy_cache"' RETURN

  # Each scanner reads the configuration twice: with the defaults, and with
  # every optional feature switched on, so resources behind a count are seen.
  local vars
  for vars in "" tests/fixtures/all-features.tfvars; do
    step "tfsec $TFSEC_VERSION ${vars:-(defaults)}"
    "$tfsec" . --no-colour --exclude-path testing --minimum-severity HIGH ${vars:+--tfvars-file "$vars"}
    step "trivy config $TRIVY_VERSION ${vars:-(defaults)}"
    "$trivy" config --quiet --skip-check-update --cache-dir "$trivy_cache" --severity HIGH,CRITICAL --exit-code 1 \
      --skip-dirs testing --skip-dirs .terraform ${vars:+--tf-vars "$vars"} .
  done
}

case ${1:-all} in
  fmt) run_fmt ;;
  validate) run_validate ;;
  test) run_test ;;
  scan) run_scan ;;
  all)
    run_fmt
    run_test
    run_scan
    ;;
  *)
    echo "usage: $0 [fmt|validate|test|scan|all]" >&2
    exit 2
    ;;
esac
