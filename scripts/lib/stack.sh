# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# The scale-out stack of scripts/stack on loopback: nginx (TLS) → N instances → PgBouncer
# (transaction mode) → a Postgres primary with a streaming replica, and a Redis of its own.
# Every port and path is its own (58000–58999, .data/stack/), so it runs beside the services
# of scripts/dev and scripts/test. Each component has a pid file; `down` stops only those.
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"

STACK_DIR="$DATA_DIR/stack"
STACK_LOG="$STACK_DIR/logs"
STACK_N="${STACK_INSTANCES:-2}"
STACK_HTTPS_PORT="${STACK_HTTPS_PORT:-58443}"
STACK_APP_PORT="${STACK_APP_PORT:-58001}"          # instance i listens on APP_PORT + i - 1
STACK_METRICS_PORT="${STACK_METRICS_PORT:-58101}"  # and serves /metrics on METRICS_PORT + i - 1
STACK_PGBOUNCER_PORT="${STACK_PGBOUNCER_PORT:-58432}"
STACK_PRIMARY_PORT="${STACK_PRIMARY_PORT:-58532}"
STACK_REPLICA_PORT="${STACK_REPLICA_PORT:-58533}"
STACK_REDIS_PORT="${STACK_REDIS_PORT:-58379}"
# The server binary and the built front end: by default what `cargo leptos build` (and the e2e
# step of scripts/test) leaves in target/. hash.txt must sit next to the binary.
STACK_BIN="${STACK_BIN:-$ROOT/target/debug/palisade}"
STACK_SITE_ROOT="${STACK_SITE_ROOT:-$ROOT/target/site}"
STACK_PUBLIC_URL="https://localhost:$STACK_HTTPS_PORT"
STACK_DB=palisade

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Refuses to start a component on a port something else holds.
need_free_port() { ! port_busy "$1" || die "port $1 ($2) is in use by something else; set ${3} to another"; }
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
pid_of() { if [[ -r $1 ]]; then head -1 "$1"; fi; }

stack_pg_dir() { # stack_pg_dir primary|replica: Postgres' files must be reachable by `postgres`
  local base=$STACK_DIR
  if ((EUID == 0)) && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
    base="/var/tmp/palisade-stack-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)"
  fi
  echo "$base/pg-$1"
}
stack_pg_ctl() { as_pg "$PG_BIN/pg_ctl" "$@"; }
stack_pg_up() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres; }
stack_psql() { local port=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

# Written at each start, after deploy/postgresql/<role>.conf, so ports and paths apply.
stack_pg_conf() { # stack_pg_conf DIR PORT ROLE
  cat >"$1/stack.conf" <<EOF
include '$ROOT/deploy/postgresql/$3.conf'
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$1'
fsync = off
full_page_writes = off
EOF
  ((EUID == 0)) && chown postgres: "$1/stack.conf"
  return 0
}

start_stack_primary() {
  local dir; dir=$(stack_pg_dir primary)
  if [[ ! -s $dir/PG_VERSION ]]; then
    log "stack: initdb primary $dir"
    mkdir -p "$dir"; ((EUID == 0)) && chown postgres: "$dir"
    as_pg "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N \
      >"$STACK_LOG/initdb.log" 2>&1 || { tail -20 "$STACK_LOG/initdb.log" >&2; return 1; }
    echo "include_if_exists = 'stack.conf'" >>"$dir/postgresql.conf"
    # Loopback only and throw-away data: trust, replication included.
    echo "host replication all 127.0.0.1/32 trust" >>"$dir/pg_hba.conf"
  fi
  if ! stack_pg_ctl status -D "$dir" >/dev/null 2>&1; then
    need_free_port "$STACK_PRIMARY_PORT" "postgres primary" STACK_PRIMARY_PORT
    stack_pg_conf "$dir" "$STACK_PRIMARY_PORT" primary
    log "stack: postgres primary on 127.0.0.1:$STACK_PRIMARY_PORT"
    stack_pg_ctl start -D "$dir" -l "$dir/postgres.log" -w -t 60 -s || { tail -20 "$dir/postgres.log" >&2; return 1; }
  fi
  wait_until 30 "stack primary" stack_pg_up "$STACK_PRIMARY_PORT"
  PG_PORT=$STACK_PRIMARY_PORT ensure_database "$STACK_DB"
}

start_stack_replica() {
  local dir; dir=$(stack_pg_dir replica)
  if [[ ! -s $dir/PG_VERSION ]]; then
    log "stack: pg_basebackup of the primary into $dir"
    mkdir -p "$dir"; ((EUID == 0)) && chown postgres: "$dir"; chmod 700 "$dir"
    stack_psql "$STACK_PRIMARY_PORT" -c "select pg_drop_replication_slot('stack_replica')
      where exists (select from pg_replication_slots where slot_name = 'stack_replica')" >/dev/null
    as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$STACK_PRIMARY_PORT" -U postgres -D "$dir" \
      -R -X stream -c fast -C -S stack_replica >"$STACK_LOG/basebackup.log" 2>&1 ||
      { tail -20 "$STACK_LOG/basebackup.log" >&2; return 1; }
  fi
  if ! stack_pg_ctl status -D "$dir" >/dev/null 2>&1; then
    need_free_port "$STACK_REPLICA_PORT" "postgres replica" STACK_REPLICA_PORT
    stack_pg_conf "$dir" "$STACK_REPLICA_PORT" replica
    log "stack: postgres replica on 127.0.0.1:$STACK_REPLICA_PORT"
    stack_pg_ctl start -D "$dir" -l "$dir/postgres.log" -w -t 60 -s || { tail -20 "$dir/postgres.log" >&2; return 1; }
  fi
  wait_until 30 "stack replica" stack_pg_up "$STACK_REPLICA_PORT"
}

stop_stack_pg() { # primary|replica
  local dir; dir=$(stack_pg_dir "$1")
  if [[ ! -s $dir/PG_VERSION ]] || ! stack_pg_ctl status -D "$dir" >/dev/null 2>&1; then return 0; fi
  log "stack: stopping postgres $1"
  stack_pg_ctl stop -D "$dir" -m fast -w -t 60 -s
}

stack_redis_up() { [[ $(redis-cli -h 127.0.0.1 -p "$STACK_REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
start_stack_redis() {
  local dir=$STACK_DIR/redis
  alive "$(pid_of "$dir/redis.pid")" && return 0
  need_free_port "$STACK_REDIS_PORT" redis STACK_REDIS_PORT
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<EOF
include $ROOT/deploy/redis.conf
bind 127.0.0.1
port $STACK_REDIS_PORT
daemonize yes
pidfile $dir/redis.pid
logfile $STACK_LOG/redis.log
dir $dir
EOF
  log "stack: redis on 127.0.0.1:$STACK_REDIS_PORT"
  redis-server "$dir/redis.conf"
  wait_until 15 "stack redis" stack_redis_up
}

start_stack_pgbouncer() {
  local dir=$STACK_DIR/pgbouncer
  alive "$(pid_of "$dir/pgbouncer.pid")" && return 0
  need_free_port "$STACK_PGBOUNCER_PORT" pgbouncer STACK_PGBOUNCER_PORT
  mkdir -p "$dir"
  # Every database of the primary (the Rust tests make one per test), as the connecting user.
  {
    echo "[databases]"
    echo "* = host=127.0.0.1 port=$STACK_PRIMARY_PORT"
    sed -n '/^\[pgbouncer\]/,$p' "$ROOT/deploy/pgbouncer.ini"
    echo "listen_addr = 127.0.0.1"
    echo "listen_port = $STACK_PGBOUNCER_PORT"
    echo "unix_socket_dir ="
    echo "auth_file = $dir/userlist.txt"
    echo "pidfile = $dir/pgbouncer.pid"
    echo "logfile = $STACK_LOG/pgbouncer.log"
    # The Rust suite makes a database per test, each a pool of its own here: give idle server
    # connections back soon and cap them per user, or Postgres runs out of slots.
    echo "server_idle_timeout = 5"
    echo "max_user_connections = 100"
  } >"$dir/pgbouncer.ini"
  # trust still needs the names listed.
  printf '"%s" ""\n' authenticator palisade postgres >"$dir/userlist.txt"
  touch "$STACK_LOG/pgbouncer.log"
  ((EUID == 0)) && chown -R postgres: "$dir" "$STACK_LOG/pgbouncer.log"
  log "stack: pgbouncer $(pgbouncer --version | head -1 | awk '{print $2}') on 127.0.0.1:$STACK_PGBOUNCER_PORT (transaction mode)"
  local user=(); ((EUID == 0)) && user=(-u postgres)
  pgbouncer -d "${user[@]}" "$dir/pgbouncer.ini" >>"$STACK_LOG/pgbouncer.log" 2>&1 || { tail -5 "$STACK_LOG/pgbouncer.log" >&2; return 1; }
  wait_until 15 "stack pgbouncer" port_busy "$STACK_PGBOUNCER_PORT"
}

stack_secret() {
  [[ -s $STACK_DIR/secret ]] || { umask 077; openssl rand -hex 32 >"$STACK_DIR/secret"; }
  cat "$STACK_DIR/secret"
}

instance_ready() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/ready"; }
start_stack_instance() { # start_stack_instance I
  local i=$1 port=$((STACK_APP_PORT + $1 - 1)) mport=$((STACK_METRICS_PORT + $1 - 1))
  local pidfile=$STACK_DIR/app-$i.pid
  alive "$(pid_of "$pidfile")" && return 0
  [[ -x $STACK_BIN ]] || die "no server binary at $STACK_BIN (cargo leptos build, or set STACK_BIN)"
  [[ -d $STACK_SITE_ROOT/pkg ]] || die "no front end at $STACK_SITE_ROOT/pkg (cargo leptos build, or set STACK_SITE_ROOT)"
  need_free_port "$port" "instance $i" STACK_APP_PORT
  need_free_port "$mport" "instance $i metrics" STACK_METRICS_PORT
  log "stack: instance $i on 127.0.0.1:$port (metrics $mport)"
  local secret; secret=$(stack_secret)
  # setsid: its own session, so our exit or Ctrl-C does not reach it; the pid file names it.
  (env -i PATH="$PATH" HOME="${HOME:-/root}" RUST_LOG="${RUST_LOG:-info}" \
    PALISADE_ENV=production PALISADE_SECRET="$secret" PALISADE_PUBLIC_URL="$STACK_PUBLIC_URL" \
    PALISADE_MAIL_FROM="Palisade <no-reply@localhost>" \
    PALISADE_LISTEN="127.0.0.1:$port" PALISADE_METRICS_LISTEN="127.0.0.1:$mport" \
    PALISADE_TRUSTED_PROXIES=127.0.0.1 PALISADE_LOG_FORMAT=json \
    DATABASE_URL="postgres://authenticator@127.0.0.1:$STACK_PGBOUNCER_PORT/$STACK_DB" \
    PALISADE_DB_POOLER=transaction \
    DATABASE_REPLICA_URL="postgres://authenticator@127.0.0.1:$STACK_REPLICA_PORT/$STACK_DB" \
    DATABASE_OWNER_URL="postgres://palisade@127.0.0.1:$STACK_PRIMARY_PORT/$STACK_DB" \
    REDIS_URL="redis://127.0.0.1:$STACK_REDIS_PORT" SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" \
    LEPTOS_OUTPUT_NAME=palisade LEPTOS_SITE_ROOT="$STACK_SITE_ROOT" LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_HASH_FILES=true LEPTOS_ENV=PROD \
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$STACK_BIN" \
    </dev/null >>"$STACK_LOG/app-$i.log" 2>&1 &)
  wait_until 90 "instance $i" instance_ready "$port" ||
    { tail -20 "$STACK_LOG/app-$i.log" >&2; return 1; }
}

stop_pidfile() { # stop_pidfile NAME FILE [SIGNAL]
  local pid i; pid=$(pid_of "$2")
  if alive "$pid"; then
    log "stack: stopping $1 (pid $pid)"
    kill "-${3:-TERM}" "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$2"
}

stack_cert() {
  local dir=$STACK_DIR/nginx
  [[ -s $dir/cert.pem ]] && return 0
  log "stack: self-signed certificate for localhost"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
}

start_stack_nginx() {
  local dir=$STACK_DIR/nginx i servers="" modules="" brotli=""
  alive "$(pid_of "$dir/nginx.pid")" && return 0
  need_free_port "$STACK_HTTPS_PORT" nginx STACK_HTTPS_PORT
  mkdir -p "$dir/tmp"
  stack_cert
  for ((i = 1; i <= STACK_N; i++)); do
    servers+="        server 127.0.0.1:$((STACK_APP_PORT + i - 1)) max_fails=1 fail_timeout=5s;"$'\n'
  done
  # Brotli only when Debian's module is installed (libnginx-mod-http-brotli-filter).
  if [[ -f /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so ]]; then
    modules="load_module /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so;"
    brotli="brotli on; brotli_types text/css application/javascript application/json application/wasm image/svg+xml text/plain;"
  fi
  local -A vars=([LOAD_MODULES]=$modules [WORKERS]=2 [NGINX_DIR]=$dir [LOG_DIR]=$STACK_LOG
    [BROTLI]=$brotli [UPSTREAM_SERVERS]=${servers%$'\n'} [HTTPS_PORT]=$STACK_HTTPS_PORT
    [SERVER_NAME]=localhost [CERT]=$dir/cert.pem [KEY]=$dir/key.pem [SITE_ROOT]=$STACK_SITE_ROOT)
  local conf k; conf=$(<"$ROOT/deploy/nginx/palisade.conf.template")
  for k in "${!vars[@]}"; do conf=${conf//"\${$k}"/${vars[$k]}}; done
  printf '%s\n' "$conf" >"$dir/nginx.conf"
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" -g "error_log $STACK_LOG/nginx-error.log;" ||
    die "nginx refused $dir/nginx.conf"
  log "stack: nginx on https://localhost:$STACK_HTTPS_PORT (HTTP/2, ${STACK_N} upstreams${brotli:+, brotli})"
  nginx -p "$dir" -c "$dir/nginx.conf" -g "error_log $STACK_LOG/nginx-error.log;"
  wait_until 15 nginx port_busy "$STACK_HTTPS_PORT"
}

stack_up() {
  mkdir -p "$STACK_DIR" "$STACK_LOG"
  start_stack_primary
  start_stack_replica
  start_stack_redis
  start_stack_pgbouncer
  local i
  # The first instance applies the migrations (on the primary itself, not through PgBouncer).
  for ((i = 1; i <= STACK_N; i++)); do start_stack_instance "$i"; done
  start_stack_nginx
  log "stack: up — $STACK_PUBLIC_URL"
}

stack_down() {
  local f
  stop_pidfile nginx "$STACK_DIR/nginx/nginx.pid" QUIT
  for f in "$STACK_DIR"/app-*.pid; do
    if [[ -e $f ]]; then stop_pidfile "$(basename "$f" .pid)" "$f"; fi
  done
  stop_pidfile pgbouncer "$STACK_DIR/pgbouncer/pgbouncer.pid"
  if alive "$(pid_of "$STACK_DIR/redis/redis.pid")"; then
    log "stack: stopping redis"
    redis-cli -h 127.0.0.1 -p "$STACK_REDIS_PORT" shutdown >/dev/null 2>&1 || true
    stop_pidfile redis "$STACK_DIR/redis/redis.pid"
  fi
  stop_stack_pg replica
  stop_stack_pg primary
}

stack_status() {
  local rc=0 i pid line
  row() { printf '%-12s %-5s %s\n' "$1" "$2" "$3"; [[ $2 == up ]] || rc=1; }
  pid=$(pid_of "$STACK_DIR/nginx/nginx.pid")
  alive "$pid" && row nginx up "https://localhost:$STACK_HTTPS_PORT pid $pid" || row nginx down ":$STACK_HTTPS_PORT"
  for ((i = 1; i <= STACK_N; i++)); do
    pid=$(pid_of "$STACK_DIR/app-$i.pid")
    line="127.0.0.1:$((STACK_APP_PORT + i - 1)) metrics :$((STACK_METRICS_PORT + i - 1))"
    alive "$pid" && row "instance-$i" up "$line pid $pid" || row "instance-$i" down "$line"
  done
  pid=$(pid_of "$STACK_DIR/pgbouncer/pgbouncer.pid")
  alive "$pid" && row pgbouncer up "127.0.0.1:$STACK_PGBOUNCER_PORT pid $pid" || row pgbouncer down ":$STACK_PGBOUNCER_PORT"
  stack_pg_up "$STACK_PRIMARY_PORT" && row primary up "127.0.0.1:$STACK_PRIMARY_PORT" || row primary down ":$STACK_PRIMARY_PORT"
  if stack_pg_up "$STACK_REPLICA_PORT"; then
    line=$(stack_psql "$STACK_REPLICA_PORT" -At -c \
      "select 'lag ' || case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then '0'
         else coalesce(round(extract(epoch from now() - pg_last_xact_replay_timestamp())::numeric, 3)::text, '?') end || ' s'")
    row replica up "127.0.0.1:$STACK_REPLICA_PORT $line"
  else row replica down ":$STACK_REPLICA_PORT"; fi
  stack_redis_up && row redis up "127.0.0.1:$STACK_REDIS_PORT" || row redis down ":$STACK_REDIS_PORT"
  return "$rc"
}

# The Rust integration suite with every app's pools going through the stack's PgBouncer in
# transaction mode (server/tests/it/support/app.rs reads PALISADE_TEST_PGBOUNCER). The test
# databases are made on the primary by its owner. `--workspace` as scripts/test's own cargo
# test, so the same features and the already built test binary are used.
stack_test_rust() {
  local rc
  mkdir -p "$STACK_DIR" "$STACK_LOG"
  start_stack_primary
  start_stack_redis
  start_stack_pgbouncer
  redis-cli -p "$STACK_REDIS_PORT" -n 1 flushdb >/dev/null
  PG_PORT=$STACK_PRIMARY_PORT drop_test_databases
  log "stack: the Rust integration suite through PgBouncer"
  DATABASE_OWNER_URL="postgres://palisade@127.0.0.1:$STACK_PRIMARY_PORT/$STACK_DB" \
    PALISADE_TEST_PGBOUNCER="127.0.0.1:$STACK_PGBOUNCER_PORT" \
    REDIS_URL="redis://127.0.0.1:$STACK_REDIS_PORT/1" \
    RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}" \
    cargo test --workspace --test it -- "$@" || rc=$?
  # A database per test, on the primary and again on the replica: ≈ 1.5 GB each after a
  # run. Give the disk back at once (`ci` removes the whole data dirs instead: faster).
  [[ -n ${STACK_KEEP_TEST_DATABASES:-} ]] || PG_PORT=$STACK_PRIMARY_PORT drop_test_databases
  return "${rc:-0}"
}
