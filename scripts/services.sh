#!/usr/bin/env bash
# Project-owned PostgreSQL 15 + PostGIS and Redis, on loopback and non-default ports.
#   scripts/services.sh start   start (or reuse) both; print `export ...` lines on stdout
#   scripts/services.sh stop    stop both
#   scripts/services.sh status
# Everything else goes to stderr, so `eval "$(scripts/services.sh start)"` configures a shell.
# Data lives under var/ (PostgreSQL's own directory must be owned by the user it runs as:
# as root that is Debian's `postgres` user, since PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
PG_PORT=${DEALFINDER_PG_PORT:-54329}
REDIS_PORT=${DEALFINDER_REDIS_PORT:-63799}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB_NAME=dealfinder
DB_USER=dealfinder
# PostgreSQL sized for county-scale bulk writes, as docker-compose.yml's postgis service is (README, "Production"):
# buffers for the tables and indexes a night writes, and checkpoints far enough apart that a bulk write does not
# force one every few seconds (each is followed by full-page images of every page written again).
PG_SHARED_BUFFERS=${DEALFINDER_PG_SHARED_BUFFERS:-1GB}
PG_TUNING="-c shared_buffers=$PG_SHARED_BUFFERS -c max_wal_size=4GB -c checkpoint_timeout=15min -c maintenance_work_mem=256MB"

log() { echo "services: $*" >&2; }

as_pg() {  # run a command as the cluster owner
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_dir() {
  # var/pg when the cluster owner can reach it; otherwise a private directory in /var/tmp
  # (e.g. a checkout under /root, which the postgres user cannot traverse).
  local dir="$VAR/pg"
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      dir="/var/tmp/dealfinder-pg-$(echo -n "$ROOT" | md5sum | cut -c1-12)"
      mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
      log "postgres cannot reach $VAR/pg; using $dir"
    fi
  fi
  echo "$dir"
}

pg_start() {
  local dir; dir=$(pg_dir)
  local data="$dir/data"
  local pwfile="$VAR/pg-password"
  [[ -s $pwfile ]] || { umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pwfile"; }
  local password; password=$(cat "$pwfile")
  if [[ ! -s $data/PG_VERSION ]]; then
    log "initialising PostgreSQL cluster in $data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgresql.log" -w -t 60 start \
      -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=100 $PG_TUNING" >/dev/null
  else
    log "PostgreSQL already running ($data)"
  fi
  local psql=(as_pg env PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -h "$dir" -p "$PG_PORT"
    -U postgres -v ON_ERROR_STOP=1 -qtA)
  # A local development/test cluster: the app role is a superuser so the test runner
  # can create test databases with the PostGIS extension in them.
  "${psql[@]}" -d postgres >/dev/null <<SQL
SELECT 'CREATE ROLE $DB_USER LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
ALTER ROLE $DB_USER WITH PASSWORD '$password';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
  "${psql[@]}" -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  echo "export DATABASE_URL=postgis://$DB_USER:$password@127.0.0.1:$PG_PORT/$DB_NAME"
}

pg_stop() {
  local dir; dir=$(pg_dir)
  if [[ -s $dir/data/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null && log "PostgreSQL stopped"
  fi
}

redis_start() {
  mkdir -p "$VAR/redis"
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    log "Redis already running on 127.0.0.1:$REDIS_PORT"
  else
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$VAR/redis" \
      --pidfile "$VAR/redis/redis.pid" --logfile "$VAR/redis/redis.log" --save "" --appendonly no >&2
    for _ in $(seq 50); do
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
      sleep 0.1
    done
  fi
  echo "export CELERY_BROKER_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

redis_stop() {
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    log "Redis stopped"
  fi
}

case "${1:-start}" in
  start) pg_start; redis_start ;;
  stop) redis_stop; pg_stop ;;
  status)
    dir=$(pg_dir)
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >&2 || true
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >&2 || true ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
