#!/usr/bin/env python3
"""A Standard Webhooks receiver for rekey's tests.

A stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 (keep-alive) on 127.0.0.1.
Every request is checked with the ``standardwebhooks`` package
(``Webhook(secret).verify(body, headers)``) against each ``--secret``; it
verifies if any secret verifies it.  Unverified requests always get 401.

Start::

    python3 Tests/Servers/webhook_receiver.py --port 0 \\
        --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --log /tmp/hooks.jsonl

Once listening it prints exactly one line to stdout, e.g. ``{"port": 40124}``,
and flushes it.  Diagnostics go to stderr.  It exits with status 0 on SIGTERM
or SIGINT.

Flags:

``--host H`` (default 127.0.0.1), ``--port N`` (0 means an ephemeral port).

``--secret whsec_...``
    Repeatable.  The part after ``whsec_`` must be standard base64 (the
    library would silently drop URL-safe ``-``/``_`` characters and derive a
    different key, so such secrets are refused at start-up).

``--log FILE``
    One JSON line per request, appended when the response is decided (so for
    ``/slow`` before the sleep)::

        {"received_at": "...", "method": "POST", "path": "/ok",
         "webhook-id": "msg_1", "webhook-timestamp": "1700000000",
         "webhook-signature": "v1,...", "verified": true, "secret_index": 0,
         "error": null, "body": "{...}", "status": 204,
         "content_type": "application/json", "user_agent": "...", "attempt": null}

    ``secret_index`` is the 0-based position of the first ``--secret`` that
    verified; ``error`` is the library's verification error when none did;
    ``attempt`` is set for ``/fail/N``.  ``/control/*`` requests are not logged.

``--verbose``
    Also print an access-log line per request to stderr.

Paths (after verification; query strings are ignored):

=====================  ==================================================
``/ok``                204
``/fail/N``            500 for the first N verified requests carrying the
                       same ``webhook-id``, then 200 (counts are per
                       webhook-id, across all ``/fail/*`` paths)
``/status/CODE``       that status (200-599), e.g. ``/status/410``
``/ratelimit``         429 with ``Retry-After: 2`` (``/ratelimit/S`` for S)
``/slow/SECONDS``      sleep SECONDS (may be fractional), then 200
``POST /control/reset``  clears the ``/fail`` counters (no signature needed)
``GET /control/health``  200 (no signature needed)
anything else          404
=====================  ==================================================
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import IO, Any, Optional
from urllib.parse import urlsplit

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 16 * 1024 * 1024


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def load_secret(secret: str) -> Webhook:
    """Build a Webhook, refusing secrets the library would silently mangle."""
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        # The library tolerates missing padding, so do the same, but reject foreign characters.
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError(f"secret {secret[:10]}... is not standard base64: {error}") from error
    if not key:
        raise ValueError("secret is empty")
    return Webhook(secret)


class ReceiverState:
    """Shared by all handler threads."""

    def __init__(self, secrets: list[Webhook], log_path: Optional[Path], verbose: bool) -> None:
        self.secrets = secrets
        self.verbose = verbose
        self._lock = threading.Lock()
        self._fail_counts: dict[str, int] = {}
        self._log: Optional[IO[str]] = open(log_path, "a", encoding="utf-8") if log_path else None

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[bool, Optional[int], Optional[str]]:
        """Return (verified, index of the secret that verified, error text)."""
        errors: list[str] = []
        for index, webhook in enumerate(self.secrets):
            try:
                # json_parse=False: verification is about the signature, not the payload shape.
                webhook.verify(body, headers, json_parse=False)
            except WebhookVerificationError as error:
                text = str(error)
            except Exception as error:  # malformed input also raises ValueError, binascii.Error, UnicodeDecodeError
                text = f"{type(error).__name__}: {error}"
            else:
                return True, index, None
            if text not in errors:
                errors.append(text)
        return False, None, "; ".join(errors) or "no secrets configured"

    def next_fail_attempt(self, webhook_id: str) -> int:
        with self._lock:
            attempt = self._fail_counts.get(webhook_id, 0) + 1
            self._fail_counts[webhook_id] = attempt
            return attempt

    def reset(self) -> None:
        with self._lock:
            self._fail_counts.clear()

    def log(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if self._log is None:
                return
            self._log.write(line)
            self._log.flush()

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: ReceiverState) -> None:
        self.state = state
        super().__init__(address, WebhookHandler)


class _BadRequest(Exception):
    pass


class WebhookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rekey-webhook-receiver/1"
    timeout = 120  # idle keep-alive connections are closed after this
    server: ReceiverServer

    # ------------------------------------------------------------------ plumbing

    def do_POST(self) -> None:
        self._handle()

    do_PUT = do_PATCH = do_DELETE = do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.state.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError as error:
                    raise _BadRequest("bad chunk size") from error
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise _BadRequest("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)  # CRLF after the chunk
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError as error:
            raise _BadRequest("bad Content-Length") from error
        if length < 0 or length > MAX_BODY:
            raise _BadRequest("bad Content-Length")
        return self.rfile.read(length)

    def _respond(self, status: int, payload: Optional[dict[str, Any]] = None, extra: Optional[dict[str, str]] = None) -> None:
        body = b""
        if payload is not None and status not in (204, 304):
            body = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out on /slow)

    # ------------------------------------------------------------------ routing

    def _handle(self) -> None:
        state = self.server.state
        path = urlsplit(self.path).path
        try:
            body = self._read_body()
        except _BadRequest as bad:
            self.close_connection = True
            self._respond(400, {"error": str(bad)})
            return

        if path.startswith("/control/"):
            self._control(path)
            return

        headers = {name: value for name, value in self.headers.items()}
        verified, secret_index, error = state.verify(body, headers)
        record: dict[str, Any] = {
            "received_at": _now(),
            "method": self.command,
            "path": self.path,
            "webhook-id": self.headers.get("webhook-id"),
            "webhook-timestamp": self.headers.get("webhook-timestamp"),
            "webhook-signature": self.headers.get("webhook-signature"),
            "verified": verified,
            "secret_index": secret_index,
            "error": error,
            "body": body.decode("utf-8", "replace"),
            "status": None,
            "content_type": self.headers.get("Content-Type"),
            "user_agent": self.headers.get("User-Agent"),
            "attempt": None,
        }

        if not verified:
            self._finish(record, 401, {"error": error})
            return

        parts = [p for p in path.split("/") if p]
        route, arg = (parts[0] if parts else ""), (parts[1] if len(parts) == 2 else None)
        if len(parts) > 2:
            route = ""

        if route == "ok" and arg is None:
            self._finish(record, 204)
        elif route == "fail" and arg is not None and arg.isdigit():
            attempt = state.next_fail_attempt(record["webhook-id"])
            record["attempt"] = attempt
            status = 500 if attempt <= int(arg) else 200
            self._finish(record, status, {"attempt": attempt})
        elif route == "status" and arg is not None and arg.isdigit() and 200 <= int(arg) <= 599:
            self._finish(record, int(arg), {"status": int(arg)})
        elif route == "ratelimit" and (arg is None or arg.isdigit()):
            self._finish(record, 429, {"error": "rate limited"}, {"Retry-After": arg or "2"})
        elif route == "slow" and arg is not None and _is_seconds(arg):
            state.log({**record, "status": 200})
            time.sleep(float(arg))
            self._respond(200, {"slept": float(arg)})
        else:
            self._finish(record, 404, {"error": "no such path"})

    def _finish(self, record: dict[str, Any], status: int, payload: Optional[dict[str, Any]] = None,
                extra: Optional[dict[str, str]] = None) -> None:
        record["status"] = status
        self.server.state.log(record)
        self._respond(status, payload if payload is not None else {}, extra)

    def _control(self, path: str) -> None:
        if path == "/control/reset" and self.command == "POST":
            self.server.state.reset()
            self._respond(200, {"reset": True})
        elif path == "/control/health" and self.command == "GET":
            self._respond(200, {"ok": True})
        else:
            self._respond(404, {"error": "no such control path"})


def _is_seconds(text: str) -> bool:
    try:
        return 0 <= float(text) <= 3600
    except ValueError:
        return False


def _exit_on_signal(signum: int, frame: Optional[FrameType]) -> None:
    raise SystemExit(0)


def main(argv: Optional[list[str]] = None) -> int:
    # A child of a Swift test process can inherit a mask blocking SIGTERM (libdispatch threads block
    # most signals and posix_spawn keeps the mask): undo that so the test can stop this server.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser(description="Standard Webhooks test receiver for rekey (see module docstring).")
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 by default; ::1 listens on IPv6 loopback")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral; the port is printed as JSON")
    parser.add_argument("--secret", action="append", default=[], metavar="whsec_...", help="repeatable")
    parser.add_argument("--log", type=Path, metavar="FILE", help="append one JSON line per request")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    try:
        secrets = [load_secret(s) for s in args.secret]
    except ValueError as error:
        parser.error(str(error))
    if not secrets:
        print("webhook_receiver: no --secret given; every request will get 401", file=sys.stderr)

    state = ReceiverState(secrets, args.log, args.verbose)
    if ":" in args.host:  # an IPv6 address such as ::1
        ReceiverServer.address_family = socket.AF_INET6
    server = ReceiverServer((args.host, args.port), state)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    sys.stdout.write(json.dumps({"port": server.server_address[1]}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
        state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
