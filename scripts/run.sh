#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running cdlens on http://127.0.0.1:8080:
# install what is missing, build, start a private PostgreSQL (data under .cdlens/pg),
# apply migrations and serve. Ctrl-C stops the server; the database keeps running
# (scripts/pg.sh stop .cdlens/pg stops it).
# An ingest token is created on first run in .cdlens/ingest-token and printed below.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDLENS_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target cdlens

mkdir -p .cdlens
url=$(scripts/pg.sh start "$PWD/.cdlens/pg")
if [ ! -s .cdlens/ingest-token ]; then
  echo "local:$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" > .cdlens/ingest-token
  chmod 600 .cdlens/ingest-token
fi
token=$(cut -d: -f2 .cdlens/ingest-token)
cat >&2 <<MSG
cdlens: database   $url
cdlens: ingest     POST http://127.0.0.1:8080/api/v1/events
cdlens: token      Authorization: Bearer $token   (kept in .cdlens/ingest-token)
MSG
export CDLENS_DATABASE_URL=${CDLENS_DATABASE_URL:-$url}
export CDLENS_INGEST_TOKENS=${CDLENS_INGEST_TOKENS:-$(cat .cdlens/ingest-token)}
exec build/web/cdlens serve "$@"
