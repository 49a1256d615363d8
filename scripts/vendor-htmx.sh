#!/usr/bin/env bash
# Re-vendors htmx from the npm registry. Pinned to the 2.x line on purpose: htmx 4 changes
# how hx-headers is inherited, and our CSRF token travels in hx-headers on <body>.
set -euo pipefail
HTMX_VERSION=2.0.11
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null && tar xzf htmx.org-*.tgz)
cp "$tmp/package/dist/htmx.min.js" "$here/static/js/htmx.min.js"
echo "htmx ${HTMX_VERSION} -> static/js/htmx.min.js"
