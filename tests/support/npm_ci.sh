#!/usr/bin/env bash
# tests/support/npm_ci.sh DIR PACKAGE: make sure DIR/node_modules holds PACKAGE at the version
# DIR/package.json pins, installing it from DIR/package-lock.json (npm ci) when it does not.
# Needs node; npm and the npm registry only on the first run. Runs under a lock: the plain and
# the sanitizer test runs share the source tree.
set -euo pipefail
dir=${1:?usage: npm_ci.sh DIR PACKAGE}
pkg=${2:?usage: npm_ci.sh DIR PACKAGE}
command -v node >/dev/null || { echo "npm_ci.sh: node is not installed (scripts/deps.sh --test installs it)" >&2; exit 1; }
pinned=$(node -p 'require(process.argv[1]).dependencies[process.argv[2]]' "$dir/package.json" "$pkg")
installed() { node -p 'require(process.argv[1]).version' "$dir/node_modules/$pkg/package.json" 2>/dev/null || true; }
exec 9>"${TMPDIR:-/tmp}/cdlens-npm-$(basename "$dir").lock"
flock 9
if [ "$(installed)" != "$pinned" ]; then
  command -v npm >/dev/null || { echo "npm_ci.sh: npm is not installed (scripts/deps.sh --test installs it)" >&2; exit 1; }
  (cd "$dir" && npm ci --no-audit --no-fund) || { echo "npm_ci.sh: npm ci failed in $dir" >&2; exit 1; }
  [ "$(installed)" = "$pinned" ] || { echo "npm_ci.sh: npm ci did not install $pkg $pinned" >&2; exit 1; }
fi
