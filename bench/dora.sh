#!/usr/bin/env bash
# DORA API latency on a large history: `cdlens demo` loads N events (default 1,000,000: 24
# services, 4 environments, 120 days from 2026-01-01) through the ingest path into a private
# PostgreSQL (bench/.pg-dora, fsync on) and correlates them; then the server answers
# GET /api/v1/dora for the last 90 days of that history, all services, R times (default 50),
# and the script prints the median, p90 and max latency, plus one timing of the other
# endpoints. Reuses the loaded database when bench/.pg-dora exists with the same N.
#   bench/dora.sh [EVENTS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
reqs=${2:-50}
scripts/deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCDLENS_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target cdlens >/dev/null
bin=build-bench/web/cdlens

pgdir=$PWD/bench/.pg-dora
if [ "$(cat "$pgdir.events" 2>/dev/null)" != "$n" ]; then
  rm -rf "$pgdir" "$pgdir.events"
  url=$(scripts/pg.sh start "$pgdir")
  echo "== loading $n demo events (cdlens demo: ingest path + correlation)"
  start=$(date +%s)
  $bin demo --events "$n" --demo-start 2026-01-01T00:00:00Z --demo-days 120 \
    --database-url "$url" --log-level warn
  echo "loaded and correlated in $(( $(date +%s) - start )) s"
  echo "$n" > "$pgdir.events"
else
  url=$(scripts/pg.sh start "$pgdir")
fi
port=18482
$bin serve --database-url "$url" --listen 127.0.0.1:$port --insecure-no-auth \
  --log-level warn 2>bench/.server-dora.log &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; scripts/pg.sh stop "$pgdir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
# a migration may have queued every event again (0008 rebuilds the model under new rules):
# measure the rebuilt model only
until curl -s http://127.0.0.1:$port/readyz | grep -q '"pending_events":0[,}]'; do
  echo "   waiting for the correlator: $(curl -s http://127.0.0.1:$port/readyz | grep -o '"pending_events":[0-9]*')"
  sleep 10
done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== events: $(psql "$url" -tAc 'SELECT count(*) FROM events')"
q='from=2026-01-31T00:00:00Z&to=2026-05-01T00:00:00Z'
timed() { curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$port$1"; }
timed "/api/v1/dora?$q" >/dev/null   # warm the caches once
echo "== window: $(curl -s "http://127.0.0.1:$port/api/v1/dora?$q" | grep -o '"deployment_frequency":{[^}]*}\|"lead_time":{"changes":[0-9]*' | tr '\n' ' ')"
for _ in $(seq "$reqs"); do timed "/api/v1/dora?$q"; done | sort -k2 -n | awk '
  $1 != 200 { bad++ } { t[NR] = $2 * 1000 }
  END { n = NR; printf "GET /api/v1/dora (90 days, all services) x%d: p50 %.1f ms, p90 %.1f ms, max %.1f ms, non-200 %d\n",
        n, t[int((n + 1) / 2)], t[int(n * 0.9 + 0.5)], t[n], bad }'
for path in "/api/v1/dora?$q&bucket=day" "/api/v1/dora/services?$q" "/api/v1/deployments?$q&format=csv" \
            "/api/v1/changes?$q" "/api/v1/dora?$q&service=checkout-api" \
            "/api/v1/dora?$q&environment=eu%2Fprod"; do
  echo "GET $path: $(timed "$path" | awk '{ printf "%s in %.1f ms", $1, $2 * 1000 }')"
done
