# shellcheck shell=bash
# The cross-instance proof on a running stack (`scripts/stack proof`): what one instance
# does, the others see at once, because sessions, limits and the post cache live in Redis and
# revocations in Postgres; and nginx routes around an instance killed mid-run. "Instance A"
# and "B" are reached on their own ports (as nginx would pick them), the rest through nginx.
# Needs curl, jq, and MailDev's API (the shared one) for the confirmation email.

PROOF_FAILED=0
MAILDEV_API="${MAILDEV_API_URL:-http://127.0.0.1:$MAILDEV_WEB_PORT}"
A="http://127.0.0.1:$STACK_APP_PORT"
B="http://127.0.0.1:$((STACK_APP_PORT + 1))"
EDGE=$STACK_PUBLIC_URL
CACERT=$STACK_DIR/nginx/cert.pem
SESSION_COOKIE=__Host-palisade_session

check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then info "PASS $1"; else warn "FAIL $1"; PROOF_FAILED=1; fi
}
eq() { [[ $1 == "$2" ]] || { warn "  expected [$2], got [$1]"; return 1; }; }

# call BASE PATH [COOKIE] [curl args...]: a server function as the hydrated page posts it.
# Prints "STATUS LOCATION" on the first line, the body after.
call() {
  local base=$1 path=$2 cookie=${3:-} xff=(); shift 3 || shift $#
  # Straight to an instance: as nginx would forward the run's client address.
  [[ $base == "$EDGE" ]] || xff=(-H "X-Forwarded-For: $PROOF_IP")
  curl -s --cacert "$CACERT" --max-time 20 -o "$STACK_DIR/proof-body" -D "$STACK_DIR/proof-headers" \
    -w '%{http_code}' -X POST -H "Origin: $EDGE" ${cookie:+-H "Cookie: $SESSION_COOKIE=$cookie"} \
    "${xff[@]}" "$@" "$base$path"
}
header() { grep -i "^$1:" "$STACK_DIR/proof-headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
session_from_headers() { header set-cookie | sed -n "s/^$SESSION_COOKIE=\([^;]*\).*/\1/p"; }
role() { # role BASE COOKIE: the Postgres role a request with this session runs as
  call "$1" /api/check_database "$2" >/dev/null; jq -r .role "$STACK_DIR/proof-body"
}

# The newest confirmation token mailed to $1 (the outbox worker of any instance sends it).
mailed_token() {
  curl -fs "$MAILDEV_API/api/email" |
    jq -r --arg to "$1" '[.[] | select(.to[0].address == $to)] | last | .text // empty' |
    grep -o 'token=[A-Za-z0-9_-]*' | head -1 | cut -d= -f2
}

stack_proof() {
  local -   # errexit off in here only: every check runs and reports; the verdict is at the end
  set +e
  local email password token status cookie title slug access refresh i
  email="stack-$(openssl rand -hex 6)@stack.test" password="Quiet-$(openssl rand -hex 4)-Harbour"
  # One made-up client address per run (the instances trust 127.0.0.1's X-Forwarded-For), so
  # the per-address limits of one run do not carry over into the next.
  PROOF_IP="198.51.100.$((RANDOM % 250 + 1))"
  info "proof: $STACK_N instances, nginx $EDGE, user $email"

  # --- sessions: sign up on A, confirm on B, sign in on A, the session answers on B ---------
  status=$(call "$A" /api/auth/sign_up "" --data-urlencode "email=$email" --data-urlencode "password=$password")
  check "sign-up on A is accepted" eq "$status $(header location)" "200 /signup/done"
  for ((i = 0; i < 150; i++)); do token=$(mailed_token "$email"); [[ -n $token ]] && break; sleep 0.2; done
  check "the confirmation email arrives (outbox worker)" test -n "$token"
  status=$(call "$B" /api/auth/verify "" --data-urlencode "token=$token")
  check "the link confirms on B" eq "$status $(header location)" "200 /signin?verified=1"
  status=$(call "$A" /api/auth/sign_in "" --data-urlencode "email=$email" --data-urlencode "password=$password")
  cookie=$(session_from_headers)
  check "sign-in on A" eq "$status $(header location)" "200 /account"
  check "the session made on A is signed in on B" eq "$(role "$B" "$cookie")" authenticated
  check "and through nginx" eq "$(role "$EDGE" "$cookie")" authenticated

  # --- cache invalidation: publish on A, the anonymous list on B shows it at once -----------
  title="Stack proof $(openssl rand -hex 4)"
  call "$B" /api/posts/list "" >/dev/null   # warm B's view of the cached list first
  status=$(call "$A" /api/posts/create "$cookie" --data-urlencode "title=$title" \
    --data-urlencode "body=Published on A." --data-urlencode "intent=publish")
  check "publish on A" eq "$status" 200
  call "$B" /api/posts/list "" >/dev/null
  check "the anonymous list on B shows it" grep -qF "$title" "$STACK_DIR/proof-body"

  # --- revocation: an API sign-in through nginx, ended on B, refused on A -------------------
  curl -s --cacert "$CACERT" -o "$STACK_DIR/proof-body" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$EDGE/auth/v1/token?grant_type=password"
  access=$(jq -r .access_token "$STACK_DIR/proof-body") refresh=$(jq -r .refresh_token "$STACK_DIR/proof-body")
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $access" "$A/auth/v1/user")
  check "the API token works on A" eq "$status" 200
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $access" "$B/auth/v1/logout")
  check "sign-out on B" eq "$status" 204
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $access" "$A/auth/v1/user")
  check "the ended sign-in's access token is refused on A" eq "$status" 401
  status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"refresh_token\":\"$refresh\"}" "$A/auth/v1/token?grant_type=refresh_token")
  check "so is its refresh token, on A" eq "$status" 400
  call "$B" /api/auth/sign_out "$cookie" >/dev/null
  check "the browser session signed out on B is anonymous on A" eq "$(role "$A" "$cookie")" anon

  # --- rate limits are counted once for all instances ----------------------------------------
  # Wrong passwords for one account from one address alternate between A and B; the back-off
  # (after 6 failures of an (account, address) pair the next attempt waits 2 s) must count
  # the failures of both: the 7th attempt is refused, though each instance saw at most 4.
  local codes=""
  for ((i = 1; i <= 7; i++)); do
    local base=$A; ((i % 2)) || base=$B
    codes+="$(call "$base" /api/auth/sign_in "" \
      --data-urlencode "email=$email" --data-urlencode "password=wrong-$i") "
  done
  info "  wrong-password answers A/B alternating: $codes"
  check "the 7th wrong password across A and B is held back (429)" eq "${codes% }" "$(printf '%s' "${codes% }" | sed 's/[0-9]*$/429/')"

  proof_kill_instance
  proof_replica
  ((PROOF_FAILED == 0)) || { warn "proof: FAILED"; return 1; }
  log "proof: all checks passed"
}

# SIGKILL instance 2 while requests run through nginx: idempotent requests are retried on
# the other instance, so none may fail; a signed-in session survives (it lives in Redis).
proof_kill_instance() {
  local email password status cookie pid i n=300 out=$STACK_DIR/proof-kill
  email="stack-kill-$(openssl rand -hex 6)@stack.test" password="Quiet-$(openssl rand -hex 4)-Harbour"
  : >"$out"
  # A signed-in browser through nginx, to show its session outlives the kill.
  call "$A" /api/auth/sign_up "" --data-urlencode "email=$email" --data-urlencode "password=$password" >/dev/null
  local token; for ((i = 0; i < 150; i++)); do token=$(mailed_token "$email"); [[ -n $token ]] && break; sleep 0.2; done
  call "$A" /api/auth/verify "" --data-urlencode "token=$token" >/dev/null
  call "$EDGE" /api/auth/sign_in "" --data-urlencode "email=$email" --data-urlencode "password=$password" >/dev/null
  cookie=$(session_from_headers)
  KILL_COOKIE=$cookie
  (for ((i = 0; i < n; i++)); do
    curl -s -o /dev/null --cacert "$CACERT" --max-time 20 -w '%{http_code}\n' \
      -H "Cookie: $SESSION_COOKIE=$cookie" "$EDGE/posts" >>"$out"
  done) &
  local load=$!
  while (($(wc -l <"$out") < n / 3)); do sleep 0.05; done
  pid=$(pid_of "$STACK_DIR/app-2.pid")
  info "  SIGKILL instance 2 (pid $pid) after $(wc -l <"$out") of $n requests"
  kill -KILL "$pid"
  wait "$load"
  local bad; bad=$(grep -cv '^200$' "$out" || true)
  info "  answers: $(sort "$out" | uniq -c | tr -s ' \n' ' ')"
  check "no request failed while an instance died ($n GET /posts through nginx)" eq "$bad" 0
  check "the session signed in before the kill is still signed in" eq "$(role "$EDGE" "$cookie")" authenticated
  rm -f "$STACK_DIR/app-2.pid"
  start_stack_instance 2
  check "instance 2 is back" instance_ready "$((STACK_APP_PORT + 1))"
}

# Public reads counted by where they went, on instance I's /metrics.
public_reads() { # public_reads I replica|primary
  curl -s "http://127.0.0.1:$((STACK_METRICS_PORT + $1 - 1))/metrics" |
    awk -v want="db_public_reads_total{pool=\"$2\"}" '$1 == want { print $2; found=1 } END { if (!found) print 0 }'
}
replica_says() { # replica_says I ok|degraded: instance I's /ready (200 either way)
  [[ $(curl -s -w ' %{http_code}' "http://127.0.0.1:$((STACK_APP_PORT + $1 - 1))/ready" |
    sed 's/.*"replica":"\([a-z]*\)".* \([0-9]*\)$/\1 \2/') == "$2 200" ]]
}
# Whether the replica has replayed everything the primary had written when asked.
replica_caught_up() {
  local at; at=$(stack_psql "$STACK_PRIMARY_PORT" -At -c "select pg_current_wal_insert_lsn()")
  [[ $(stack_psql "$STACK_REPLICA_PORT" -At -c "select pg_last_wal_replay_lsn() >= '$at'") == t ]]
}
# Publishes a post as the kill proof's user and lists anonymously on A; prints nothing,
# returns whether the list shows it. With the replica up, the list is asked once the
# replica has replayed the publish (the app would read the primary a few ms earlier).
publish_and_list() {
  local title="Replica proof $(openssl rand -hex 4)"
  call "$A" /api/posts/create "$KILL_COOKIE" --data-urlencode "title=$title" \
    --data-urlencode "body=Read back." --data-urlencode "intent=publish" >/dev/null
  if stack_pg_up "$STACK_REPLICA_PORT"; then wait_until 5 "replica replay" replica_caught_up; fi
  call "$A" /api/posts/list "" >/dev/null
  grep -qF "$title" "$STACK_DIR/proof-body"
}

# The replica serves A's public reads; stopped, they fall back to the primary and /ready says
# degraded (still 200); started again, they return to it.
proof_replica() {
  local r p dir; dir=$(stack_pg_dir replica)
  wait_until 20 "replica ok" replica_says 1 ok
  r=$(public_reads 1 replica)
  check "a post published on A is in A's anonymous list" publish_and_list
  check "that list was read from the replica" test "$(public_reads 1 replica)" -gt "$r"
  info "  stopping the replica"
  stack_pg_ctl stop -D "$dir" -m fast -w -t 60 -s
  check "/ready says the replica is degraded, and stays 200" wait_until 20 "replica degraded" replica_says 1 degraded
  r=$(public_reads 1 replica) p=$(public_reads 1 primary)
  check "with the replica down, a new post is in the anonymous list" publish_and_list
  check "read from the primary" test "$(public_reads 1 primary)" -gt "$p"
  check "and not from the replica" test "$(public_reads 1 replica)" -eq "$r"
  info "  starting the replica"
  start_stack_replica
  check "/ready says the replica is ok again" wait_until 30 "replica ok" replica_says 1 ok
  r=$(public_reads 1 replica)
  check "a post published now is in the anonymous list" publish_and_list
  check "read from the replica again" test "$(public_reads 1 replica)" -gt "$r"
}
