#!/usr/bin/env bash
# Installs the hashicorp/aws stand-in and runs `terraform init`, `terraform
# validate` and, when the configuration has test files, `terraform test` on a
# Terraform configuration, offline.
#
#   bash infrastructure/testing/validate.sh [--no-test] [CONFIG_DIR]
#
# CONFIG_DIR defaults to infrastructure/. The configuration is copied to a
# scratch directory first (without .terraform/, .terraform.lock.hcl, state
# files and infrastructure/testing/), so the stand-in's checksums never reach
# the lock file that real deployments use, and a committed lock file holding
# the real provider's checksums does not make init fail.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run_tests=1
if [ "${1:-}" = "--no-test" ]; then
  run_tests=0
  shift
fi
src=$(cd "${1:-$here/..}" && pwd)

TF_CLI_CONFIG_FILE=$(bash "$here/install-provider.sh")
export TF_CLI_CONFIG_FILE
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

if ! compgen -G "$src/*.tf" >/dev/null; then
  echo "validate: no .tf files in $src" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/icy-tf-validate.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Keep the folder's name: a configuration may refer to path.module and files beside it.
dst=$work/$(basename "$src")
mkdir -p "$dst"
tar -C "$src" --exclude=./.terraform --exclude=./.terraform.lock.hcl --exclude='*.tfstate' \
  --exclude='*.tfstate.backup' --exclude=./testing -cf - . | tar -C "$dst" -xf -

cd "$dst"
echo "--- terraform init ($src, hashicorp/aws from the stand-in)"
terraform init -backend=false -input=false -no-color >init.log 2>&1 || { cat init.log; exit 1; }
grep -E 'Installed hashicorp/aws|Installing hashicorp/aws|Using previously' init.log || true
echo "--- terraform validate"
terraform validate -no-color
if [ "$run_tests" = 1 ] && { compgen -G "*.tftest.hcl" >/dev/null || compgen -G "tests/*.tftest.hcl" >/dev/null; }; then
  echo "--- terraform test"
  terraform test -no-color
fi
