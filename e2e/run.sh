#!/usr/bin/env bash
# Browser end-to-end test of the API docs page (/docs): installs what it needs
# (headless Chromium from Debian's packages, the pinned playwright-core from
# e2e/package-lock.json), builds the binary and runs e2e/docs.test.mjs.
#
# Usage, from anywhere (e.g. the repository root of a clean clone):
#   bash e2e/run.sh
#
# Environment (optional):
#   SKIP_BUILD=1     use the existing bin/icy-morning instead of building it
#   CHROMIUM_PATH    browser to use (default /usr/bin/chromium)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_get runs apt-get, waiting for (and retrying on) a lock held by another
# apt or dpkg run.
apt_get() {
  local try
  for try in 1 2 3 4 5; do
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 "$@"; then
      return 0
    fi
    log "apt-get $* failed (try $try of 5); retrying in 10 s"
    sleep 10
  done
  return 1
}

# 1. Headless Chromium.
if [ ! -x "$chromium_path" ]; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
    exit 1
  fi
  log "installing chromium (Debian package)"
  apt_get update
  apt_get install -y --no-install-recommends chromium
  [ -x "$chromium_path" ] || { echo "chromium was installed but $chromium_path is missing" >&2; exit 1; }
fi
log "$("$chromium_path" --version 2>/dev/null | tail -n 1)"

# 2. Node and the pinned playwright-core (it never downloads a browser: the
#    test drives the Chromium above).
command -v node >/dev/null || { echo "node (20 or newer) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "node 20 or newer is required, found $(node --version)" >&2
  exit 1
fi
log "npm ci in e2e/"
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)

# 3. The binary under test.
if [ "${SKIP_BUILD:-}" != 1 ]; then
  log "building bin/icy-morning"
  (cd "$root" && CGO_ENABLED=0 go build -o bin/icy-morning ./cmd/icy-morning)
fi

# 4. The test. It bounds itself to < 60 s; the outer timeout only guards
#    against a hung Node process.
log "running docs.test.mjs"
cd "$here"
export ICY_MORNING_BIN="$root/bin/icy-morning" CHROMIUM_PATH="$chromium_path"
timeout --kill-after=5 90 node --test docs.test.mjs
