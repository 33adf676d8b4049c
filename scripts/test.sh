#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install what is missing, build,
# start a private PostgreSQL under build/test-pg, run ctest (unit and db tests), stop it.
# Then the same suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer; a
# short run (25 s) of each libFuzzer target (scripts/fuzz.sh --short, clang, build-fuzz/);
# and one ingest-and-query session of the server under valgrind (scripts/valgrind.sh).
#   scripts/test.sh            all four
#   scripts/test.sh --fast     the plain build only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/deps.sh --test

pgdir=$root/build/test-pg
rm -rf "$pgdir"
mkdir -p "$pgdir"
export TEST_DATABASE_URL=$(scripts/pg.sh start "$pgdir")
export TEST_PG_DIR=$pgdir
trap 'scripts/pg.sh stop "$pgdir"' EXIT

run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  (cd "$dir" && ctest --output-on-failure -j2 --timeout 900)
}

echo "== tests (build/)"
run_suite build
if [ "${1:-}" != "--fast" ]; then
  echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCDLENS_SANITIZE=ON
  echo "== fuzz targets, 25 s each (scripts/fuzz.sh --short)"
  scripts/fuzz.sh --short
  echo "== the server under valgrind, one ingest-and-query session (scripts/valgrind.sh)"
  scripts/valgrind.sh
fi
