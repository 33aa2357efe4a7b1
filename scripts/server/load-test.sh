#!/usr/bin/env bash
# Load test of the prediction server, on loopback only, bounded in time.
#
# Usage: scripts/server/load-test.sh [CHECKPOINT]
#   For each batching mode in BATCHING ("on off": the server as configured, then with --batch-wait 0),
#   starts the server (see lib.sh: CHECKPOINT, the shipped model without it, or ADDER_SERVER_CMD, to
#   which "--batch-wait 0" is appended for "off"; SERVE_ARGS adds flags), checks one request by hand,
#   then while IDLE idle keep-alive connections and SLOW_HEADS + SLOW_BODIES slow clients are connected
#   (scripts/server/clients.py), runs wrk for DURATION with THREADS threads over each number of busy
#   connections in CONNECTIONS, each POSTing the same valid {"pixels": [784 values], "addend": 7} body,
#   and stops the server. Prints, per run, requests/s, p50/p90/p99 latency, errors and the mean batch
#   size the answers report; what the idle and slow clients saw (the slow clients' 408s are expected
#   answers, counted apart); /healthz timed under that load; and the server's resident memory, sampled
#   every second; then one table of all runs with a column saying whether batching was on. ROUNDS
#   repeats the CONNECTIONS list, to see whether memory settles. Exits 1 when wrk saw an error or a
#   client saw something unexpected.
# Environment: PORT (8089), DURATION (15s), THREADS (2), CONNECTIONS ("16 64 256"), ROUNDS (1),
#   BATCHING ("on off"), IDLE (1000), SLOW_HEADS (4), SLOW_BODIES (4). Installs Debian's wrk, curl and
#   iproute2 (ss) if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/server/lib.sh

PORT="${PORT:-8089}"
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16 64 256}"
ROUNDS="${ROUNDS:-1}"
IDLE="${IDLE:-1000}"
SLOW_HEADS="${SLOW_HEADS:-4}"
SLOW_BODIES="${SLOW_BODIES:-4}"
BATCHING="${BATCHING:-on off}"
work="$(mktemp -d)"
base_command="$(server_command "${1:-}")"

ensure_package wrk wrk
ensure_package curl curl
ensure_package ss iproute2

# A thick ring (a "0") with varied ink levels, as 784 row-major integers.
pixels=$(awk 'BEGIN { for (i = 0; i < 784; i++) { y = int(i / 28) - 13.5; x = i % 28 - 13.5;
    r = sqrt(x * x / 36 + y * y / 81); v = (r > 0.7 && r < 1.3) ? 150 + i % 100 : 0;
    printf "%s%d", (i ? "," : ""), v } }')
body="{\"pixels\":[$pixels],\"addend\":7}"
printf '%s' "$body" >"$work/body.json"

cat >"$work/predict.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'

-- The batch size each answer reports, summed per wrk thread and added up in done().
local threads = {}
function setup(thread)
    table.insert(threads, thread)
end
batched, answers = 0, 0
function response(status, headers, body)
    local size = body:match('"batchSize":(%d+)')
    if size then batched, answers = batched + tonumber(size), answers + 1 end
end

function done(summary, latency, requests)
    local e = summary.errors
    local b, n = 0, 0
    for _, thread in ipairs(threads) do
        b, n = b + (thread:get("batched") or 0), n + (thread:get("answers") or 0)
    end
    io.write(string.format("RESULT %.1f %.2f %.2f %.2f %.2f %d %d %d %d %d %d %.1f\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
        e.connect, e.read, e.write, e.timeout, e.status, n > 0 and b / n or 0))
end
LUA

# One batching mode: start the server with COMMAND, connect the idle and slow clients, run wrk over every
# connection count, report, stop the server.
run_mode() { # run_mode on|off COMMAND
mode=$1
echo "== batching $mode: $2"
start_server "$2" "$work/server-$mode.log"
pid="$(server_pid)"
[[ -n "$pid" ]] || { echo "no process listens on 127.0.0.1:$PORT" >&2; exit 1; }
echo "one request:"
curl -fsS -H 'Content-Type: application/json' --data-binary "@$work/body.json" \
    "http://127.0.0.1:$PORT/api/predict" | cut -c1-160
echo

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0; }
start=$SECONDS
(while kill -0 "$pid" 2>/dev/null; do echo "$((SECONDS - start)) $(rss_kib)"; sleep 1; done) >"$work/rss.log" &
sampler=$!

python3 scripts/server/clients.py --port "$PORT" --idle "$IDLE" --slow-heads "$SLOW_HEADS" \
    --slow-bodies "$SLOW_BODIES" --duration 900 >"$work/clients.json" &
clients=$!
trap 'kill -TERM $clients $sampler 2>/dev/null || true; stop_server' EXIT
# Wait (at most 60 s) until the idle clients are connected: the server holds a descriptor for each.
for _ in $(seq 1 120); do
    (( $(ls "/proc/$pid/fd" | wc -l) >= IDLE )) && break
    sleep 0.5
done
echo "server: pid $pid, $(ls "/proc/$pid/fd" | wc -l) open descriptors with the idle and slow clients connected"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "$table_head"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for connections in $(for _ in $(seq 1 "$ROUNDS"); do echo $CONNECTIONS; done); do
    line=$(timeout 300 wrk --latency --timeout 5s -t"$THREADS" -c"$connections" -d"$DURATION" \
        -s "$work/predict.lua" "http://127.0.0.1:$PORT/api/predict" | grep '^RESULT' || true)
    [[ -n "$line" ]] || { echo "wrk gave no result for $connections connections" >&2; failed=1; continue; }
    read -r _ rps p50 p90 p99 max requests connect read write timeouts status batch <<<"$line"
    errors=$((connect + read + write + timeouts + status))
    ((errors == 0)) || failed=1
    row="| $mode | $connections | $rps | $p50 ms | $p90 ms | $p99 ms | $max ms | $requests | $errors ($connect/$read/$write/$timeouts/$status) | $batch | $(awk '{ printf "%.1f MiB", $1 / 1024 }' <<<"$(rss_kib)") |"
    echo "$row"
    echo "$row" >>"$work/rows"
done
echo

echo "/healthz with the idle and slow clients still connected: $(curl -fsS -o /dev/null \
    -w '%{http_code} in %{time_total} s' "http://127.0.0.1:$PORT/healthz")"
kill -TERM "$clients"
wait "$clients" || failed=1
echo "idle and slow clients: $(cat "$work/clients.json")"
kill "$sampler" 2>/dev/null || true
echo
echo "server RSS (seconds since the clients started: MiB), every 10 s:"
awk 'NR % 10 == 1 { printf "%s%ss %.1f", (n++ ? ", " : ""), $1, $2 / 1024 } END { print "" }' "$work/rss.log"
awk 'NR > 5 { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
     END { printf "after the first 5 s: min %.1f MiB, max %.1f MiB\n", min / 1024, max / 1024 }' "$work/rss.log"
stop_server
}

failed=0
table_head="| batching | busy connections | requests/s | p50 | p90 | p99 | max | requests | errors (connect/read/write/timeout/non-2xx) | mean batch | server RSS after |"
for mode in $BATCHING; do
    case "$mode" in
        on) run_mode on "$base_command" ;;
        off) run_mode off "$base_command --batch-wait 0" ;;
        *) echo "BATCHING: expected 'on' and/or 'off', found '$mode'" >&2; exit 2 ;;
    esac
done
echo "all runs (load $(cut -d' ' -f1-3 /proc/loadavg) at the end):"
echo "$table_head"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
cat "$work/rows" 2>/dev/null || true
rm -rf "$work"
exit "$failed"
