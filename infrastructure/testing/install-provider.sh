#!/usr/bin/env bash
# Builds the schema-only hashicorp/aws stand-in (provider/) and installs it in
# a filesystem mirror with a Terraform CLI configuration that uses it, so that
# `terraform init` needs no network for hashicorp/aws. Idempotent: rebuilds
# only when the provider's sources or schema change.
#
#   bash infrastructure/testing/install-provider.sh          # prints the CLI config path
#   eval "$(bash infrastructure/testing/install-provider.sh --env)"   # exports TF_CLI_CONFIG_FILE
#
# Everything goes under $ICY_TF_STANDIN_DIR (default ~/.cache/icy-morning/tf-aws-standin):
#   mirror/<default registry host>/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_v<version>
#   terraformrc      the CLI configuration (filesystem_mirror for hashicorp/aws, direct for the rest)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prov=$here/provider
cache=${ICY_TF_STANDIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/icy-morning/tf-aws-standin}
schema=$prov/schema/aws-6.x.json

command -v go >/dev/null || { echo "install-provider: go is not on PATH" >&2; exit 1; }
command -v terraform >/dev/null || { echo "install-provider: terraform is not on PATH" >&2; exit 1; }

version=$(sed -n 's/^ *"provider_version": "\([0-9][0-9.]*\)".*/\1/p' "$schema" | head -n1)
[ -n "$version" ] || { echo "install-provider: no provider_version in $schema" >&2; exit 1; }

mkdir -p "$cache"

# The mirror is laid out by provider source address, whose host part is
# Terraform's default registry. Ask Terraform for it rather than spelling it
# out: `terraform providers` prints the full address of "hashicorp/aws".
host_file=$cache/default-registry-host
if [ ! -s "$host_file" ]; then
  probe=$(mktemp -d)
  printf 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n' >"$probe/main.tf"
  (cd "$probe" && TF_CLI_CONFIG_FILE=/dev/null terraform providers -no-color 2>/dev/null || true) |
    sed -n 's|.*provider\[\([^]/]*\)/hashicorp/aws\].*|\1|p' | head -n1 >"$host_file"
  rm -rf "$probe"
  [ -s "$host_file" ] || { echo "install-provider: could not learn the default registry host from terraform" >&2; rm -f "$host_file"; exit 1; }
fi
host=$(cat "$host_file")

platform=$(go env GOOS)_$(go env GOARCH)
dir=$cache/mirror/$host/hashicorp/aws/$version/$platform
bin=$dir/terraform-provider-aws_v$version

# Rebuild when any source file of the provider module changes.
key=$(cd "$prov" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name 'aws-6.x.json' \) -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ "$(cat "$cache/build.key" 2>/dev/null)" = "$key" ]; then
  : # up to date
else
  echo "install-provider: building the hashicorp/aws $version stand-in" >&2
  # A version directory may hold only that version's binary; drop other builds.
  rm -rf "$cache/mirror"
  mkdir -p "$dir"
  (cd "$prov" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
  echo "$key" >"$cache/build.key"
fi

cfg=$cache/terraformrc
cat >"$cfg.tmp" <<EOF
# Written by infrastructure/testing/install-provider.sh: hashicorp/aws comes
# from the schema-only stand-in in the mirror below, never from the network.
provider_installation {
  filesystem_mirror {
    path    = "$cache/mirror"
    include = ["hashicorp/aws"]
  }
  direct {
    exclude = ["hashicorp/aws"]
  }
}
EOF
mv "$cfg.tmp" "$cfg"

if [ "${1:-}" = "--env" ]; then
  printf 'export TF_CLI_CONFIG_FILE=%q\n' "$cfg"
else
  echo "$cfg"
fi
