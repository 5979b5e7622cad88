# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# Private Postgres, Redis and MailDev for dev and test: data under .data/, logs under
# .data/logs/, listening on 127.0.0.1 only. Every start_* is a no-op when the service already
# answers; STARTED_SERVICES lists what this shell really started, so scripts/test can stop
# exactly that and leave a developer's running services alone.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
STARTED_SERVICES=()
MAILDEV_PIDFILE="$DATA_DIR/maildev.pid"
REDIS_DIR="$DATA_DIR/redis"

# --- Postgres ------------------------------------------------------------------------------
# Postgres refuses to run as root, so as root its binaries run as Debian's `postgres` user.
# That user must reach the files: when the checkout is not reachable (e.g. under /root, mode
# 700), Postgres' files go to /var/tmp/palisade-<hash of the checkout path> instead.
pg_paths() {
  PG_DIR="$DATA_DIR/pg" PG_SOCK="$DATA_DIR/run" PG_LOG="$LOG_DIR/postgres.log"
  mkdir -p "$LOG_DIR"
  if ((EUID == 0)) && ! runuser -u postgres -- test -x "$LOG_DIR" 2>/dev/null; then
    local alt
    alt="/var/tmp/palisade-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)"
    PG_DIR="$alt/pg" PG_SOCK="$alt/run" PG_LOG="$alt/postgres.log"
  fi
}
# (From /: the checkout may be a directory `postgres` cannot enter; all paths are absolute.)
as_pg() { if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pg_running() { as_pg "$PG_BIN/pg_ctl" status -D "$PG_DIR" >/dev/null 2>&1; }
pg_up() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres; }
psql_super() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres; }

start_postgres() {
  pg_paths
  if [[ ! -s $PG_DIR/PG_VERSION ]]; then
    log "postgres: initdb $PG_DIR"
    mkdir -p "$PG_DIR"
    ((EUID == 0)) && chown postgres: "$PG_DIR"
    # trust: local, loopback-only, throw-away data; the app's own roles still go through RLS.
    as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N \
      >"$LOG_DIR/initdb.log" 2>&1 || { tail -20 "$LOG_DIR/initdb.log" >&2; return 1; }
    echo "include_if_exists = 'palisade.conf'" >>"$PG_DIR/postgresql.conf"
  fi
  if ! pg_running; then
    log "postgres: starting on 127.0.0.1:$PG_PORT"
    mkdir -p "$PG_SOCK"
    # Rewritten at each start so a changed port applies. fsync & co. off: dev/test data only.
    cat >"$PG_DIR/palisade.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    touch "$PG_LOG"
    ((EUID == 0)) && chown postgres: "$PG_SOCK" "$PG_LOG" "$PG_DIR/palisade.conf"
    # pg_ctl detaches the postmaster (setsid), so Ctrl-C in scripts/dev does not reach it.
    as_pg "$PG_BIN/pg_ctl" start -D "$PG_DIR" -l "$PG_LOG" -w -t 60 -s ||
      { tail -20 "$PG_LOG" >&2; return 1; }
    STARTED_SERVICES+=(postgres)
  fi
  wait_until 30 postgres pg_up
}

# Role `palisade` owns the database and runs the migrations; CREATEDB for the Rust tests'
# throw-away databases, CREATEROLE so migrations can create authenticator/anon/authenticated/
# admin. `authenticator` needs nothing here: the migrations create it, pg_hba trusts loopback
# and new databases grant CONNECT to PUBLIC.  ensure_database NAME [fresh]
ensure_database() {
  local db=${1:-palisade} drop=
  [[ ${2:-} == fresh ]] && drop="DROP DATABASE IF EXISTS \"$db\" WITH (FORCE);"
  psql_super >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'palisade') THEN
    CREATE ROLE palisade LOGIN CREATEDB CREATEROLE;
  END IF;
END \$\$;
ALTER ROLE palisade LOGIN CREATEDB CREATEROLE;
$drop
SELECT format('CREATE DATABASE %I OWNER palisade', '$db')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \gexec
SQL
}

# The Rust integration tests create one database per test (palisade_test_<uuid>); a test run
# starts by dropping those of earlier runs so they do not pile up.
drop_test_databases() {
  psql_super >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT format('DROP DATABASE %I WITH (FORCE)', datname)
  FROM pg_database WHERE datname LIKE 'palisade\_test\_%' \gexec
SQL
}

stop_postgres() {
  pg_paths
  pg_running || return 0
  log "postgres: stopping"
  as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DIR" -m fast -w -t 60 -s
}

# --- Redis ---------------------------------------------------------------------------------
redis_up() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
redis_down() { ! redis_up; }

start_redis() {
  redis_up && return 0
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$REDIS_DIR" "$LOG_DIR"
  # Sessions, cache and rate limits are all rebuildable: no persistence at all.
  cat >"$REDIS_DIR/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile "$REDIS_DIR/redis.pid"
logfile "$LOG_DIR/redis.log"
dir "$REDIS_DIR"
appendonly no
save ""
EOF
  redis-server "$REDIS_DIR/redis.conf"
  STARTED_SERVICES+=(redis)
  wait_until 15 redis redis_up || { tail -20 "$LOG_DIR/redis.log" >&2; return 1; }
}

stop_redis() {
  if redis_up; then
    log "redis: stopping"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    wait_until 15 "redis stop" redis_down
  fi
  rm -f "$REDIS_DIR/redis.pid"
}

# --- MailDev -------------------------------------------------------------------------------
# MailDev 3 serves its HTTP API under /api (GET /api/email, DELETE /api/email/all, /api/healthz).
maildev_up() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$MAILDEV_WEB_PORT/api/healthz"; }
# Stops the wait early when MailDev exited (e.g. port taken): its pid file is written first.
maildev_up_or_dead() { maildev_up || { [[ -s $MAILDEV_PIDFILE ]] && ! maildev_pid >/dev/null; }; }
# Prints the pid from the pid file only if that process is still our MailDev.
maildev_pid() {
  local pid
  pid=$(cat "$MAILDEV_PIDFILE" 2>/dev/null) && [[ -n $pid ]] &&
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q maildev && echo "$pid"
}

start_maildev() {
  maildev_up && return 0
  local bin="$E2E_DIR/node_modules/.bin/maildev"
  [[ -x $bin ]] || { warn "maildev: $bin missing (ensure_npm installs it)"; return 1; }
  if ! maildev_pid >/dev/null; then
    log "maildev: starting (SMTP 127.0.0.1:$SMTP_PORT, web 127.0.0.1:$MAILDEV_WEB_PORT)"
    mkdir -p "$DATA_DIR/mail" "$LOG_DIR"
    rm -f "$MAILDEV_PIDFILE"   # a stale one would end the wait below at once
    # Double fork + setsid: not our child and in its own session, so neither Ctrl-C on
    # `cargo leptos watch` nor our exit reaches it, and it holds none of our file descriptors.
    # The inner shell writes its own pid, then execs: the pid file names MailDev itself.
    # shellcheck disable=SC2016
    ( (cd "$E2E_DIR" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$MAILDEV_PIDFILE" \
      "$bin" --smtp "$SMTP_PORT" --ip 127.0.0.1 --web "$MAILDEV_WEB_PORT" --web-ip 127.0.0.1 \
      --mail-directory "$DATA_DIR/mail") </dev/null >>"$LOG_DIR/maildev.log" 2>&1 & )
    STARTED_SERVICES+=(maildev)
  fi
  if ! { wait_until 30 maildev maildev_up_or_dead && maildev_up; }; then
    warn "maildev did not start; its log:"; tail -5 "$LOG_DIR/maildev.log" >&2; return 1
  fi
}

stop_maildev() {
  local pid i
  if pid=$(maildev_pid); then
    log "maildev: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  elif maildev_up; then
    warn "maildev: something not started by these scripts answers on port $MAILDEV_WEB_PORT; left alone"
  fi
  rm -f "$MAILDEV_PIDFILE"
}

# --- All three -----------------------------------------------------------------------------
start_services() { start_postgres && start_redis && start_maildev; }

# stop_services [postgres|redis|maildev ...]   (default: all three)
stop_services() {
  local s
  (($#)) || set -- maildev redis postgres
  for s; do "stop_$s"; done
}

# Prints one line per service; returns non-zero unless all three answer.
services_status() {
  local rc=0 pid
  pg_paths
  if pg_up; then pid=$(head -1 "$PG_DIR/postmaster.pid" 2>/dev/null || true)
    printf 'postgres  up    127.0.0.1:%s  pid %s  data %s\n' "$PG_PORT" "${pid:-?}" "$PG_DIR"
  else printf 'postgres  down  127.0.0.1:%s\n' "$PG_PORT"; rc=1; fi
  if redis_up; then pid=$(cat "$REDIS_DIR/redis.pid" 2>/dev/null || true)
    printf 'redis     up    127.0.0.1:%s  pid %s\n' "$REDIS_PORT" "${pid:-?}"
  else printf 'redis     down  127.0.0.1:%s\n' "$REDIS_PORT"; rc=1; fi
  if maildev_up; then pid=$(maildev_pid || true)
    printf 'maildev   up    smtp 127.0.0.1:%s  web http://127.0.0.1:%s  pid %s\n' \
      "$SMTP_PORT" "$MAILDEV_WEB_PORT" "${pid:-? (not ours)}"
  else printf 'maildev   down  smtp 127.0.0.1:%s  web 127.0.0.1:%s\n' "$SMTP_PORT" "$MAILDEV_WEB_PORT"; rc=1; fi
  return "$rc"
}
