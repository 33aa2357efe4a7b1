#!/usr/bin/env bash
# Checks the drawing page in headless Chromium and saves a screenshot.
#
# Usage: scripts/server/browser-check.sh [CHECKPOINT]
#   Starts the server (see lib.sh: CHECKPOINT, or ADDER_SERVER_CMD), opens
#   http://127.0.0.1:$PORT/?demo=$DEMO_DIGIT&addend=$DEMO_ADDEND, where demo mode draws the digit from
#   built-in strokes on the canvas and posts it to /api/predict, then checks the rendered DOM (the digit
#   element holds 0–9, the equation shows the addend, ten bars exist, the page reached state "ready")
#   and writes a screenshot.
# Environment: PORT (8089), DEMO_DIGIT (7), DEMO_ADDEND (3), SCREENSHOT (docs/server-screenshot.png),
#   WINDOW (880,620). Installs Debian's chromium if it is missing. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/server/lib.sh

PORT="${PORT:-8089}"
DEMO_DIGIT="${DEMO_DIGIT:-7}"
DEMO_ADDEND="${DEMO_ADDEND:-3}"
SCREENSHOT="${SCREENSHOT:-docs/server-screenshot.png}"
WINDOW="${WINDOW:-880,620}"
work="$(mktemp -d)"
command="$(server_command "${1:-}")"

ensure_package chromium chromium
ensure_package curl curl
start_server "$command" "$work/server.log"

url="http://127.0.0.1:$PORT/?demo=$DEMO_DIGIT&addend=$DEMO_ADDEND"
browser=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
    --user-data-dir="$work/profile" --window-size="$WINDOW" --virtual-time-budget=5000)

timeout 60 "${browser[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/chromium.log"
failed=0
check() { # check DESCRIPTION EXTENDED-REGEX
    if grep -Eq "$2" "$work/dom.html"; then echo "ok:   $1"; else echo "FAIL: $1"; failed=1; fi
}
check "page reached state ready" '<body data-state="ready"'
check "digit element holds 0-9" '<div id="digit">[0-9]</div>'
check "equation shows the addend $DEMO_ADDEND" "<div id=\"equation\">[0-9] \\+ $DEMO_ADDEND = -?[0-9]+</div>"
check "server time shown" '<div id="status"[^>]*>[0-9.]+ ms on the server</div>'
bars=$(grep -o 'class="bar[ "]' "$work/dom.html" | wc -l)
if [[ "$bars" -eq 10 ]]; then echo "ok:   ten bars"; else echo "FAIL: $bars bars, expected 10"; failed=1; fi
grep -Eo '<div id="(digit|equation|raw)">[^<]*</div>' "$work/dom.html" | sed 's/^/      /'

mkdir -p "$(dirname "$SCREENSHOT")"
timeout 60 "${browser[@]}" --screenshot="$work/shot.png" "$url" >/dev/null 2>>"$work/chromium.log"
cp "$work/shot.png" "$SCREENSHOT"
echo "screenshot: $SCREENSHOT"
if [[ "$failed" -ne 0 ]]; then
    echo "page checks failed; DOM kept in $work/dom.html" >&2
    exit 1
fi
rm -rf "$work"
