#!/usr/bin/env bash
# A private PostgreSQL for cdlens: its data under a folder of ours, listening only on a Unix
# socket inside that folder (no TCP port, so it never clashes with another server).
#   scripts/pg.sh start DIR   initdb if needed, start, create database "cdlens"; prints the URL
#   scripts/pg.sh stop DIR    fast shutdown
#   scripts/pg.sh url DIR     print the connection URL
#   scripts/pg.sh restart DIR [SECONDS]  immediate shutdown, SECONDS down (default 1), start
# initdb refuses to run as root, so as root the server runs as the "postgres" user that
# Debian's postgresql package creates.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url DIR}
dir=$(mkdir -p "${2:?usage: pg.sh start|stop|url DIR}" && cd "$2" && pwd)
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pg.sh: no PostgreSQL server found (scripts/deps.sh installs it)" >&2; exit 1; }
data=$dir/data
sock=$dir/sock

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() {
  # the socket path goes in the host parameter, percent-encoded
  local enc
  enc=$(printf '%s' "$sock" | sed 's/%/%25/g; s/\//%2F/g')
  echo "postgresql://postgres@${enc}/cdlens"
}

case $cmd in
start)
  mkdir -p "$sock"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" "$sock"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
  fi
  if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
  as_owner "$bindir/psql" -h "$sock" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'cdlens'" | grep -q 1 ||
    as_owner "$bindir/createdb" -h "$sock" -U postgres cdlens
  url
  ;;
stop)
  if [ -f "$data/PG_VERSION" ]; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
restart)
  # immediate shutdown (a crash, as far as clients can tell), then start again
  as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  sleep "${3:-1}"
  as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
  ;;
url) url ;;
*) echo "usage: pg.sh start|stop|url DIR" >&2; exit 2 ;;
esac
