#!/usr/bin/env bash
# Checks the drawing page in headless Chromium at a phone's and a desktop's size and saves a screenshot of each.
#
# Usage: scripts/server/browser-check.sh [CHECKPOINT]
#   Starts the server (see lib.sh: CHECKPOINT, the shipped model without it, or ADDER_SERVER_CMD) and runs scripts/server/page_check.py on
#   http://127.0.0.1:$PORT/?addend=$DEMO_ADDEND at 390×844 (a phone: touch events) and 1280×800 (a desktop:
#   mouse events). At each size it draws a 7 on the canvas and checks the answer (a digit 0-9, the equation
#   with the addend, the server time, ten bars), that nothing overflows (the page is no wider than the window,
#   no element sticks out of it or out of its own box; on the desktop the page also fits the window's
#   height), that Tab reaches the canvas, every addend button and Clear, and that Delete clears the canvas;
#   then it writes a screenshot with the answer shown.
# Environment: PORT (8089), DEMO_ADDEND (3), SHOTS (docs: server-phone.png and server-desktop.png in it).
#   Installs Debian's chromium if it is missing. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/server/lib.sh

PORT="${PORT:-8089}"
DEMO_ADDEND="${DEMO_ADDEND:-3}"
SHOTS="${SHOTS:-docs}"
work="$(mktemp -d)"
command="$(server_command "${1:-}")"

ensure_package chromium chromium
ensure_package curl curl
ensure_package python3 python3
start_server "$command" "$work/server.log"
mkdir -p "$SHOTS"

url="http://127.0.0.1:$PORT/?addend=$DEMO_ADDEND"
failed=0
for size in "phone 390 844" "desktop 1280 800"; do
    read -r name width height <<<"$size"
    if timeout 120 python3 scripts/server/page_check.py "$url" "$width" "$height" "$name" "$SHOTS/server-$name.png" \
        >"$work/$name.json"; then
        echo "ok:   $name (${width}×${height}): drawing, layout, keyboard; screenshot $SHOTS/server-$name.png"
    else
        echo "FAIL: $name (${width}×${height}):"
        failed=1
    fi
    sed 's/^/      /' "$work/$name.json"
done
if [[ "$failed" -ne 0 ]]; then
    echo "page checks failed; server log in $work/server.log" >&2
    exit 1
fi
rm -rf "$work"
