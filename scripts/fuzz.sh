#!/usr/bin/env bash
# Build the libFuzzer targets of tests/fuzz/ with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer) in build-fuzz/ and run each from its seed corpus.
#   scripts/fuzz.sh --short            25 s per target (part of scripts/test.sh)
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#                                      long runs: SECONDS per target (default 600), one target
#                                      after the other; TARGET is envelope, purl or query
# Any crash, leak, sanitizer report or broken invariant fails the script. The input that
# caused it is saved as build-fuzz/crashes/<target>/crash-<sha1> (or leak-, timeout-, oom-);
# reproduce it with one command:
#   build-fuzz/tests/fuzz/fuzz_<target> build-fuzz/crashes/<target>/crash-<sha1>
# Inputs that reach new code accumulate in build-fuzz/corpus/<target>/ from run to run.
# Seeds come from the vendored data in tests/data/ (built into build-fuzz/seeds/ below) and
# from tests/fuzz/regressions/<target>/ (inputs that once failed; each must keep passing).
# More: docs/RELIABILITY.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
targets=(envelope purl query)
seconds=600
if [ "${1:-}" = "--short" ]; then
  seconds=25
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
[ $# -gt 0 ] && targets=("$@")

scripts/deps.sh --test

# Inputs for fuzz_envelope: the request format of tests/data/corpus-requests/ (headers, an
# empty line, the body). Every vendored CDEvent as a bare event; the spec's examples also in
# structured (data and data_base64), batch and binary mode.
seed_envelope() { # dir
  local out=$1 n=0 f ce='{"specversion":"1.0","id":"fuzz-1","source":"/fuzz","type":"dev.cdevents.fuzz"'
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    { printf 'Content-Type: application/json\n\n'; cat "$f"; } >"$out/bare-$n"
  done < <(find tests/data/cdevents-spec tests/data/cdevents-corpus -name '*.json' \
             -not -path '*/schemas/*' -print0 | sort -z)
  for f in tests/data/cdevents-spec/*/conformance/*.json tests/data/cdevents-spec/*/custom/*.json; do
    n=$((n + 1))
    { printf 'Content-Type: application/cloudevents+json\n\n%s,"data":' "$ce"; cat "$f"; printf '}'; } >"$out/structured-$n"
    { printf 'Content-Type: application/cloudevents+json\n\n%s,"data_base64":"' "$ce"
      base64 -w0 "$f"; printf '"}'; } >"$out/base64-$n"
    { printf 'Content-Type: application/cloudevents-batch+json\n\n[%s,"data":' "$ce"; cat "$f"
      printf '},%s,"data":' "$ce"; cat "$f"; printf '}]'; } >"$out/batch-$n"
    { printf 'ce-specversion: 1.0\nce-id: fuzz-1\nce-source: %%2Ffuzz\nce-type: dev.cdevents.fuzz\n'
      printf 'ce-time: 2024-01-02T03:04:05Z\nContent-Type: application/json\n\n'; cat "$f"; } >"$out/binary-$n"
  done
}

# Inputs for fuzz_purl: every purl string in the purl-spec tests and the CDEvents data.
seed_purl() { # dir
  { grep -rhoE '"pkg:[^"]*"' tests/data/purl-spec tests/data/cdevents-spec tests/data/cdevents-corpus
    grep -rhoE '"(input|expected_output)": *"[^"]*"' tests/data/purl-spec | sed 's/^"[a-z_]*": *//'
  } | sed 's/^"//; s/"$//' | sort -u |
    awk -v dir="$1" '{ f = dir "/purl-" NR; printf "%s", $0 > f; close(f) }'
}

# Inputs for fuzz_query: the query strings of the README and docs/, the first column of
# tests/web/test_query.c's table, and a few DORA parameter sets.
seed_query() { # dir
  { grep -ohE "\?[A-Za-z_]+=[^] '\")\`<>|]*" README.md docs/*.md | sed 's/^?//'
    sed -nE 's/^\s*\{"([^"]*)", .*/\1/p' tests/web/test_query.c
    printf '%s\n' 'from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00%2B01:00&bucket=day&report=2023' \
      'service=shop&service=cart&environment=eu%2Fprod&environment=us/prod&format=csv' \
      'from=2016-01-01T00:00:00Z&to=2026-01-01T00:00:00Z' 'to=2026-01-01T00:00:00Z&bucket=week'
  } | sort -u | awk -v dir="$1" '{ f = dir "/query-" NR; printf "%s", $0 > f; close(f) }'
}

build_seeds() {
  local stamp=$build/seeds/.stamp t
  if [ -f "$stamp" ] && [ -z "$(find tests/data README.md docs tests/web/test_query.c \
                                   -newer "$stamp" -print -quit)" ]; then
    return
  fi
  rm -rf "$build/seeds"
  for t in envelope purl query; do
    mkdir -p "$build/seeds/$t"
    "seed_$t" "$build/seeds/$t"
  done
  touch "$stamp"
}

echo "== fuzz targets (clang, libFuzzer + ASan + UBSan) in $build/"
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDLENS_FUZZ=ON \
  -DCDLENS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz
build_seeds

declare -A max_len=([envelope]=65536 [purl]=4200 [query]=8192)
failed=()
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "unknown target \"$t\" (envelope, purl, query)" >&2; exit 2; }
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  echo "== fuzz_$t: $seconds s"
  # seeds for corpus-requests are the .req files as they are
  extra=()
  [ "$t" = envelope ] && extra=(tests/data/corpus-requests)
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="${max_len[$t]}" -dict="tests/fuzz/$t.dict" -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$t/" \
      "$build/corpus/$t" "$build/seeds/$t" "tests/fuzz/regressions/$t" "${extra[@]}" \
      >"$build/fuzz-$t.log" 2>&1; then
    failed+=("$t")
    grep -aE 'ERROR|invariant failed|SUMMARY|Test unit written' "$build/fuzz-$t.log" >&2 || true
  fi
  grep -aE '^#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec)' \
    "$build/fuzz-$t.log" || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]} (logs: $build/fuzz-<target>.log, inputs: $build/crashes/)" >&2
  exit 1
fi
