#!/usr/bin/env bash
# tests/sdk/run.sh CDLENS_BINARY: the official CloudEvents JavaScript SDK (npm "cloudevents")
# delivers CDEvents to a real cdlens in binary and structured mode, and they are stored.
#
# Needs TEST_DATABASE_URL (a postgres:// or postgresql:// URL; scripts/test.sh sets it), node,
# npm (first run only), psql, curl, python3 and flock. Creates the database sdk_<pid> beside
# TEST_DATABASE_URL, serves cdlens on a free 127.0.0.1 port, runs send_cdevents.mjs, then checks
# the events table with psql. Registered in ctest by tests/sdk/CMakeLists.txt (label db).
set -euo pipefail

die() { echo "tests/sdk/run.sh: $*" >&2; exit 1; }

bin=${1:-}
[ -n "$bin" ] || die "usage: run.sh PATH/TO/cdlens"
[ -x "$bin" ] || die "not an executable: $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -n "${TEST_DATABASE_URL:-}" ] ||
  die "TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which starts a private PostgreSQL"
for tool in node psql curl python3 flock; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/deps.sh installs it)"
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
token=sdk-secret-123
# 2-, 3- and 4-byte UTF-8 and a space: all need percent-encoding in a ce-source header
unicode_source='/event/source/ünïcødé 日本語 €😀'

# --- the SDK: installed once from the lock file, offline afterwards ----------------------------
bash "$here/../support/npm_ci.sh" "$here" cloudevents || die "the CloudEvents SDK is not installed"

# --- a fresh database beside TEST_DATABASE_URL -------------------------------------------------
case $TEST_DATABASE_URL in
postgres://* | postgresql://*) ;;
*) die "TEST_DATABASE_URL must be a postgres:// or postgresql:// URL" ;;
esac
db=sdk_$$
url_base=${TEST_DATABASE_URL%%\?*}                  # without ?query
url_query=${TEST_DATABASE_URL:${#url_base}}         # "?..." or ""
after_scheme=${url_base#*://}
if [[ $after_scheme == */* ]]; then url_base=${url_base%/*}; fi  # drop the database name
db_url=$url_base/$db$url_query

# UTF8 on the client side whatever the locale, for the non-ASCII comparison
pg() { PGCLIENTENCODING=UTF8 PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { pg -At "$db_url" "$@"; } # query the test database

workdir=$(mktemp -d "${TMPDIR:-/tmp}/cdlens-sdk.XXXXXX")
log=$workdir/server.log
server_pid=
status=failed

cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" != passed ] && [ -s "$log" ]; then
    echo "--- cdlens log (last 50 lines) ---" >&2
    tail -n 50 "$log" >&2
  fi
  pg "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" ||
  die "could not create database $db beside TEST_DATABASE_URL"

# --- the server, on a free port ------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# CDLENS_* variables from the caller's environment must not change the server under test
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^CDLENS_' || true)

port=
for attempt in 1 2 3; do
  port=$(free_port)
  "$bin" serve --database-url "$db_url" --listen "127.0.0.1:$port" \
    --ingest-tokens "sdk:$token" --log-level warn >"$log" 2>&1 &
  server_pid=$!
  ready=no
  for _ in $(seq 1 300); do # 30 s
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
      ready=yes
      break
    fi
    sleep 0.1
  done
  [ $ready = yes ] && break
  if kill -0 "$server_pid" 2>/dev/null; then die "cdlens did not become ready within 30 s"; fi
  wait "$server_pid" || true
  server_pid=
  # another process may have taken the port between free_port and the bind: try a new one
  grep -qi 'in use' "$log" || die "cdlens exited before becoming ready"
  echo "tests/sdk/run.sh: port $port was taken (attempt $attempt), retrying" >&2
done
[ -n "$server_pid" ] || die "cdlens could not bind a port after 3 attempts"

# --- send ----------------------------------------------------------------------------------------
nfiles=$(find "$here/../data/cdevents-spec/0.5.1/conformance" -maxdepth 1 -name '*.json' | wc -l)
[ "$nfiles" -gt 0 ] || die "no conformance examples found"
per_mode=$((nfiles + 1)) # every example plus the non-ASCII one, in each mode
sent=$((2 * per_mode))

out=$workdir/sdk.out
node_rc=0
node "$here/send_cdevents.mjs" --url "http://127.0.0.1:$port" --token "$token" \
  --unicode-source "$unicode_source" | tee "$out" || node_rc=$?
[ "$node_rc" -eq 0 ] || die "send_cdevents.mjs failed (exit $node_rc)"
tail -n 1 "$out" | grep -qx "sdk: $sent passed, 0 failed" ||
  die "expected the last line 'sdk: $sent passed, 0 failed', got '$(tail -n 1 "$out")'"

# --- what was stored -----------------------------------------------------------------------------
fail=0
check() { # what, expected, actual
  if [ "$2" == "$3" ]; then
    echo "ok: $1"
  else
    echo "FAIL: $1: expected [$2], got [$3]"
    fail=1
  fi
}

check "events stored" "$sent" "$(q -c 'SELECT count(*) FROM events')"
check "events per mode" "binary|$per_mode
structured|$per_mode" "$(q -c 'SELECT mode, count(*) FROM events GROUP BY mode ORDER BY mode')"
check "every event stored under token name sdk" 0 \
  "$(q -c "SELECT count(*) FROM events WHERE producer IS DISTINCT FROM 'sdk'")"
check "every event has its own fresh id sdk-<mode>-<uuid>" "$sent" \
  "$(q -c "SELECT count(DISTINCT id) FROM events WHERE id ~ ('^sdk-' || mode || '-[0-9a-f-]{36}$')")"
check "each event type stored once per mode" 0 \
  "$(q -c "SELECT count(*) FROM (SELECT type FROM events GROUP BY type
           HAVING count(*) FILTER (WHERE mode = 'binary') <> count(*) FILTER (WHERE mode = 'structured')) t")"
check "non-ASCII source stored unchanged, in both modes" "binary
structured" "$(q -v src="$unicode_source" <<'SQL'
SELECT mode FROM events WHERE source = :'src' AND raw->'context'->>'source' = :'src' ORDER BY mode
SQL
)"
check "non-ASCII source bytes" "$(printf '%s' "$unicode_source" | od -An -tx1 | tr -d ' \n')" \
  "$(q -c "SELECT DISTINCT encode(convert_to(source, 'UTF8'), 'hex') FROM events WHERE source ~ '[^ -~]'")"
[ "$fail" -eq 0 ] || die "the events table does not hold what was sent"

# --- clean shutdown ------------------------------------------------------------------------------
kill -TERM "$server_pid"
for _ in $(seq 1 300); do # 30 s
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && die "cdlens did not exit within 30 s of SIGTERM"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=
[ "$server_rc" -eq 0 ] || die "cdlens exited with status $server_rc after SIGTERM (expected 0)"
echo "ok: cdlens exited 0 on SIGTERM"
status=passed
echo "tests/sdk/run.sh: passed ($sent events: binary $per_mode, structured $per_mode)"
