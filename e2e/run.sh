#!/usr/bin/env bash
# Browser end-to-end tests: the API docs page (/docs, e2e/docs.test.mjs),
# logging in to it through an OpenID Connect provider with PKCE
# (e2e/sso.test.mjs, against mockoidc from e2e/mockissuer), and a
# subscriber's path through sign-up, confirmation, a notification and
# unsubscribing, with mail through Mailpit (e2e/subscribe.test.mjs). Installs
# what it can (headless Chromium and sqlite3 from Debian's packages, the
# pinned playwright-core from e2e/package-lock.json), checks that Mailpit is
# installed (`make init` puts it in .tools/bin), builds the binaries and runs
# the tests.
#
# Usage, from anywhere (e.g. the repository root of a clean clone, after
# `make init`):
#   bash e2e/run.sh
#
# Environment (optional):
#   SKIP_BUILD=1     use the existing bin/icy-morning instead of building it
#   CHROMIUM_PATH    browser to use (default /usr/bin/chromium)
#   MAILPIT_BIN      Mailpit to use (default .tools/bin/mailpit)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
mailpit_bin="${MAILPIT_BIN:-$root/.tools/bin/mailpit}"

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

# 1. Mailpit, the SMTP server subscribe.test.mjs mails through and reads
#    back from. Not installed here: `make init` installs the version the
#    Go tests use too. Checked first, before anything is installed.
if [ ! -x "$mailpit_bin" ]; then
  if [ -n "${MAILPIT_BIN:-}" ]; then
    echo "MAILPIT_BIN=$MAILPIT_BIN is not an executable file" >&2
  else
    echo "Mailpit is missing ($mailpit_bin): run \`make init\` in $root, which installs it there" >&2
  fi
  exit 1
fi
mailpit_bin="$(cd "$(dirname "$mailpit_bin")" && pwd)/$(basename "$mailpit_bin")" # the tests run from e2e/

# 2. Headless Chromium.
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

# sqlite3, with which sso.test.mjs reads who the rows say made them.
if ! command -v sqlite3 >/dev/null; then
  log "installing sqlite3 (Debian package)"
  apt_get update
  apt_get install -y --no-install-recommends sqlite3
fi

# 3. Node and the pinned playwright-core (it never downloads a browser: the
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

# 4. The binary under test, and the OpenID Connect provider sso.test.mjs
#    logs in through (mockoidc, from the module's own dependencies).
if [ "${SKIP_BUILD:-}" != 1 ]; then
  log "building bin/icy-morning"
  (cd "$root" && CGO_ENABLED=0 go build -o bin/icy-morning ./cmd/icy-morning)
fi
log "building bin/mockissuer"
(cd "$root" && go build -o bin/mockissuer ./e2e/mockissuer)

# 5. The tests, one file after the other (each starts its own server and
#    browser). Each file bounds itself to < 60 s; the outer timeout only
#    guards against a hung Node process.
log "running docs.test.mjs, sso.test.mjs and subscribe.test.mjs"
cd "$here"
export ICY_MORNING_BIN="$root/bin/icy-morning" CHROMIUM_PATH="$chromium_path" MAILPIT_BIN="$mailpit_bin" MOCKISSUER_BIN="$root/bin/mockissuer"
timeout --kill-after=5 210 node --test --test-concurrency=1 docs.test.mjs sso.test.mjs subscribe.test.mjs
