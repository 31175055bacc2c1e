#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on a loopback port, in a temp folder, run as the
# postgres user. `start` prints the DATABASE_URL to use; `stop` stops it and removes the folder.
#   .ci/pg.sh start [DIR] [PORT]   .ci/pg.sh stop [DIR]
set -euo pipefail
cmd=${1:-start}
DIR=${2:-${MEDIAGEN_PG_DIR:-/tmp/mediagen-pg-$$}}
PORT=${3:-${MEDIAGEN_PG_PORT:-55432}}
pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "PostgreSQL server not installed; installing it" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$d"
}
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    BIN=$(pgbin)
    # Another cluster (or anything) on the port: take the next free one.
    for _ in $(seq 1 50); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then PORT=$((PORT + 1)); else break; fi
    done
    mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
    as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres mediagen
    echo "postgres://postgres@127.0.0.1:$PORT/mediagen"
    ;;
  stop)
    BIN=$(pgbin)
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|stop [DIR] [PORT]" >&2
    exit 2
    ;;
esac
