#!/usr/bin/env python3
"""An HTTP/1.1 server that answers every request with a body that never ends (stdlib only).

Usage::

    python3 huge_body_server.py --port 0 --log FILE [--status 200] [--content-length N] [--limit BYTES]

Binds 127.0.0.1 and prints ``{"port": N}`` on stdout's first line (flushed). Exits with status 0 on
SIGTERM/SIGINT, or when stdin reaches EOF (the test process went away).

Each request (its body is read by Content-Length) gets the status line ``--status`` (default 200), a
``Content-Length`` of ``--content-length`` (default 4 GiB), and then body bytes in 64 KiB chunks until the
client closes the connection or ``--limit`` bytes (default 2 GiB) have been sent. Then one JSON line is
appended to ``--log``::

    {"path": "/hook", "bytes_sent": 1310720, "closed_by_client": true, "seconds": 0.01}

``closed_by_client`` is false when the server stopped at ``--limit`` because the client kept reading.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

CHUNK = b"x" * 65536
_log_lock = threading.Lock()


def serve(conn, args):
    started = time.monotonic()
    sent = 0
    closed_by_client = False
    path = "?"
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        request_line = reader.readline().decode("latin-1").split()
        path = request_line[1] if len(request_line) > 1 else "?"
        length = 0
        while True:
            line = reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        reader.read(length)
        conn.sendall(("HTTP/1.1 %d OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                      % (args.status, args.content_length)).encode())
        while sent < args.limit:
            conn.sendall(CHUNK)
            sent += len(CHUNK)
    except (BrokenPipeError, ConnectionResetError):
        closed_by_client = True
    finally:
        conn.close()
    with _log_lock, open(args.log, "a") as log:
        log.write(json.dumps({"path": path, "bytes_sent": sent, "closed_by_client": closed_by_client,
                              "seconds": round(time.monotonic() - started, 3)}) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--content-length", type=int, default=4 << 30)
    parser.add_argument("--limit", type=int, default=2 << 30)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    listener = socket.create_server((args.host, args.port))
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    # Exit when stdin reaches EOF: the test process went away.
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), os._exit(0)), daemon=True).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    main()
