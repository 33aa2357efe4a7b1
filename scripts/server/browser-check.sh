#!/usr/bin/env bash
# Checks the drawing page in headless Chromium at a phone's and a desktop's size and saves a screenshot of each.
#
# Usage: scripts/server/browser-check.sh [CHECKPOINT]
#   Starts the server (see lib.sh: CHECKPOINT, or ADDER_SERVER_CMD), opens
#   http://127.0.0.1:$PORT/?demo=$DEMO_DIGIT&addend=$DEMO_ADDEND at 390×844 (phone) and 1280×800 (desktop).
#   Demo mode draws the digit from built-in strokes on the canvas, posts it to /api/predict and records the
#   layout. For each size the rendered DOM is checked: the page reached state "ready", the digit element
#   holds 0–9, the equation shows the addend, ten bars exist, and nothing overflows (the page is no wider
#   than the window, no element sticks out of it or overflows its own box: `data-layout="ok"`); at the
#   desktop size the whole page also fits the window's height. Then a screenshot is written.
# Environment: PORT (8089), DEMO_DIGIT (7), DEMO_ADDEND (3), SHOTS (docs: server-phone.png and
#   server-desktop.png in it). Installs Debian's chromium if it is missing. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/server/lib.sh

PORT="${PORT:-8089}"
DEMO_DIGIT="${DEMO_DIGIT:-7}"
DEMO_ADDEND="${DEMO_ADDEND:-3}"
SHOTS="${SHOTS:-docs}"
work="$(mktemp -d)"
command="$(server_command "${1:-}")"

ensure_package chromium chromium
ensure_package curl curl
start_server "$command" "$work/server.log"

url="http://127.0.0.1:$PORT/?demo=$DEMO_DIGIT&addend=$DEMO_ADDEND"
failed=0
# name, window size (width,height), whether the page must fit the window's height too
for size in "phone 390,844 no" "desktop 1280,800 yes"; do
    read -r name window fit_height <<<"$size"
    browser=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
        --user-data-dir="$work/profile-$name" --window-size="$window" --virtual-time-budget=5000)
    dom="$work/dom-$name.html"
    timeout 60 "${browser[@]}" --dump-dom "$url" >"$dom" 2>>"$work/chromium.log"
    echo "$name ($window):"
    check() { # check DESCRIPTION EXTENDED-REGEX
        if grep -Eq "$2" "$dom"; then echo "  ok:   $1"; else echo "  FAIL: $1"; failed=1; fi
    }
    check "page reached state ready" '<body [^>]*data-state="ready"'
    check "digit element holds 0-9" '<div id="digit">[0-9]</div>'
    check "equation shows the addend $DEMO_ADDEND" "<div id=\"equation\">[0-9] \\+ $DEMO_ADDEND = -?[0-9]+</div>"
    check "server time shown" '<div id="status"[^>]*>[0-9.]+ ms on the server</div>'
    bars=$(grep -o 'class="bar[ "]' "$dom" | wc -l)
    if [[ "$bars" -eq 10 ]]; then echo "  ok:   ten bars"; else echo "  FAIL: $bars bars, expected 10"; failed=1; fi
    layout=$(grep -Eo 'data-layout="[^"]*"' "$dom" | head -1)
    if [[ "$layout" == 'data-layout="ok"' ]]; then
        echo "  ok:   nothing overflows the window's width or its box"
    else
        echo "  FAIL: overflow: ${layout:-no layout recorded}"
        failed=1
    fi
    page=$(grep -Eo 'data-page-size="[^"]*"' "$dom" | head -1 | sed 's/data-page-size="\(.*\)"/\1/')
    echo "        page ${page:-size not recorded}"
    if [[ "$fit_height" == yes ]]; then
        # "W×H in W×H": the page's scroll size in the window's inner size
        if [[ "$page" =~ ^([0-9]+)x([0-9]+)\ in\ ([0-9]+)x([0-9]+)$ ]] && ((BASH_REMATCH[2] <= BASH_REMATCH[4])); then
            echo "  ok:   the whole page fits the window's height"
        else
            echo "  FAIL: the page does not fit the window's height (${page:-unknown})"
            failed=1
        fi
    fi
    mkdir -p "$SHOTS"
    timeout 60 "${browser[@]}" --screenshot="$work/shot-$name.png" "$url" >/dev/null 2>>"$work/chromium.log"
    cp "$work/shot-$name.png" "$SHOTS/server-$name.png"
    echo "  screenshot: $SHOTS/server-$name.png"
done
if [[ "$failed" -ne 0 ]]; then
    echo "page checks failed; DOMs kept in $work" >&2
    exit 1
fi
rm -rf "$work"
