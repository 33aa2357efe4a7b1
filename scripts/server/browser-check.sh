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
#   then it writes a screenshot with the answer shown. Then it does it all again with the server started with
#   `--collect` into a temporary folder: the page has ten "this is a D" buttons, Tab reaches them too, and
#   Enter on the 7's saves the drawing (the page's count and status, the files on disk; see page_check.py).
# Environment: PORT (8089), DEMO_ADDEND (3), SHOTS (docs: server-phone.png and server-desktop.png in it, and
#   server-collect-phone.png and server-collect-desktop.png). With ADDER_SERVER_CMD, the second run appends
#   `--collect DIR` to that command.
#   Installs Debian's chromium if it is missing. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/server/lib.sh

PORT="${PORT:-8089}"
DEMO_ADDEND="${DEMO_ADDEND:-3}"
SHOTS="${SHOTS:-docs}"
work="$(mktemp -d)"
command="$(server_command "${1:-}")"
collect_dir="$work/collect"

ensure_package chromium chromium
ensure_package curl curl
ensure_package python3 python3
mkdir -p "$SHOTS"

url="http://127.0.0.1:$PORT/?addend=$DEMO_ADDEND"
failed=0
for mode in plain collect; do
    if [[ "$mode" == plain ]]; then
        start_server "$command" "$work/server-$mode.log"
        prefix="server" extra=() checked="drawing, layout, keyboard"
    else
        start_server "$command --collect $(printf '%q' "$collect_dir")" "$work/server-$mode.log"
        prefix="server-collect" extra=("$collect_dir") checked="drawing, layout, keyboard, saving a 7"
    fi
    for size in "phone 390 844" "desktop 1280 800"; do
        read -r name width height <<<"$size"
        shot="$SHOTS/$prefix-$name.png"
        if timeout 120 python3 scripts/server/page_check.py "$url" "$width" "$height" "$name" "$shot" "${extra[@]}" \
            >"$work/$mode-$name.json"; then
            echo "ok:   $mode $name (${width}×${height}): $checked; screenshot $shot"
        else
            echo "FAIL: $mode $name (${width}×${height}):"
            failed=1
        fi
        sed 's/^/      /' "$work/$mode-$name.json"
    done
    stop_server
done
if [[ "$failed" -ne 0 ]]; then
    echo "page checks failed; server logs in $work/server-plain.log and $work/server-collect.log" >&2
    exit 1
fi
rm -rf "$work"
