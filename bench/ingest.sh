#!/usr/bin/env bash
# Ingest throughput: starts a private PostgreSQL (bench/.pg, fsync on) and cdlens, then runs
# wrk with bench/ingest.lua for (a) one event per request over 64 connections and (b) batches
# of 100 events over 8 connections. Prints events/s and p50/p99 latency; afterwards checks
# that the database holds exactly the number of events acknowledged.
#   bench/ingest.sh [SECONDS]      (default 20 s per scenario)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
scripts/deps.sh
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCDLENS_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target cdlens >/dev/null

pgdir=$PWD/bench/.pg
rm -rf "$pgdir"
url=$(scripts/pg.sh start "$pgdir")
port=18480
build-bench/web/cdlens serve --database-url "$url" --listen 127.0.0.1:$port \
  --ingest-tokens bench:bench-secret-1 --log-level warn 2>bench/.server.log &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; scripts/pg.sh stop "$pgdir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== (a) one event per request, 64 connections, ${secs}s"
BATCH=1 wrk -t2 -c64 -d"${secs}s" --latency -s bench/ingest.lua http://127.0.0.1:$port | grep -E '^(requests|events|latency)'
echo "== (b) batches of 100 events, 8 connections, ${secs}s"
BATCH=100 wrk -t2 -c8 -d"${secs}s" --latency -s bench/ingest.lua http://127.0.0.1:$port | grep -E '^(requests|events|latency)'
echo "== stored events: $(psql "$url" -tAc 'SELECT count(*) FROM events')"
