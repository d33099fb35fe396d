#!/usr/bin/env bash
# Where the time of one protected page goes (manual; not part of `make test`).
#
# Builds the release server, starts it on loopback over a temporary store,
# drives the protected page `/` with a valid access cookie from wrk, samples
# the server with `perf record` (DWARF call stacks) and draws a flame graph
# with inferno. Prints the functions that take the most time, by self time
# and by inclusive time, so the picture can be read in a terminal too.
# Everything it starts is stopped on exit.
#
#   scripts/profile.sh                      # writes docs/profile-protected-page.svg
#   PROFILE_PATH=/api/me scripts/profile.sh # another route (Bearer instead of cookie)
#
# Needs perf (Debian's linux-perf, installed when missing; `perf_event_paranoid`
# must allow it, as on the development machine) and inferno (cargo install,
# once). Settings: PROFILE_SECONDS (8), PROFILE_PATH (/), PROFILE_OUT,
# PROFILE_FOLDED.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_SAMPLED=${PROFILE_SECONDS:-8}
ROUTE=${PROFILE_PATH:-/}
OUT=${PROFILE_OUT:-docs/profile-$( [ "$ROUTE" = / ] && echo protected-page || echo "${ROUTE//\//-}" | sed 's/^-//').svg}

# shellcheck source=lib/release-server.sh
. "$(dirname "$0")/lib/release-server.sh"
need wrk wrk
need perf linux-perf
if ! command -v inferno-flamegraph >/dev/null 2>&1; then
    echo "==> installing inferno (flame graphs) from crates.io"
    cargo install --locked inferno
fi
build_release

seed "$WORK/db" 10
start_server "$WORK/db"
ACCESS=$(token_for load_1)
if [ "$ROUTE" = / ] || [ "$ROUTE" = /account ]; then
    AUTH=("Cookie: authbridge_access=$ACCESS")
else
    AUTH=("Authorization: Bearer $ACCESS")
fi

echo "==> warming up, then sampling $ROUTE for ${SECONDS_SAMPLED}s"
wrk -t1 -c32 -d2s -H "${AUTH[0]}" "$BASE$ROUTE" >/dev/null
wrk -t1 -c32 -d"$(( SECONDS_SAMPLED + 2 ))s" -H "${AUTH[0]}" "$BASE$ROUTE" >"$WORK/wrk.txt" &
LOAD_PID=$!
sleep 1
perf record -F 499 --call-graph dwarf,32768 -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep "$SECONDS_SAMPLED" 2>"$WORK/perf.log"
wait "$LOAD_PID" || true
LOAD_PID=""
grep -E 'Requests/sec' "$WORK/wrk.txt" || true
stop_server

echo "==> folding stacks"
perf script --no-inline -i "$WORK/perf.data" 2>/dev/null | inferno-collapse-perf >"$WORK/folded.txt"
mkdir -p "$(dirname "$OUT")"
inferno-flamegraph --title "authbridge: GET $ROUTE under load ($(date -u +%Y-%m-%d), release, $(nproc) cores)" \
    --width 1600 --minwidth 0.5 <"$WORK/folded.txt" >"$OUT"
echo "==> wrote $OUT"
# PROFILE_FOLDED=FILE keeps the folded stacks, e.g. to weigh one function.
[ -n "${PROFILE_FOLDED:-}" ] && cp "$WORK/folded.txt" "$PROFILE_FOLDED"

# The same samples as a table: a frame's share of all samples, as the leaf
# (self) and anywhere on the stack (inclusive, counted once per stack).
python3 - "$WORK/folded.txt" <<'PY'
import collections, re, sys

self_time, inclusive, total = collections.Counter(), collections.Counter(), 0
def short(frame):
    frame = re.sub(r"::h[0-9a-f]{16}$", "", frame)
    return frame if len(frame) < 110 else frame[:107] + "..."
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip().rpartition(" ")
    n = int(count)
    frames = [short(f) for f in stack.split(";")]
    total += n
    self_time[frames[-1]] += n
    for f in set(frames):
        inclusive[f] += n
# perf's cpu-clock event weighs each sample by its period in nanoseconds.
print(f"\n{total / 1e9:.2f} s of CPU time sampled")
for title, table in (("self", self_time), ("inclusive", inclusive)):
    print(f"\ntop 25 by {title} time")
    for frame, n in table.most_common(25):
        print(f"{100 * n / total:6.1f}%  {frame}")
PY
