#!/usr/bin/env bash
# Load test of POST /api/predict with wrk, on loopback only, bounded in time.
#
# Usage: scripts/server/load-test.sh [CHECKPOINT]
#   Starts the server (see lib.sh: CHECKPOINT, or ADDER_SERVER_CMD), checks one request by hand, then
#   runs wrk for DURATION with THREADS threads and CONNECTIONS connections, each POSTing the same valid
#   {"pixels": [784 values], "addend": 7} body, and prints requests/s, p50/p90/p99 latency and errors.
# Environment: PORT (8089), DURATION (10s), THREADS (2), CONNECTIONS (16). Installs Debian's wrk if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/server/lib.sh

PORT="${PORT:-8089}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
work="$(mktemp -d)"
command="$(server_command "${1:-}")"

ensure_package wrk wrk
ensure_package curl curl
start_server "$command" "$work/server.log"

# A thick ring (a "0") with varied ink levels, as 784 row-major integers.
pixels=$(awk 'BEGIN { for (i = 0; i < 784; i++) { y = int(i / 28) - 13.5; x = i % 28 - 13.5;
    r = sqrt(x * x / 36 + y * y / 81); v = (r > 0.7 && r < 1.3) ? 150 + i % 100 : 0;
    printf "%s%d", (i ? "," : ""), v } }')
body="{\"pixels\":[$pixels],\"addend\":7}"
printf '%s' "$body" >"$work/body.json"

echo "one request:"
curl -fsS -H 'Content-Type: application/json' --data-binary "@$work/body.json" \
    "http://127.0.0.1:$PORT/api/predict" | cut -c1-160
echo

cat >"$work/predict.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("requests/s: %.1f\n", summary.requests / (summary.duration / 1e6)))
    io.write(string.format("requests: %d in %.1f s\n", summary.requests, summary.duration / 1e6))
    io.write(string.format("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000))
    io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
        e.connect, e.read, e.write, e.timeout, e.status))
end
LUA

echo "wrk: $DURATION, $THREADS threads, $CONNECTIONS connections, POST http://127.0.0.1:$PORT/api/predict"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
timeout 120 wrk --latency --timeout 5s -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$work/predict.lua" \
    "http://127.0.0.1:$PORT/api/predict"
rm -rf "$work"
