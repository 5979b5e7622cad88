# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are used by the scripts that source this
# Shared by every script: repo root, logging, local service ports, and the env the app reads.
# Source it; it defines functions and variables only, and is safe to source twice.
[[ -n ${PALISADE_COMMON_SH:-} ]] && return 0
PALISADE_COMMON_SH=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
DATA_DIR="$ROOT/.data"
LOG_DIR="$DATA_DIR/logs"
E2E_DIR="$ROOT/end2end"

# Local service ports. Script knobs, deliberately not exported: the app only sees the URLs below.
PG_PORT="${PALISADE_PG_PORT:-55432}"
REDIS_PORT="${PALISADE_REDIS_PORT:-56379}"
SMTP_PORT="${PALISADE_SMTP_PORT:-1025}"
MAILDEV_WEB_PORT="${PALISADE_MAILDEV_WEB_PORT:-1080}"
PG_BIN="${PALISADE_PG_BIN:-/usr/lib/postgresql/15/bin}"

# Logging: one timestamped line per step, on stderr so command output stays clean.
log()  { printf '%(%H:%M:%S)T ==> %s\n' -1 "$*" >&2; }
info() { printf '%(%H:%M:%S)T     %s\n' -1 "$*" >&2; }
warn() { printf '%(%H:%M:%S)T WARN %s\n' -1 "$*" >&2; }
die()  { printf '%(%H:%M:%S)T FAIL %s\n' -1 "$*" >&2; exit 1; }

# The env the app (and the Rust tests, and Playwright) read.
#   palisade_env dev   .env wins over the defaults, the caller's environment wins over .env
#   palisade_env test  fixed values, never .env: a test run must not depend on a developer's setup
palisade_env() {
  local mode=${1:?palisade_env dev|test} db=palisade redis_db=""
  if [[ $mode == dev ]]; then
    load_dotenv "$ROOT/.env"
    export PALISADE_ENV="${PALISADE_ENV:-development}"
  else
    # Own database (recreated by scripts/test) and Redis db 1 (flushed), so test runs start
    # clean and never touch a developer's data or rate-limit counters.
    db=palisade_test redis_db=/1
    unset DATABASE_URL DATABASE_OWNER_URL REDIS_URL SMTP_URL MAILDEV_API_URL PALISADE_PUBLIC_URL
    export PALISADE_ENV=development
    # A fixed, non-secret key: tests need determinism, not secrecy.
    export PALISADE_SECRET=0000000000000000000000000000000000000000000000000000000000000000
    # Metrics on a free loopback port: a test server must not collide with a dev server's.
    export PALISADE_METRICS_LISTEN="${PALISADE_METRICS_LISTEN:-127.0.0.1:0}"
    # The Supabase contract suite plays API clients behind a proxy (each with its own
    # X-Forwarded-For), so their sign-ins do not share 127.0.0.1's rate limits with the
    # browser specs, as real clients behind nginx would not.
    export PALISADE_TRUSTED_PROXIES="${PALISADE_TRUSTED_PROXIES:-127.0.0.1}"
  fi
  PALISADE_DB_NAME=$db
  export DATABASE_URL="${DATABASE_URL:-postgres://authenticator@127.0.0.1:$PG_PORT/$db}"
  export DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-postgres://palisade@127.0.0.1:$PG_PORT/$db}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT$redis_db}"
  export SMTP_URL="${SMTP_URL:-smtp://127.0.0.1:$SMTP_PORT}"
  export MAILDEV_API_URL="${MAILDEV_API_URL:-http://127.0.0.1:$MAILDEV_WEB_PORT}"
  # cargo-leptos serves on LEPTOS_SITE_ADDR (127.0.0.1:3000 unless overridden, e.g. to run two
  # checkouts side by side); links and the allowed Origin follow it, named `localhost` rather
  # than 127.0.0.1: browsers refuse passkeys (WebAuthn) on an IP address.
  local site=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
  export PALISADE_PUBLIC_URL="${PALISADE_PUBLIC_URL:-http://${site/#127.0.0.1:/localhost:}}"
  # Playwright must never fetch its own browsers (no network for it here): it uses /usr/bin/chromium.
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
}

# Export KEY=VALUE lines of a dotenv file, skipping keys already set (dotenvy's rule, so the
# scripts and the server agree). Not `source`: a .env is data, not shell.
load_dotenv() {
  local file=$1 line key val
  [[ -f $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z $line || $line == \#* || $line != *=* ]] && continue
    line="${line#export }"
    key="${line%%=*}" val="${line#*=}"
    [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    [[ $val =~ ^\"(.*)\"$ || $val =~ ^\'(.*)\'$ ]] && val="${BASH_REMATCH[1]}"
    [[ -n ${!key+x} ]] || export "$key=$val"
  done <"$file"
}

# Write .env once (never overwritten: it holds the developer's secret and edits).
write_dotenv_if_absent() {
  local file="$ROOT/.env" secret
  [[ -f $file ]] && return 0
  secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  log "writing $file (fresh PALISADE_SECRET)"
  (umask 077; cat >"$file" <<EOF
# Written by scripts/dev. Yours to edit; delete it to get a fresh one. Never commit it.
PALISADE_ENV=development
PALISADE_SECRET=$secret
PALISADE_PUBLIC_URL=http://localhost:3000
DATABASE_URL=postgres://authenticator@127.0.0.1:$PG_PORT/palisade
DATABASE_OWNER_URL=postgres://palisade@127.0.0.1:$PG_PORT/palisade
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
MAILDEV_API_URL=http://127.0.0.1:$MAILDEV_WEB_PORT
EOF
  )
}

# Poll until a command succeeds: wait_until SECONDS DESCRIPTION CMD...
wait_until() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1)); shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { warn "$what: not ready after ${limit}s"; return 1; }
    sleep 0.2
  done
}
