#!/usr/bin/env bash
# Install the Debian 12 packages cdlens needs to build, run and test, if any are missing.
# Idempotent: does nothing (and needs no network) when everything is present.
# Usage: scripts/deps.sh [--test]   (--test adds what only the test suite needs)
set -euo pipefail

# libjs-chart.js: Chart.js, embedded into the binary by the build for the dashboards;
# libssl-dev: OpenSSL, for HTTPS (--tls-cert: web/tls.c)
pkgs=(build-essential cmake pkg-config libpq-dev libcjson-dev libcivetweb-dev libssl-dev
      postgresql postgresql-contrib libjs-chart.js curl ca-certificates)
if [ "${1:-}" = "--test" ]; then
  # chromium: the dashboard pages are tested in a real browser (driven by playwright-core)
  pkgs+=(libcmocka-dev util-linux chromium)
  # openssl: the command-line tool, which makes the certificates of the HTTPS test
  pkgs+=(openssl)
  # clang and its libFuzzer runtime (libclang_rt.fuzzer, in libclang-rt-14-dev): the fuzz
  # targets of tests/fuzz/, built and run by scripts/fuzz.sh
  pkgs+=(clang libclang-rt-dev)
  # valgrind: scripts/valgrind.sh, the server leak-free under memcheck for a whole session
  pkgs+=(valgrind)
  # node and npm (for the CloudEvents JS SDK test): Debian's packages unless the machine
  # already has them from elsewhere (the two conflict)
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
