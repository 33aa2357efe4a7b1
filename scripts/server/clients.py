#!/usr/bin/env python3
"""Idle and slow clients for scripts/server/load-test.sh, on 127.0.0.1 only, bounded in time.

  clients.py --port PORT [--idle N] [--slow-heads N] [--slow-bodies N] [--duration SECONDS]

Idle clients: N connections, each sends one GET /healthz (keep-alive), reads the answer and then holds
the connection without a byte more. A connection the server closes is counted and opened again.
Slow-head clients send a request head one byte a second (the server answers 408 at its head timeout);
slow-body clients send a head announcing 1000 body bytes and only 10 of them (408 at the body timeout).
Each slow client starts over after its answer. Runs until --duration passes or SIGTERM/SIGINT, then
prints one JSON line: what each kind of client saw. Exits 1 when a client saw something unexpected
(an answer other than 200 to an idle client's request or other than 408 to a slow one, a reset, a
connection refused).
"""
import argparse
import json
import select
import selectors
import signal
import socket
import threading
import time

HOST = "127.0.0.1"  # loopback only, whatever the arguments
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 400 + b"\r\n\r\n"
SLOW_BODY = (b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1000\r\n\r\n" + b'{"pixels":')


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}

    def add(self, key, n=1):
        with self.lock:
            self.values[key] = self.values.get(key, 0) + n


def read_status(sock, deadline):
    """The status code of the answer on sock, reading until its head ends; None when the connection
    closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return int(data.split(b" ", 2)[1])


def idle_clients(port, count, stop, counts):
    selector = selectors.DefaultSelector()

    def open_one():
        sock = socket.create_connection((HOST, port), timeout=10)
        sock.sendall(HEALTHZ)
        status = read_status(sock, time.monotonic() + 10)
        counts.add("idle_answers_%s" % status)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)

    for _ in range(count):
        try:
            open_one()
        except OSError as error:
            counts.add("idle_errors")
            counts.add("idle_error_" + type(error).__name__)
    counts.add("idle_opened", count)
    while not stop.is_set():
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            try:
                data = sock.recv(4096)
            except OSError:
                data = None
            selector.unregister(sock)
            sock.close()
            counts.add("idle_closed_by_server" if data == b"" else "idle_unexpected")
            if not stop.is_set():
                try:
                    open_one()
                    counts.add("idle_reopened")
                except OSError:
                    counts.add("idle_errors")
    for key in list(selector.get_map().values()):
        key.fileobj.close()


def slow_client(port, request, kind, stop, counts):
    while not stop.is_set():
        started = time.monotonic()
        try:
            sock = socket.create_connection((HOST, port), timeout=10)
            if kind == "head":
                # One byte a second: the connection is never idle, but the head's deadline still passes.
                for i in range(len(request)):
                    sock.sendall(request[i:i + 1])
                    readable, _, _ = select.select([sock], [], [], 1.0)
                    if readable or stop.is_set():
                        break
            else:
                sock.sendall(request)
                while not stop.is_set() and not select.select([sock], [], [], 0.5)[0]:
                    pass
            if stop.is_set():
                sock.close()
                break
            status = read_status(sock, time.monotonic() + 10)
            counts.add("slow_%s_answers_%s" % (kind, status))
            counts.add("slow_%s_seconds_total" % kind, round(time.monotonic() - started, 1))
            sock.close()
        except OSError as error:
            if stop.is_set():
                break
            counts.add("slow_%s_errors" % kind)
            counts.add("slow_%s_error_%s" % (kind, type(error).__name__))
            time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--slow-heads", type=int, default=4)
    parser.add_argument("--slow-bodies", type=int, default=4)
    parser.add_argument("--duration", type=float, default=120)
    args = parser.parse_args()
    duration = min(max(args.duration, 1), 900)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    counts = Counts()
    threads = [threading.Thread(target=idle_clients, args=(args.port, args.idle, stop, counts))]
    threads += [threading.Thread(target=slow_client, args=(args.port, SLOW_HEAD, "head", stop, counts))
                for _ in range(args.slow_heads)]
    threads += [threading.Thread(target=slow_client, args=(args.port, SLOW_BODY, "body", stop, counts))
                for _ in range(args.slow_bodies)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    values = counts.values
    print(json.dumps(values, sort_keys=True), flush=True)
    unexpected = sum(n for key, n in values.items()
                     if "error" in key or "unexpected" in key
                     or (key.startswith("idle_answers_") and key != "idle_answers_200")
                     or (key.startswith("slow_") and "_answers_" in key and not key.endswith("_408")))
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
