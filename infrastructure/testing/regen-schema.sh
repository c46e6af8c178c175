#!/usr/bin/env bash
# Regenerates provider/schema/aws-6.x.json: the hashicorp/aws schema of every
# type used by infrastructure/**/*.tf (and *.tftest.hcl, *.tfmock.hcl), plus
# those listed in provider/schema/types.txt, extracted from the pinned npm
# package below. Run it after adding a resource or data source type, then
# commit the JSON file.
#
#   bash infrastructure/testing/regen-schema.sh [extra types, e.g. resource.aws_s3_bucket data.aws_vpc]
#
# The package (37 MB packed, 130 MB jsii manifest) is kept in
# ~/.cache/icy-morning/npm, outside the repository.
set -euo pipefail

# @cdktf/provider-aws 21.22.1 was generated from hashicorp/aws 6.25.0 (its
# README says so; the generator reads the version from the doc links).
PACKAGE=@cdktf/provider-aws
VERSION=21.22.1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ICY_NPM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/icy-morning/npm}
pkgdir=$cache/cdktf-provider-aws-$VERSION/package

if [ ! -f "$pkgdir/.jsii" ]; then
  command -v npm >/dev/null || { echo "regen-schema: npm is needed once to fetch $PACKAGE@$VERSION" >&2; exit 1; }
  mkdir -p "$cache"
  tgz=$cache/cdktf-provider-aws-$VERSION.tgz
  if [ ! -f "$tgz" ]; then
    echo "regen-schema: fetching $PACKAGE@$VERSION" >&2
    (cd "$cache" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
  fi
  tmp=$(mktemp -d "$cache/extract.XXXXXX")
  tar -xzf "$tgz" -C "$tmp" package/.jsii package/package.json package/lib
  rm -rf "$cache/cdktf-provider-aws-$VERSION"
  mv "$tmp" "$cache/cdktf-provider-aws-$VERSION"
fi

extra=$(IFS=,; echo "$*")
cd "$here/provider"
go run ./cmd/genschema -package "$pkgdir" -scan ../.. -types-file schema/types.txt \
  -overlay schema/overlay.json ${extra:+-types "$extra"} -out schema/aws-6.x.json
go test -count=1 . >/dev/null
echo "regen-schema: provider/schema/aws-6.x.json is up to date; rerun install-provider.sh (validate.sh does) to rebuild the stand-in" >&2
