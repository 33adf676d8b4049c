#!/usr/bin/env bash
# cdlens under valgrind for one ingest-and-query session (issue 6): a debug build without
# sanitizers (build-valgrind/), a private PostgreSQL (build-valgrind/pg), the server under
# memcheck; events posted in all four modes, the hostile corpus of tests/data/hostile/
# replayed, every read endpoint and page queried, then SIGTERM. Fails on any valgrind error,
# on a definite or indirect leak, on a server exit status other than 0, and on an answer
# that is not the one expected.
#   scripts/valgrind.sh                 the session under valgrind (under a minute once built)
#   scripts/valgrind.sh --no-valgrind   the same session without it (checks the script)
# Needs Debian's valgrind package (scripts/deps.sh --test installs it). Suppressions, each
# for a third-party library and explained: scripts/valgrind.supp.
# Output: build-valgrind/session/{valgrind.log,server.log,hostile.log}. Part of
# scripts/test.sh (about a minute once built); results in docs/RELIABILITY.md, "Valgrind".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=build-valgrind
out=$root/$build/session
token=test-secret-1 # the tests' ingest token: the .raw files of the corpus carry it
reader=valgrind-reader-1
use_valgrind=1
[ "${1:-}" = "--no-valgrind" ] && use_valgrind=0

if [ $use_valgrind = 1 ] && ! command -v valgrind >/dev/null; then
  echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 1
fi
scripts/deps.sh
start=$(date +%s)
cmake -S . -B $build -DCMAKE_BUILD_TYPE=Debug -DCDLENS_SANITIZE=OFF -DCDLENS_BUILD_TESTS=OFF >/dev/null
cmake --build $build -j"$(nproc)" --target cdlens >/dev/null

rm -rf "$out" "$root/$build/pg"
mkdir -p "$out"
db=$(scripts/pg.sh start "$root/$build/pg")
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  scripts/pg.sh stop "$root/$build/pg"
}
trap cleanup EXIT

port=
for _ in $(seq 100); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "valgrind.sh: no free port" >&2; exit 1; }
base=http://127.0.0.1:$port

run=()
if [ $use_valgrind = 1 ]; then
  run=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
       --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=40
       --track-fds=no --suppressions=scripts/valgrind.supp --log-file="$out/valgrind.log")
fi
"${run[@]}" "$build/web/cdlens" serve --database-url "$db" --listen "127.0.0.1:$port" \
  --ingest-tokens="valgrind:$token" --read-tokens="reader:$reader" --max-batch=50 \
  --http-threads=16 --db-pool=2 --committers=2 --log-level=warn >"$out/server.log" 2>&1 &
pid=$!

fail() {
  echo "valgrind.sh: $*" >&2
  exit 1
}

# wait until GET /readyz answers 200 and shows nothing queued (with "idle")
wait_ready() { # seconds [idle]
  local body
  for _ in $(seq $(($1 * 2))); do
    kill -0 "$pid" 2>/dev/null || fail "the server exited; see $out/server.log"
    body=$(curl -s "$base/readyz" || true)
    if [[ $body == *'"status":"ready"'* ]] && { [ -z "${2:-}" ] ||
      [[ $body == *'"queued_events":0,'*'"pending_events":0,'* ]]; }; then
      return 0
    fi
    sleep 0.5
  done
  fail "not ready after $1 s: $body"
}

# one request with curl; fails unless the status is one of the expected ("202|200")
count=0
call() { # expected-status curl-args...
  local want=$1 got
  shift
  got=$(curl -sS -o /dev/null -w '%{http_code}' "$@" || true)
  count=$((count + 1))
  [[ "|$want|" == *"|$got|"* ]] || fail "expected $want, got $got: curl $*"
}
ingest() { call 202 -X POST "$base/api/v1/events" -H "Authorization: Bearer $token" "$@"; }
read_api() { call "$1" -H "Authorization: Bearer $reader" "$base$2" "${@:3}"; }

wait_ready 300
echo "== server up under ${run[0]:-no valgrind} after $(($(date +%s) - start)) s (port $port)"

# ---- ingest, all four modes ----
n=0
while IFS= read -r line; do # bare
  ingest -H 'Content-Type: application/json' --data-binary "$line"
done <tests/data/scenarios/checkout.jsonl
while IFS= read -r line; do # binary: the CDEvent wins over the headers
  n=$((n + 1))
  ingest -H 'Content-Type: application/json; charset=utf-8' -H 'ce-specversion: 1.0' \
    -H "ce-id: vg-binary-$n" -H 'ce-source: %2Fvalgrind' -H 'ce-type: dev.cdevents.x' \
    --data-binary "$line"
done <tests/data/pipelines/runs.jsonl
ce='"specversion":"1.0","source":"/valgrind","type":"dev.cdevents.x"'
while IFS= read -r line; do # structured, data and data_base64
  n=$((n + 1))
  ingest -H 'Content-Type: application/cloudevents+json' \
    --data-binary "{$ce,\"id\":\"vg-$n\",\"datacontenttype\":\"application/json\",\"data\":$line}"
  ingest -H 'Content-Type: application/cloudevents+json' \
    --data-binary "{$ce,\"id\":\"vg-b64-$n\",\"data_base64\":\"$(printf '%s' "$line" | base64 -w0)\"}"
done <tests/data/stages/stages.jsonl
batch= # batch: the spec's conformance examples (they share an id: duplicates)
for f in tests/data/cdevents-spec/0.5.1/conformance/*.json; do
  n=$((n + 1))
  batch+="${batch:+,}{$ce,\"id\":\"vg-$n\",\"data\":$(tr -d '\n' <"$f")}"
  [ $((n % 20)) = 0 ] && { ingest -H 'Content-Type: application/cloudevents-batch+json' --data-binary "[$batch]"; batch=; }
done
[ -n "$batch" ] && ingest -H 'Content-Type: application/cloudevents-batch+json' --data-binary "[$batch]"
ingest -H 'Content-Type: application/cloudevents-batch+json' --data-binary '[]'
echo "== $count ingest requests answered 202"

# ---- the hostile corpus: every file of tests/data/hostile/ (INDEX.md: the format) ----
# Read one response from fd 3: its status ("none" without a status line, or none within
# 15 s: http-chunk-size-overflows-body announces 16 MiB, and this sender cannot half-close).
read_status() {
  local line status=none len=0
  if IFS= read -r -t 15 line <&3 && [[ $line =~ ^HTTP/[0-9]\.[0-9]\ ([0-9]{3}) ]]; then
    status=${BASH_REMATCH[1]}
    while IFS= read -r -t 15 line <&3 && [ "${line%$'\r'}" != "" ]; do
      [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]] && len=${BASH_REMATCH[1]}
    done
    [ "$len" -gt 0 ] && head -c "$len" <&3 >/dev/null
  fi
  echo "$status"
}
# A .req file as bytes: Host, token and Content-Length where the file has none, and
# Connection: close so that the server ends the connection after its answer.
send_req() { # file
  local f=$1 off size rl="POST /api/v1/events HTTP/1.1" line first=1 host= auth= len= hdrs=()
  off=$(LC_ALL=C grep -abxm1 '' "$f" | cut -d: -f1)
  size=$(stat -c %s "$f")
  while IFS= read -r line; do
    local before_space=${line%% *} before_colon=${line%%:*}
    if [ $first = 1 ] && [[ $line == *" "* ]] && [ ${#before_space} -lt ${#before_colon} ]; then
      rl=$line # a request line: a space before any ':'

    else
      hdrs+=("$line")
      case ${line,,} in host:*) host=1 ;; authorization:*) auth=1 ;;
        content-length:* | transfer-encoding:*) len=1 ;; esac
    fi
    first=0
  done < <(head -c "$off" "$f")
  {
    printf '%s\r\n' "$rl"
    [ -n "$host" ] || printf 'Host: 127.0.0.1\r\n'
    # the ingest token, or the read token for the rest (the test runs with reads open)
    [ -n "$auth" ] || printf 'Authorization: Bearer %s\r\n' "$([[ $rl == POST\ * ]] && echo $token || echo $reader)"
    for line in "${hdrs[@]}"; do printf '%s\r\n' "$line"; done
    if [ -z "$len" ] && { [ $((size - off - 1)) -gt 0 ] || [[ $rl == POST\ * ]]; }; then
      printf 'Content-Length: %d\r\n' $((size - off - 1))
    fi
    printf 'Connection: close\r\n\r\n'
    tail -c +$((off + 2)) "$f"
  } >&3 2>/dev/null || true
}
declare -A statuses=()
for f in tests/data/hostile/*.req tests/data/hostile/*.raw; do
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  # in a subshell: the server may close while we send (413), and SIGPIPE would end us
  if [[ $f == *.req ]]; then (send_req "$f") || true; else cat "$f" >&3 2>/dev/null || true; fi
  st=$(read_status)
  exec 3<&- 3>&-
  echo "$(basename "$f") $st" >>"$out/hostile.log"
  statuses[$st]=$((${statuses[$st]:-0} + 1))
  [[ $st == 4?? || $st == 505 || $st == none ]] || fail "$f: answered $st"
done
summary=
for st in $(printf '%s\n' "${!statuses[@]}" | sort); do summary+=" $st:${statuses[$st]}"; done
echo "== hostile corpus: $(wc -l <"$out/hostile.log") requests, statuses$summary"

# the test's largest cases, generated: over the limit (Content-Length, chunked), 10 000
# levels of nesting, a 900 KB context.id
head -c 1048577 /dev/zero | tr '\0' x >"$out/big.json"
{ printf '[%.0s' $(seq 10000); printf ']%.0s' $(seq 10000); } >"$out/deep.json"
{ printf '{"context":{"specversion":"0.5.1","id":"'
  head -c 700000 /dev/urandom | base64 -w0
  printf '","source":"/v","type":"dev.cdevents.build.queued.0.3.0","timestamp":"2026-01-02T03:04:05Z"},"subject":{"id":"s"}}'
} >"$out/huge-id.json"
hostile() { call "$1" -X POST "$base/api/v1/events" -H "Authorization: Bearer $token" "${@:2}"; }
hostile 413 -H 'Content-Type: application/json' --data-binary @"$out/big.json"
hostile 413 -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$out/big.json"
hostile 400 -H 'Content-Type: application/cloudevents-batch+json' --data-binary @"$out/deep.json"
hostile 400 -H 'Content-Type: application/json' --data-binary @"$out/huge-id.json"

# ---- every read endpoint and page, once correlated ----
wait_ready 300 idle
from='from=2026-01-01T00:00:00Z&to=2026-07-01T00:00:00Z'
read_api 200 "/api/v1/dora?$from&bucket=week"
read_api 200 "/api/v1/dora?$from&bucket=month"
read_api 200 "/api/v1/dora?$from&environment=prod&service=shop&report=2024"
read_api 200 "/api/v1/dora/services?$from"
read_api 200 "/api/v1/dora/services?$from" -H 'Accept: text/csv'
for list in deployments changes incidents; do
  read_api 200 "/api/v1/$list?$from"
  read_api 200 "/api/v1/$list?$from&format=csv"
  read_api 200 "/api/v1/$list?$from&service=shop&environment=prod" -H 'Accept: text/csv'
done
read_api 200 "/api/v1/trace?change=101&repository=https://github.com/acme/shop.git"
read_api 200 "/api/v1/trace?artifact=pkg:oci/shop@sha256%253Accc3%3Frepository_url%3Dghcr.io%2Facme%2Fshop"
read_api 200 "/api/v1/trace?deployment=d-prod-2"
read_api 404 "/api/v1/trace?chain=no-such-chain"
read_api 200 "/api/v1/pipeline-runs?$from"
read_api 200 "/api/v1/pipeline-runs?$from&format=csv&limit=5&pipeline=build"
read_api 200 "/api/v1/pipeline-runs/run?id=b-1&source=%2Fci%2Fjenkins"
read_api 404 "/api/v1/pipeline-runs/run?id=nope&source=nope"
read_api 200 /metrics
read_api 200 /api/v1/openapi.json
for page in / /lead-time /deployments /pipelines /trace; do read_api 200 "$page"; done
for asset in web/static/*.js web/static/*.css; do
  etag=$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $reader" "$base/static/${asset##*/}" |
    tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  read_api 304 "/static/${asset##*/}" -H "If-None-Match: $etag"
done
read_api 200 /api/v1/openapi.json -I
call 200 -u "anyone:$reader" "$base/api/v1/dora"
call 401 "$base/api/v1/dora"
call 200 "$base/healthz"
echo "== $count requests with curl, all answered as expected"

# ---- stop ----
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
elapsed=$(($(date +%s) - start))
echo "== server exit status $status after SIGTERM; session $elapsed s"
if [ $use_valgrind = 1 ]; then
  grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' \
    "$out/valgrind.log" | sed 's/^==[0-9]*== */   /'
  grep -q 'ERROR SUMMARY: 0 errors' "$out/valgrind.log" ||
    fail "valgrind reported errors: $out/valgrind.log"
fi
[ "$status" = 0 ] || fail "exit status $status (99: valgrind errors); see $out/"
echo "== no valgrind error, no definite or indirect leak"
