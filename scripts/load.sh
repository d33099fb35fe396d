#!/usr/bin/env bash
# Load run on loopback (manual; not part of `make test`).
#
# Builds the release server, seeds users into a temporary on-disk store,
# starts the server on a free 127.0.0.1 port, runs wrk for each scenario and
# prints one table: scenario, requests/s, p50, p99, errors, server RSS.
# Everything it starts is stopped on exit.
#
#   scripts/load.sh                 # ~2 minutes after the build
#   LOAD_SCALE=1 scripts/load.sh    # also 1,000,000 users vs 1,000 (+~5 min)
#
# Settings: LOAD_DURATION (10s), LOAD_CONNECTIONS (32), LOAD_THREADS (2),
# LOAD_USERS (1000), CARGO_TARGET_DIR_RELEASE (~/.cache/authbridge/target-release;
# a release build of SurrealDB takes ~50 minutes on 2 cores the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${LOAD_DURATION:-10s}
CONNECTIONS=${LOAD_CONNECTIONS:-32}
THREADS=${LOAD_THREADS:-2}
USERS=${LOAD_USERS:-1000}
# shellcheck source=lib/release-server.sh
. "$(dirname "$0")/lib/release-server.sh"
need wrk wrk
build_release

ROWS=()
row() { ROWS+=("$(printf '| %-44s | %9s | %8s | %8s | %7s | %8s |' "$@")"); }

# run_wrk NAME CONNECTIONS URL [wrk args...]: one scenario, one table row.
run_wrk() {
    local name=$1 conns=$2 url=$3; shift 3
    local out="$WORK/wrk.txt"
    wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "$@" "$url" >"$out"
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
    p50=$(awk '$1=="50%" {print $2}' "$out")
    p99=$(awk '$1=="99%" {print $2}' "$out")
    errors=$(awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(",",""); n+=$4+$6+$8+$10} END {print n+0}' "$out")
    row "$name" "$rps" "$p50" "$p99" "$errors" "$(rss_mib) MiB"
    LAST_P99=$p99
}

# A Lua script for wrk: POST form bodies to the token endpoint.
lua_post() {
    cat >"$WORK/$1.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
local n = 0
request = function()
  n = n + 1
  -- a prime stride: every user in turn, scattered over the key space
  return wrk.format(nil, nil, nil, "username=load_" .. (n * 7919 % $USERS) .. "&password=$2")
end
EOF
    echo "$WORK/$1.lua"
}

# --- 1,000 users -------------------------------------------------------------
echo "==> seeding $USERS users"
seed "$WORK/db" "$USERS"
start_server "$WORK/db"
echo "==> server ready after ${READY_MS} ms; idle RSS $(rss_mib) MiB"
IDLE_RSS=$(rss_mib)
ACCESS=$(token_for load_1)
WRONG=$(lua_post wrong wrong-password-123)

run_wrk "healthz" "$CONNECTIONS" "$BASE/healthz"
run_wrk "protected page / (valid cookie)" "$CONNECTIONS" "$BASE/" -H "Cookie: authbridge_access=$ACCESS"
IDLE_P99=$LAST_P99
run_wrk "/api/me (Bearer)" "$CONNECTIONS" "$BASE/api/me" -H "Authorization: Bearer $ACCESS"
run_wrk "/api/token wrong password, cheap seeded hash" "$CONNECTIONS" "$BASE/api/token" -s "$WRONG"
THREADS=1 run_wrk "the same, one connection (latency)" 1 "$BASE/api/token" -s "$WRONG"

# 64 clients hammer the login with wrong passwords for a real-cost hash while
# the protected page is measured.
REAL=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/json' \
    -H 'Sec-Fetch-Site: same-origin' -d username=real_cost_user -d password=real-cost-password "$BASE/auth/register")
[ "$REAL" = 200 ] || { echo "registering the real-cost user failed: $REAL"; exit 1; }
cat >"$WORK/storm.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "username=real_cost_user&password=wrong-password-123"
EOF
LONGER=$(( ${DURATION%s} + 4 ))
wrk -t1 -c64 -d"${LONGER}s" --latency -s "$WORK/storm.lua" "$BASE/api/token" >"$WORK/storm.txt" &
LOAD_PID=$!
sleep 2
run_wrk "protected page while 64 clients hammer login" "$CONNECTIONS" "$BASE/" -H "Cookie: authbridge_access=$ACCESS"
wait "$LOAD_PID" || true
LOAD_PID=""
STORM_RPS=$(awk '/Requests\/sec/ {printf "%.1f", $2}' "$WORK/storm.txt")
STORM_P99=$(awk '$1=="99%" {print $2}' "$WORK/storm.txt")
STORM_NON2XX=$(awk '/Non-2xx/ {print $NF}' "$WORK/storm.txt")
row "(the login storm itself: 64 conns, argon2)" "$STORM_RPS" "" "$STORM_P99" "${STORM_NON2XX:-0} 4xx/5xx" "$(peak_mib) MiB peak"
PEAK=$(peak_mib)
stop_server
STORE_BYTES=$(du -sb "$WORK/db" | cut -f1)

# --- 1,000,000 users ---------------------------------------------------------
if [ "${LOAD_SCALE:-0}" = 1 ]; then
    echo "==> seeding 1,000,000 users (a few minutes)"
    seed "$WORK/big" 1000000
    start_server "$WORK/big"
    ACCESS=$(token_for load_1)
    WRONG=$(USERS=1000000 lua_post wrong-big wrong-password-123)
    BIG_RSS=$(rss_mib)
    run_wrk "1M users: /api/me, just started (compacting)" "$CONNECTIONS" "$BASE/api/me" -H "Authorization: Bearer $ACCESS"
    wait_idle
    BIG_SETTLED=$SETTLED_S
    run_wrk "1M users: /api/me, store settled" "$CONNECTIONS" "$BASE/api/me" -H "Authorization: Bearer $ACCESS"
    run_wrk "1M users: /api/token wrong password, cheap hash" "$CONNECTIONS" "$BASE/api/token" -s "$WRONG"
    THREADS=1 run_wrk "1M users: the same, one connection (latency)" 1 "$BASE/api/token" -s "$WRONG"
    stop_server
    BIG_BYTES=$(du -sb "$WORK/big" | cut -f1)
fi

echo
echo "authbridge load run, $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$THREADS -d$DURATION"
echo
printf '| %-44s | %9s | %8s | %8s | %7s | %8s |\n' scenario "req/s" p50 p99 errors RSS
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "-----------" "----------" "----------" "---------" "----------"
printf '%s\n' "${ROWS[@]}"
echo
echo "ready after start: ${READY_MS} ms (existing store); idle RSS: ${IDLE_RSS} MiB; peak RSS: ${PEAK} MiB"
echo "idle p99 of the protected page: $IDLE_P99"
echo "store on disk: $STORE_BYTES bytes for $USERS users ($(( STORE_BYTES / USERS )) bytes/user, incl. fixed overhead)"
if [ -n "${BIG_BYTES:-}" ]; then
    echo "store on disk: $BIG_BYTES bytes for 1,000,000 users ($(( BIG_BYTES / 1000000 )) bytes/user); RSS after start over it: $BIG_RSS MiB"
    echo "1,000,000 users: the server was busy (store compaction) until ${BIG_SETTLED} s after the first /api/me run ended"
fi
