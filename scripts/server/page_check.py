#!/usr/bin/env python3
"""Checks the drawing page at one screen size in headless Chromium, through the DevTools protocol.

Usage: page_check.py URL WIDTH HEIGHT phone|desktop SCREENSHOT [COLLECT_DIR]

Chromium's own --window-size cannot go below 500 px, so the size is set by device-metrics emulation
(`Emulation.setDeviceMetricsOverride`, as DevTools' device toolbar does; `phone` also turns on touch
emulation). Then, on URL (the page with `?addend=A`, no demo):
  1. draws a digit with touch events on a phone (mouse events on a desktop) along a "7" in the canvas's own
     box, and waits for the answer (body data-state "ready");
  2. measures the layout: the page's scroll width against the window's, every element's box against the
     window's left and right edges, and elements whose content overflows their box;
  3. presses Tab up to 30 times and records which controls got the focus;
  4. with COLLECT_DIR (the server runs `serve --collect COLLECT_DIR`): draws the 7 again, presses Enter on the
     focused "this is a 7" button and checks the answer on the page (status, the 7's count one more, the
     canvas cleared) and on disk (one more COLLECT_DIR/7/<id>.png, a 28×28 8-bit gray PNG, and
     COLLECT_DIR/originals/<id>.png);
  5. saves a screenshot of the window.
Prints one JSON object with what it found (`problems` lists every failed check) and exits 1 if any failed.
Only the Python standard library; the WebSocket client below is the minimum the DevTools protocol needs.
"""
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


class WebSocket:
    """A client WebSocket (RFC 6455) over plain TCP, text frames only, enough for DevTools."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("DevTools closed the connection during the WebSocket handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError("DevTools refused the WebSocket: " + head.split(b"\r\n")[0].decode(errors="replace"))
        self.buffer = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_text(self, text):
        payload = text.encode()
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive_text(self):
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:
                    return message.decode()

    def call(self, method, **params):
        """Sends one DevTools command and returns its result, skipping the events in between."""
        self.next_id += 1
        self.send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.receive_text())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})


def evaluate(ws, expression):
    result = ws.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
    if "exceptionDetails" in result:
        raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
    return result["result"].get("value")


def wait_for_state(ws, states, seconds=20):
    deadline = time.time() + seconds
    state = None
    while time.time() < deadline:
        state = evaluate(ws, "document.body ? document.body.dataset.state : null")
        if state in states:
            return state
        time.sleep(0.1)
    return state


LAYOUT = r"""(() => {
  const problems = [], width = window.innerWidth, root = document.documentElement;
  if (root.scrollWidth > width) problems.push(`the page is ${root.scrollWidth}px wide in a ${width}px window`);
  for (const el of document.body.querySelectorAll("*")) {
    if (el.tagName === "SCRIPT") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "");
    if (r.left < -0.5 || r.right > width + 0.5) problems.push(`${name} spans x ${r.left.toFixed(0)} to ${r.right.toFixed(0)}, outside 0 to ${width}`);
    else if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible")
      problems.push(`${name}'s content is ${el.scrollWidth}px wide in its ${el.clientWidth}px box`);
  }
  const pad = document.getElementById("pad").getBoundingClientRect();
  return { innerWidth: width, innerHeight: window.innerHeight, scrollWidth: root.scrollWidth,
           scrollHeight: root.scrollHeight, problems,
           pad: { x: pad.left, y: pad.top, width: pad.width, height: pad.height } };
})()"""

ANSWER = r"""({ digit: document.getElementById("digit").textContent,
    equation: document.getElementById("equation").textContent,
    status: document.getElementById("status").textContent,
    bars: document.querySelectorAll("#bars .bar").length })"""

COLLECTED = r"""({ collect: document.body.dataset.collect || null, state: document.body.dataset.state,
    status: document.getElementById("collect-status").textContent,
    count: document.querySelector("#save-7 small") ? document.querySelector("#save-7 small").textContent : null })"""

FOCUSED = r"""(() => { const e = document.activeElement;
  return e && e !== document.body ? (e.id || (e.tagName.toLowerCase() + ":" + (e.textContent || "").trim())) : null; })()"""


def draw_seven(ws, pad, touch):
    """A "7" in the canvas's box: top bar left to right, then down to the bottom left."""
    path = [(0.2, 0.15), (0.5, 0.15), (0.8, 0.15), (0.7, 0.4), (0.6, 0.65), (0.5, 0.9)]
    points = []
    for (u0, v0), (u1, v1) in zip(path, path[1:]):
        for k in range(6):
            t = k / 6
            points.append((u0 + (u1 - u0) * t, v0 + (v1 - v0) * t))
    points.append(path[-1])
    xy = [(pad["x"] + u * pad["width"], pad["y"] + v * pad["height"]) for u, v in points]
    if touch:
        ws.call("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": xy[0][0], "y": xy[0][1]}])
        for x, y in xy[1:]:
            ws.call("Input.dispatchTouchEvent", type="touchMove", touchPoints=[{"x": x, "y": y}])
        ws.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
    else:
        ws.call("Input.dispatchMouseEvent", type="mouseMoved", x=xy[0][0], y=xy[0][1])
        ws.call("Input.dispatchMouseEvent", type="mousePressed", x=xy[0][0], y=xy[0][1], button="left", clickCount=1)
        for x, y in xy[1:]:
            ws.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
        ws.call("Input.dispatchMouseEvent", type="mouseReleased", x=xy[-1][0], y=xy[-1][1], button="left", clickCount=1)


def press(ws, key, code, key_code, text=None):
    extra = {"text": text} if text else {}
    ws.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, windowsVirtualKeyCode=key_code, **extra)
    ws.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=key_code)


def png_header(path):
    """(width, height, bit depth, colour type) from a PNG's IHDR, or None when it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    return width, height, depth, colour


def check_collect(ws, pad, touch, folder, problems):
    """Saves a drawn 7 with the keyboard and checks the page and the files; returns what it found."""
    sevens = os.path.join(folder, "7")
    before = set(os.listdir(sevens)) if os.path.isdir(sevens) else set()
    draw_seven(ws, pad, touch)
    if wait_for_state(ws, ("ready", "error")) != "ready":
        problems.append("collect: the second drawing got no answer")
    count_before = evaluate(ws, COLLECTED)["count"]
    evaluate(ws, 'document.getElementById("save-7").focus()')
    press(ws, "Enter", "Enter", 13, "\r")
    deadline = time.time() + 20
    found = evaluate(ws, COLLECTED)
    while found["collect"] not in ("saved", "error") and time.time() < deadline:
        time.sleep(0.1)
        found = evaluate(ws, COLLECTED)
    if found["collect"] != "saved":
        problems.append(f"collect: Enter on 'this is a 7' did not save (status {found['status']!r})")
        return found
    if not found["status"].startswith("Saved as 7: 7/"):
        problems.append(f"collect: the status reads {found['status']!r}, expected 'Saved as 7: 7/<id>.png; ...'")
    if not (count_before or "").isdigit() or found["count"] != str(int(count_before) + 1):
        problems.append(f"collect: the 7's count went from {count_before!r} to {found['count']!r}, expected one more")
    if found["state"] != "idle":
        problems.append(f"collect: the canvas was not cleared after saving (state {found['state']!r})")
    new = sorted(set(os.listdir(sevens)) - before) if os.path.isdir(sevens) else []
    found["files"] = new
    if len(new) != 1 or not new[0].endswith(".png"):
        problems.append(f"collect: {folder}/7 got {new}, expected one new <id>.png")
        return found
    header = png_header(os.path.join(sevens, new[0]))
    if header != (28, 28, 8, 0):
        problems.append(f"collect: {new[0]} has (width, height, bit depth, colour type) {header}, expected (28, 28, 8, 0)")
    original = os.path.join(folder, "originals", new[0])
    if png_header(original) is None:
        problems.append(f"collect: {original} is missing or not a PNG")
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if len(sys.argv) not in (6, 7) or sys.argv[4] not in ("phone", "desktop"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    url, width, height, kind, screenshot = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    collect_dir = sys.argv[6] if len(sys.argv) == 7 else None
    phone = kind == "phone"
    profile = tempfile.mkdtemp(prefix="page-check-")
    port = free_port()
    browser = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = {"size": f"{width}x{height}", "kind": kind, "problems": []}
    problems = report["problems"]
    try:
        deadline = time.time() + 30
        targets = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        if not targets:
            raise RuntimeError("Chromium's DevTools did not answer on port %d" % port)
        ws = WebSocket(targets[0]["webSocketDebuggerUrl"])
        ws.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=phone)
        if phone:
            ws.call("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=5)
        ws.call("Page.enable")
        ws.call("Page.navigate", url=url)
        if wait_for_state(ws, ("idle",)) != "idle":
            problems.append("the page did not load (body data-state never 'idle')")
            return finish(report)
        time.sleep(0.3)
        layout = evaluate(ws, LAYOUT)
        draw_seven(ws, layout["pad"], touch=phone)
        state = wait_for_state(ws, ("ready", "error"))
        answer = evaluate(ws, ANSWER)
        report["drawing"] = {"input": "touch" if phone else "mouse", "state": state, **answer}
        if state != "ready":
            problems.append(f"drawing with {'touch' if phone else 'the mouse'} got no answer (state {state}, status {answer['status']!r})")
        if not (len(answer["digit"]) == 1 and answer["digit"].isdigit()):
            problems.append(f"the digit element holds {answer['digit']!r}, expected 0-9")
        addend = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("addend", ["0"])[0]
        if not re.fullmatch(rf"[0-9] \+ {re.escape(addend)} = -?[0-9]+", answer["equation"]):
            problems.append(f"the equation reads {answer['equation']!r}, expected 'D + {addend} = S'")
        if not re.fullmatch(r"[0-9.]+ ms on the server", answer["status"]):
            problems.append(f"the status reads {answer['status']!r}, expected the server time")
        if answer["bars"] != 10:
            problems.append(f"{answer['bars']} probability bars, expected 10")
        layout = evaluate(ws, LAYOUT)  # again, with the answer shown
        report["layout"] = {k: layout[k] for k in ("innerWidth", "innerHeight", "scrollWidth", "scrollHeight")}
        if layout["innerWidth"] != width:
            problems.append(f"the window is {layout['innerWidth']}px wide, expected {width}")
        problems.extend(layout["problems"])
        if not phone and layout["scrollHeight"] > layout["innerHeight"]:
            problems.append(f"the page is {layout['scrollHeight']}px tall in a {layout['innerHeight']}px window")
        ws.call("Page.captureScreenshot", format="png")  # settles fonts and layout before the kept shot
        focused = []
        for _ in range(30):
            ws.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
            ws.call("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
            name = evaluate(ws, FOCUSED)
            if name in focused:
                break
            if name is not None:
                focused.append(name)
        report["tabOrder"] = focused
        expected = ["pad"] + [f"button:{d}" for d in range(10)] + ["clear"]
        if collect_dir:
            expected += [f"save-{d}" for d in range(10)]
        missing = [name for name in expected if name not in focused]
        if missing and "addend-number" not in focused:
            problems.append(f"not reached with Tab: {', '.join(missing)}")
        # Delete on the focused canvas clears it.
        evaluate(ws, 'document.getElementById("pad").focus()')
        ws.call("Input.dispatchKeyEvent", type="keyDown", key="Delete", code="Delete", windowsVirtualKeyCode=46)
        ws.call("Input.dispatchKeyEvent", type="keyUp", key="Delete", code="Delete", windowsVirtualKeyCode=46)
        cleared = evaluate(ws, 'document.body.dataset.state')
        if cleared != "idle":
            problems.append(f"Delete on the canvas left the page in state {cleared!r}, expected 'idle'")
        if collect_dir:
            report["collect"] = check_collect(ws, layout["pad"], phone, collect_dir, problems)
        # The kept screenshot shows the answer: draw again, blur, shoot.
        draw_seven(ws, layout["pad"], touch=phone)
        wait_for_state(ws, ("ready", "error"))
        evaluate(ws, "document.activeElement && document.activeElement.blur()")
        shot = ws.call("Page.captureScreenshot", format="png")
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        report["screenshot"] = screenshot
    except Exception as error:  # a failed check, reported like the others
        problems.append(f"{type(error).__name__}: {error}")
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return finish(report)


def finish(report):
    print(json.dumps(report, indent=1))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
