#!/usr/bin/env python3
"""Test HTTP/1.1 server for the Curl module tests (stdlib only).

Usage: python3 http_echo_server.py [--port N]   (default 0: an ephemeral port)

Binds 127.0.0.1 and prints the port number alone on stdout's first line (flushed).
Exits with status 0 on SIGTERM/SIGINT, or when stdin reaches EOF (the test process
went away). Request logging is off.

Routes (any method):
  /echo                     JSON {method, path, headers: [[name, value], ...], body_b64,
                            connection: id of the TCP connection}; response headers
                            X-Echo-Method, x-multi: one, X-Multi: two
  /status/<code>            responds with that status and a short text body
  /redirect                 302 to /echo (clients must not follow it by default)
  /large?size=N             N bytes of a repeating 0..255 pattern
  /slow?seconds=S           sleeps S seconds, then responds "slow done"
  /connections?tag=T        JSON {"connections": n}: distinct TCP connections that sent
                            requests carrying the header "X-Client-Tag: T"
Every response carries Content-Length, so connections are kept alive.
"""
import argparse
import base64
import itertools
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_connection_ids = itertools.count(1)
_connections_by_tag = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CurlTestServer/1.0"

    def setup(self):
        super().setup()
        with _lock:
            self.connection_id = next(_connection_ids)

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, body=b"", content_type="application/octet-stream", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def _route(self):
        body = self._read_body()
        tag = self.headers.get("X-Client-Tag")
        if tag:
            with _lock:
                _connections_by_tag.setdefault(tag, set()).add(self.connection_id)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        path = url.path

        if path == "/echo":
            payload = {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_b64": base64.b64encode(body).decode("ascii"),
                "connection": self.connection_id,
            }
            self._send(200, json.dumps(payload).encode(), "application/json",
                       extra=[("X-Echo-Method", self.command), ("x-multi", "one"), ("X-Multi", "two")])
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self._send(code, f"status {code}".encode(), "text/plain")
        elif path == "/redirect":
            self._send(302, b"redirecting", "text/plain", extra=[("Location", "/echo")])
        elif path == "/large":
            size = int(query.get("size", ["1048576"])[0])
            pattern = bytes(range(256))
            data = (pattern * (size // 256 + 1))[:size]
            self._send(200, data)
        elif path == "/slow":
            time.sleep(float(query.get("seconds", ["5"])[0]))
            self._send(200, b"slow done", "text/plain")
        elif path == "/connections":
            tag = query.get("tag", [""])[0]
            with _lock:
                count = len(_connections_by_tag.get(tag, ()))
            self._send(200, json.dumps({"connections": count}).encode(), "application/json")
        else:
            self._send(404, b"not found", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _route


def _exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    # A child of a Swift test process can inherit a mask blocking SIGTERM (libdispatch
    # worker threads block most signals and posix_spawn keeps the mask): undo that.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    parser = argparse.ArgumentParser(description="HTTP echo server for the Curl tests")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
