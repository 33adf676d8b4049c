#!/usr/bin/env bash
# Correlation throughput: generates a realistic stream (bench/gen_events.py: N events, 20
# services, trunk-based, 20% in 0.4.1 form), starts a private PostgreSQL (bench/.pg-corr,
# fsync on) and cdlens, posts the stream in batches of 500 from 4 connections
# (bench/load_events.py) and waits until /readyz shows the correlation queue empty.
# Then times `cdlens recorrelate` over the same events, and checks that it rebuilt the same
# number of links.
#   bench/correlate.sh [EVENTS]     (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
scripts/deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCDLENS_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target cdlens >/dev/null

events=bench/.events-$n.jsonl
[ -s "$events" ] || python3 bench/gen_events.py --events "$n" --services 20 --days 90 > "$events"
pgdir=$PWD/bench/.pg-corr
rm -rf "$pgdir"
url=$(scripts/pg.sh start "$pgdir")
port=18481
build-bench/web/cdlens serve --database-url "$url" --listen 127.0.0.1:$port \
  --ingest-tokens bench:bench-secret-1 --log-level warn 2>bench/.server-corr.log &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; scripts/pg.sh stop "$pgdir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== incremental: ingest $(wc -l < "$events") events and correlate as they commit"
python3 bench/load_events.py "$events" --url http://127.0.0.1:$port --token bench-secret-1 \
  --batch 500 --concurrency 4
links() { psql "$url" -tAc "SELECT (SELECT count(*) FROM edges) || ' edges, ' ||
  (SELECT count(*) FROM deployment_changes) || ' deployment_changes, ' ||
  (SELECT count(*) FROM correlate_failed) || ' set aside'"; }
before=$(links)
echo "== model: $before"
kill $pid; wait $pid 2>/dev/null || true
echo "== cdlens recorrelate (server stopped)"
start=$(date +%s.%N)
build-bench/web/cdlens recorrelate --database-url "$url" --log-level warn
end=$(date +%s.%N)
total=$(psql "$url" -tAc 'SELECT count(*) FROM events')
awk -v s="$start" -v e="$end" -v n="$total" \
  'BEGIN { printf "events=%d recorrelate_s=%.2f events_per_s=%.0f\n", n, e - s, n / (e - s) }'
after=$(links)
echo "== model: $after"
[ "$before" = "$after" ] || { echo "recorrelate built a different model" >&2; exit 1; }
