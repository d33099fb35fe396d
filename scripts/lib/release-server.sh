# Shared by scripts/load.sh and scripts/profile.sh (sourced, not run): the
# release build, a temporary work folder, a server on a free loopback port
# over an on-disk store, and cleanup of everything started.
#
# The caller sets nothing; it gets BIN, WORK, BASE, PORT, SERVER_PID,
# READY_MS and the functions below. LOAD_PID, if set, is stopped on exit too.

TARGET=${CARGO_TARGET_DIR_RELEASE:-$HOME/.cache/authbridge/target-release}
BIN="$TARGET/release/authbridge"

# need COMMAND PACKAGE: installs the Debian package when the command is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return
    echo "==> installing $2 (Debian package)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y "$2"; else sudo apt-get install -y "$2"; fi
}
need curl curl
need python3 python3

build_release() {
    echo "==> release build (CARGO_TARGET_DIR=$TARGET; ~50 minutes the first time)"
    CARGO_TARGET_DIR="$TARGET" cargo build --release --features ssr --bin authbridge
}

WORK=$(mktemp -d)
SERVER_PID=""
LOAD_PID=""
cleanup() {
    [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status"; }
peak_mib() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status"; }

# seed DB_DIR N: N users load_0 .. load_{N-1}, password load-test-password.
seed() {
    "$BIN" --database-url "surrealkv://$1?sync=every" seed --users "$2" --password load-test-password
}

# start_server DB_DIR: starts the server over that store and waits for /healthz.
start_server() {
    PORT=$(free_port)
    BASE="http://127.0.0.1:$PORT"
    AUTHBRIDGE_DATABASE_URL="surrealkv://$1?sync=every" \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
    LEPTOS_SITE_ROOT="$PWD/target/site" \
    LEPTOS_OUTPUT_NAME=authbridge \
    SECRET_KEY="load-test-secret-$(date +%s%N)-0123456789abcdef" \
    AUTHBRIDGE_RATE_LIMIT=off \
    RUST_LOG=warn \
        "$BIN" 2>"$WORK/server.log" &
    SERVER_PID=$!
    local started
    started=$(date +%s%N)
    until curl -sf "$BASE/healthz" >/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
        sleep 0.01
    done
    READY_MS=$(( ($(date +%s%N) - started) / 1000000 ))
}

# wait_idle: waits (up to 120 s) until the server has used under 5% of a core
# for one second, and sets SETTLED_S to the seconds it took. Over a freshly
# seeded store SurrealKV compacts in the background for a few seconds after
# opening; measurements taken during that share the cores with it.
wait_idle() {
    local ticks_per_s waited=0 before after
    ticks_per_s=$(getconf CLK_TCK)
    while [ "$waited" -lt 120 ]; do
        before=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
        sleep 1
        waited=$((waited + 1))
        after=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
        [ $(( (after - before) * 20 )) -lt "$ticks_per_s" ] && break
    done
    SETTLED_S=$waited
}

stop_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

# token_for USER: an access token from the token endpoint.
token_for() {
    curl -sf -d "username=$1" -d password=load-test-password "$BASE/api/token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
