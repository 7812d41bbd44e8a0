#!/usr/bin/env bash
# Runs a command with throwaway test services on loopback, torn down afterwards:
#   PostgreSQL 15 (private cluster, trust auth)  -> PARLOR_TEST_PG_URL
# Services that cannot start are reported and left unset; tests that need them fail clearly.
set -uo pipefail
work=$(mktemp -d /tmp/parlor-services.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -n "${PG_STARTED:-}" ]; then
    su postgres -c "$PG_BIN/pg_ctl -D $work/pg -m immediate -w stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_PORT=${PARLOR_TEST_PG_PORT:-15432}
if [ -n "$PG_BIN" ] && [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
  if su postgres -c "$PG_BIN/initdb -D $work/pg -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$work/initdb.log" 2>&1 &&
     su postgres -c "$PG_BIN/pg_ctl -D $work/pg -l $work/pg/log -w -o '-p $PG_PORT -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null 2>&1; then
    PG_STARTED=1
    export PARLOR_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  else
    echo "with-services: PostgreSQL did not start (see $work)" >&2
  fi
fi

"$@"
