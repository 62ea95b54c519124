#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on 127.0.0.1 for tests and benchmarks.
#   scripts/pg.sh start DIR PORT   → prints postgresql://app@127.0.0.1:PORT/postgres
#   scripts/pg.sh stop DIR         → stops it by the PID in DIR/data/postmaster.pid
# DIR is best a fresh `mktemp -d /tmp/…`: as root the cluster runs as the `postgres` user, which
# must be able to reach DIR. User `app`, trust auth, UTF8, C.UTF-8. Starting an already running
# cluster just prints its URL again.
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
[ -x "$BIN/initdb" ] || { echo "pg.sh: no PostgreSQL 15 in $BIN (run scripts/deps.sh)" >&2; exit 1; }

# initdb refuses to run as root: as root, run the server as `postgres`; otherwise as ourselves.
if [ "$(id -u)" -eq 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

case "$cmd" in
start)
  port=${3:-}
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  url="postgresql://app@127.0.0.1:$port/postgres"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    chmod 755 "$dir"
    if ! runuser -u postgres -- test -x "$dir" -a -w "$dir"; then
      echo "pg.sh: user postgres cannot reach $dir (a parent directory is closed);" \
           "use a directory from mktemp -d /tmp/shouye-pg.XXXXXX" >&2
      exit 1
    fi
  fi
  if [ -f "$dir/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "$url"
    exit 0
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg install -d -m 700 "$dir/data"
    as_pg "$BIN/initdb" -D "$dir/data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { echo "pg.sh: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if ! as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -t 60 \
       -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" -w start \
       >/dev/null 2>&1; then
    echo "pg.sh: PostgreSQL did not start on 127.0.0.1:$port:" >&2
    tail -20 "$dir/server.log" >&2 || true
    exit 1
  fi
  echo "$url"
  ;;
stop)
  pidfile="$dir/data/postmaster.pid"
  [ -f "$pidfile" ] || exit 0
  pid=$(head -1 "$pidfile")
  # alive = exists and is not a zombie (where PID 1 does not reap, a stopped postmaster lingers)
  alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
  if ! as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -t 30 -w stop >/dev/null 2>&1 \
     && [ -n "$pid" ] && alive "$pid"; then
    echo "pg.sh: PostgreSQL (pid $pid) did not stop; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  fi
  ;;
*) usage ;;
esac
