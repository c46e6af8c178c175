#!/usr/bin/env bash
# Refresh the vendored Swagger UI assets embedded by internal/swaggerui.
#
# Usage: scripts/update-swagger-ui.sh [VERSION]
#
# Downloads the npm package swagger-ui-dist@VERSION with `npm pack` into a
# temporary directory and copies only the files the docs page needs into
# internal/swaggerui/dist/. No source maps, no upstream index.html or
# initializer (the package has its own index page), no standalone preset.
# Review the diff and run `go test ./internal/swaggerui/` afterwards.
set -euo pipefail

VERSION="${1:-5.35.0}"

if ! [[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "error: version must be an exact X.Y.Z version, got '$VERSION'" >&2
	exit 2
fi
command -v npm >/dev/null || { echo "error: npm is required" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/internal/swaggerui/dist"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm pack --silent "swagger-ui-dist@${VERSION}" >/dev/null)
TARBALL="$TMP/swagger-ui-dist-${VERSION}.tgz"
[[ -f "$TARBALL" ]] || { echo "error: npm pack did not produce $TARBALL" >&2; exit 1; }
tar -xzf "$TARBALL" -C "$TMP"
PKG="$TMP/package"

got="$(node -p 'require(process.argv[1]).version' "$PKG/package.json" 2>/dev/null || true)"
if [[ -n "$got" && "$got" != "$VERSION" ]]; then
	echo "error: unpacked package is version $got, expected $VERSION" >&2
	exit 1
fi

# Files are copied byte for byte (so they can be checked against the npm
# tarball). swagger-ui-bundle.js.LICENSE.txt holds the licence notices of the
# third-party code inside the bundle, which the bundle's first line points to.
FILES=(
	swagger-ui-bundle.js
	swagger-ui-bundle.js.LICENSE.txt
	swagger-ui.css
	favicon-32x32.png
	oauth2-redirect.html
	oauth2-redirect.js
	LICENSE
)
OPTIONAL=(NOTICE)

mkdir -p "$DEST"
# Remove previously vendored upstream files (keep nothing stale).
for f in "${FILES[@]}" "${OPTIONAL[@]}" VERSION; do
	rm -f "$DEST/$f"
done

for f in "${FILES[@]}"; do
	[[ -f "$PKG/$f" ]] || { echo "error: $f missing from swagger-ui-dist@$VERSION" >&2; exit 1; }
	cp "$PKG/$f" "$DEST/$f"
done
for f in "${OPTIONAL[@]}"; do
	if [[ -f "$PKG/$f" ]]; then
		cp "$PKG/$f" "$DEST/$f"
	fi
done

echo "$VERSION" >"$DEST/VERSION"

echo "swagger-ui-dist@$VERSION vendored into ${DEST#"$ROOT"/}:"
ls -l "$DEST"
