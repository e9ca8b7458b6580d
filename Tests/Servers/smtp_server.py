#!/usr/bin/env python3
"""A real SMTP server for rekey's tests, built on aiosmtpd (1.4.x).

It listens on 127.0.0.1, accepts mail, and writes what it accepted to disk, so
tests can check exactly what rekey sent over libcurl.  It can also require
STARTTLS and AUTH, and can inject faults for chosen recipients.

Start::

    python3 Tests/Servers/smtp_server.py --port 0 --store /tmp/mail

Once it is listening it prints exactly one line to stdout, e.g. ``{"port": 40123}``,
and flushes it.  Everything else (diagnostics) goes to stderr.  It exits cleanly,
with status 0, on SIGTERM or SIGINT.

Flags:

``--host H`` (default 127.0.0.1), ``--port N`` (0 means an ephemeral port).

``--store DIR``
    Every accepted message is written to ``DIR/<n>.eml`` (the message bytes as
    received after DATA, dot-unstuffed, CRLF line endings kept) and one JSON
    line is appended to ``DIR/log.jsonl``::

        {"n": 1, "filename": "1.eml", "mail_from": "...", "rcpt_tos": ["..."],
         "size": 1234, "connection_id": 1, "message_index": 1, "tls": false,
         "auth_user": null, "peer": "127.0.0.1:5555", "received_at": "..."}

    ``connection_id`` numbers TCP connections from 1 and stays the same across
    STARTTLS; ``message_index`` counts accepted messages within the connection.
    Numbering continues after the highest ``<n>.eml`` already in DIR.
    Injected faults (rejections, drops, stalls, 421 closes) are appended to
    ``DIR/events.jsonl``, never to ``log.jsonl``.  Without ``--store`` nothing is
    written.

``--count-only``
    For volume runs: no ``.eml`` files.  Each accepted message appends a short
    line to ``log.jsonl`` with ``n``, ``connection_id``, ``mail_from``,
    ``rcpt_tos``, ``size``, ``counts`` (for each recipient of this message,
    how many messages it has now received; a value above 1 is a duplicate) and
    ``received_at`` (UTC, milliseconds).
    On exit the totals per recipient are written to ``DIR/counts.json``.

``--tls-cert FILE --tls-key FILE``
    Advertise and allow STARTTLS.  ``--require-starttls`` answers
    ``530 Must issue a STARTTLS command first`` to everything except EHLO, NOOP,
    QUIT and STARTTLS until TLS is up.

``--auth USER:PASS``
    Require AUTH (PLAIN or LOGIN) with these credentials before MAIL.  AUTH is
    only offered over TLS unless ``--auth-allow-plaintext`` is given.  Wrong
    credentials get ``535 5.7.8``; MAIL without AUTH gets ``530 5.7.0``.

``--max-messages-per-connection N``
    After N accepted messages on one connection, the next MAIL FROM gets
    ``421 4.7.0 ...`` and the server closes the connection.

``--max-size BYTES``
    SIZE advertised in EHLO and enforced (552) (default 32 MiB).

``--fault-spec FILE_OR_JSON``
    A JSON object (inline if the argument starts with ``{``, otherwise a file
    name) mapping recipient patterns to behaviour.  A pattern is an exact
    address or an fnmatch glob such as ``"*+temp@*"``; matching ignores case,
    exact patterns win, otherwise the first glob in file order.  Behaviours::

        {"rcpt": 451}                            RCPT TO gets 451 4.3.0 ...
        {"rcpt": 550, "text": "No such user", "enhanced": "5.1.1"}
        {"rcpt": {"code": 421, "text": "...", "enhanced": "4.3.2"}}
                                                  421 also closes the connection
        {"rcpt": 451, "fail_times": 2}           fail the first 2 attempts for
                                                  each matching address, then accept
        {"data": "drop"}                         reply 354, read the first line of
                                                  content, then close mid-DATA
                                                  without replying; nothing stored
        {"data": "drop-after-dot"}               read the whole message including
                                                  the final dot, then close without
                                                  replying; nothing stored
        {"data": "stall", "seconds": 30}         store the message, then wait 30 s
                                                  before replying 250 (a timeout
                                                  after the final dot)
        {"data": 554}                            reply 554 5.6.0 ... after the final
                                                  dot; nothing stored (421 closes)

    ``fail_times`` works with any of them: the first N attempts at that stage
    for that address fail, later ones behave normally.  The counts last for
    the life of the server.  Data faults apply to the first recipient in the
    envelope whose rule fires.

``--verbose``
    Log aiosmtpd's per-command trace to stderr.

Example fault file::

    {
      "bounce@example.test": {"rcpt": 550, "text": "No such user", "enhanced": "5.1.1"},
      "*+temp@*": {"rcpt": 451, "fail_times": 2},
      "slow@example.test": {"data": "stall", "seconds": 20},
      "cut@example.test": {"data": "drop"}
    }
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, AnyStr, Literal, Optional

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("smtp_server")

DEFAULT_MAX_SIZE = 32 * 1024 * 1024
HOSTNAME = "rekey-test-smtp.localhost"
IDENT = "rekey test SMTP (aiosmtpd)"

_DEFAULT_ENHANCED: dict[int, str] = {
    421: "4.3.2",
    450: "4.2.1",
    451: "4.3.0",
    452: "4.2.2",
    550: "5.1.1",
    551: "5.1.6",
    552: "5.3.4",
    553: "5.1.3",
    554: "5.6.0",
}
_DEFAULT_TEXT: dict[int, str] = {
    421: "Service not available, closing transmission channel",
    450: "Mailbox unavailable, try again later",
    451: "Temporary local problem, try again later",
    452: "Insufficient system storage",
    550: "Mailbox unavailable",
    551: "User not local",
    552: "Message size exceeds fixed maximum",
    553: "Mailbox name not allowed",
    554: "Transaction failed",
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _peer(session: Session) -> Optional[str]:
    peer = session.peer
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return None if peer is None else str(peer)


# --------------------------------------------------------------------------- faults


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Reply:
    code: int
    enhanced: Optional[str]
    text: str

    def render(self) -> str:
        parts = [str(self.code)]
        if self.enhanced:
            parts.append(self.enhanced)
        parts.append(self.text)
        return " ".join(parts)

    @property
    def closes_connection(self) -> bool:
        return self.code == 421


DataKind = Literal["drop", "drop-after-dot", "stall", "reply"]


@dataclass(frozen=True)
class DataFault:
    kind: DataKind
    seconds: float = 0.0
    reply: Optional[Reply] = None


@dataclass(frozen=True)
class FaultRule:
    pattern: str
    rcpt: Optional[Reply]
    data: Optional[DataFault]
    fail_times: Optional[int]


_RULE_KEYS = {"rcpt", "data", "seconds", "text", "enhanced", "fail_times"}


def _parse_reply(where: str, value: Any, text: Any, enhanced: Any) -> Reply:
    if isinstance(value, dict):
        unknown = set(value) - {"code", "text", "enhanced"}
        if unknown:
            raise FaultSpecError(f"{where}: unknown keys {sorted(unknown)}")
        text = value.get("text", text)
        enhanced = value.get("enhanced", enhanced)
        value = value.get("code")
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise FaultSpecError(f"{where}: reply code must be an integer 400-599, got {value!r}")
    if text is not None and not isinstance(text, str):
        raise FaultSpecError(f"{where}: text must be a string")
    if enhanced is not None and not isinstance(enhanced, str):
        raise FaultSpecError(f"{where}: enhanced must be a string like '4.3.0' (or '' for none)")
    if enhanced is None:
        enhanced = _DEFAULT_ENHANCED.get(value, f"{value // 100}.0.0")
    if text is None:
        text = _DEFAULT_TEXT.get(value, "Injected failure")
    return Reply(code=value, enhanced=enhanced or None, text=text)


def _parse_rule(pattern: str, body: Any) -> FaultRule:
    where = f"fault spec {pattern!r}"
    if not isinstance(body, dict):
        raise FaultSpecError(f"{where}: behaviour must be a JSON object")
    unknown = set(body) - _RULE_KEYS
    if unknown:
        raise FaultSpecError(f"{where}: unknown keys {sorted(unknown)}")
    text, enhanced = body.get("text"), body.get("enhanced")

    rcpt = _parse_reply(f"{where} rcpt", body["rcpt"], text, enhanced) if "rcpt" in body else None

    data: Optional[DataFault] = None
    if "data" in body:
        raw = body["data"]
        if raw in ("drop", "drop-after-dot"):
            data = DataFault(kind=raw)
        elif raw == "stall":
            seconds = body.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise FaultSpecError(f"{where}: stall needs \"seconds\": a number >= 0")
            data = DataFault(kind="stall", seconds=float(seconds))
        else:
            data = DataFault(kind="reply", reply=_parse_reply(f"{where} data", raw, text, enhanced))
    if "seconds" in body and (data is None or data.kind != "stall"):
        raise FaultSpecError(f"{where}: \"seconds\" only applies to {{\"data\": \"stall\"}}")

    if rcpt is None and data is None:
        raise FaultSpecError(f"{where}: needs \"rcpt\" or \"data\"")

    fail_times = body.get("fail_times")
    if fail_times is not None and (isinstance(fail_times, bool) or not isinstance(fail_times, int) or fail_times < 0):
        raise FaultSpecError(f"{where}: fail_times must be an integer >= 0")
    return FaultRule(pattern=pattern, rcpt=rcpt, data=data, fail_times=fail_times)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


class FaultPlan:
    """Recipient-pattern fault rules plus the per-address attempt counters."""

    def __init__(self, rules: list[FaultRule]) -> None:
        self._exact: dict[str, FaultRule] = {}
        self._globs: list[tuple[str, FaultRule]] = []
        for rule in rules:
            key = rule.pattern.lower()
            if _is_glob(key):
                self._globs.append((key, rule))
            else:
                self._exact[key] = rule
        self._attempts: dict[tuple[str, str], int] = {}

    @classmethod
    def empty(cls) -> FaultPlan:
        return cls([])

    @classmethod
    def load(cls, file_or_json: str) -> FaultPlan:
        text = file_or_json if file_or_json.lstrip().startswith("{") else Path(file_or_json).read_text()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as error:
            raise FaultSpecError(f"fault spec is not valid JSON: {error}") from error
        if not isinstance(spec, dict):
            raise FaultSpecError("fault spec must be a JSON object mapping patterns to behaviour")
        return cls([_parse_rule(pattern, body) for pattern, body in spec.items()])

    def match(self, address: str) -> Optional[FaultRule]:
        key = address.lower()
        rule = self._exact.get(key)
        if rule is not None:
            return rule
        for pattern, rule in self._globs:
            if fnmatch.fnmatchcase(key, pattern):
                return rule
        return None

    def _fires(self, stage: str, address: str, rule: FaultRule) -> tuple[bool, int]:
        """Count one attempt; return (fault applies, 1-based attempt number)."""
        key = (stage, address.lower())
        attempt = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempt
        return (rule.fail_times is None or attempt <= rule.fail_times), attempt

    def take_rcpt_fault(self, address: str) -> Optional[tuple[FaultRule, Reply, int]]:
        rule = self.match(address)
        if rule is None or rule.rcpt is None:
            return None
        fires, attempt = self._fires("rcpt", address, rule)
        return (rule, rule.rcpt, attempt) if fires else None

    def take_data_fault(self, rcpt_tos: list[str]) -> Optional[tuple[str, DataFault, int]]:
        for address in rcpt_tos:
            rule = self.match(address)
            if rule is None or rule.data is None:
                continue
            fires, attempt = self._fires("data", address, rule)
            if fires:
                return address, rule.data, attempt
        return None


# --------------------------------------------------------------------------- storage


class MessageStore:
    """Writes accepted messages and fault events; holds no message bodies in memory."""

    def __init__(self, directory: Optional[Path], count_only: bool) -> None:
        self.directory = directory
        self.count_only = count_only
        self.counts: dict[str, int] = {}
        self.total = 0
        self._log: Optional[IO[str]] = None
        self._events: Optional[IO[str]] = None
        self._next = 1
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            existing = [int(p.stem) for p in directory.glob("*.eml") if p.stem.isdigit()]
            self._next = max(existing, default=0) + 1
            self._log = open(directory / "log.jsonl", "a", encoding="utf-8")
            self._events = open(directory / "events.jsonl", "a", encoding="utf-8")

    @staticmethod
    def _append(stream: Optional[IO[str]], record: dict[str, Any]) -> None:
        if stream is not None:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            stream.flush()

    def save(self, server: RekeyTestSMTP, session: Session, envelope: Envelope, content: bytes) -> int:
        n = self._next
        self._next += 1
        self.total += 1
        rcpt_tos = list(envelope.rcpt_tos)
        record: dict[str, Any]
        if self.count_only:
            seen: dict[str, int] = {}
            for rcpt in rcpt_tos:
                self.counts[rcpt] = self.counts.get(rcpt, 0) + 1
                seen[rcpt] = self.counts[rcpt]
            record = {
                "n": n,
                "connection_id": server.connection_id,
                "mail_from": envelope.mail_from,
                "rcpt_tos": rcpt_tos,
                "size": len(content),
                "counts": seen,
                "received_at": _now(),
            }
        else:
            filename = f"{n}.eml"
            if self.directory is not None:
                (self.directory / filename).write_bytes(content)
            login = session.login_data
            record = {
                "n": n,
                "filename": filename,
                "mail_from": envelope.mail_from,
                "rcpt_tos": rcpt_tos,
                "size": len(content),
                "connection_id": server.connection_id,
                "message_index": server.messages_accepted + 1,
                "tls": session.ssl is not None,
                "auth_user": login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
                "peer": _peer(session),
                "received_at": _now(),
            }
        self._append(self._log, record)
        return n

    def event(self, event: str, server: RekeyTestSMTP, **fields: Any) -> None:
        record: dict[str, Any] = {"event": event, "connection_id": server.connection_id, "at": _now()}
        record.update(fields)
        self._append(self._events, record)
        log.info("%s %s", event, fields)

    def close(self) -> None:
        if self.count_only and self.directory is not None:
            tmp = self.directory / "counts.json.tmp"
            tmp.write_text(json.dumps({"total": self.total, "counts": self.counts}, ensure_ascii=False))
            os.replace(tmp, self.directory / "counts.json")
        for stream in (self._log, self._events):
            if stream is not None:
                stream.close()
        self._log = self._events = None


# --------------------------------------------------------------------------- SMTP


class RekeyTestSMTP(SMTP):
    """aiosmtpd's SMTP protocol with a connection id and a few fault hooks.

    One instance serves one TCP connection (it survives STARTTLS, unlike
    aiosmtpd's Session, which is recreated after the TLS handshake).
    """

    _ids = itertools.count(1)

    def __init__(self, handler: RekeyTestHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.handler = handler
        self.connection_id = next(self._ids)
        self.messages_accepted = 0
        self.close_after_reply = False
        self.pending_data_fault: Optional[tuple[str, DataFault, int]] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.handler.connections.add(self)

    def connection_lost(self, error: Optional[Exception]) -> None:
        self.handler.connections.discard(self)
        super().connection_lost(error)

    async def push(self, status: AnyStr) -> None:
        await super().push(status)
        if self.close_after_reply and self.transport is not None:
            self.transport.close()  # flushes the reply first

    def abort(self) -> None:
        """Drop the connection at once, without a reply (TLS or not)."""
        if isinstance(self.transport, asyncio.Transport):  # plain TCP or the STARTTLS app transport
            self.transport.abort()
        elif self.transport is not None:
            self.transport.close()

    async def smtp_DATA(self, arg: str) -> None:
        envelope = self.envelope
        if arg or envelope is None or not envelope.rcpt_tos:
            # Let aiosmtpd produce its usual error reply.
            await super().smtp_DATA(arg)
            return
        fault = self.handler.faults.take_data_fault(envelope.rcpt_tos)
        if fault is not None and fault[1].kind == "drop":
            address, _, attempt = fault
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            try:
                # Wait until the client is sending content, then cut it off.
                await asyncio.wait_for(self._reader.readuntil(b"\r\n"), timeout=10)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass
            self.handler.store.event("data_dropped", self, rcpt=address, attempt=attempt, when="mid-data")
            self.abort()
            return
        self.pending_data_fault = fault
        try:
            await super().smtp_DATA(arg)
        finally:
            self.pending_data_fault = None


class RekeyTestHandler:
    """aiosmtpd handler: the handle_* hooks replace aiosmtpd's defaults."""

    def __init__(self, store: MessageStore, faults: FaultPlan, max_per_connection: Optional[int]) -> None:
        self.store = store
        self.faults = faults
        self.max_per_connection = max_per_connection
        self.connections: set[RekeyTestSMTP] = set()

    async def handle_MAIL(
        self, server: RekeyTestSMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.max_per_connection is not None and server.messages_accepted >= self.max_per_connection:
            self.store.event("max_messages_closed", server, mail_from=address, accepted=server.messages_accepted)
            server.close_after_reply = True
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: RekeyTestSMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        fault = self.faults.take_rcpt_fault(address)
        if fault is not None:
            rule, reply, attempt = fault
            self.store.event("rcpt_rejected", server, rcpt=address, pattern=rule.pattern, reply=reply.render(), attempt=attempt)
            if reply.closes_connection:
                server.close_after_reply = True
            return reply.render()
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: RekeyTestSMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        fault = server.pending_data_fault
        if fault is None:
            return self._accept(server, session, envelope, content)

        address, data, attempt = fault
        if data.kind == "reply":
            assert data.reply is not None
            self.store.event("data_rejected", server, rcpt=address, reply=data.reply.render(), attempt=attempt, size=len(content))
            if data.reply.closes_connection:
                server.close_after_reply = True
            return data.reply.render()

        if data.kind == "drop-after-dot":
            self.store.event("data_dropped", server, rcpt=address, attempt=attempt, when="after-dot", size=len(content))
            server.abort()
            # connection_lost() cancels this task; the reply below is never sent.
            await asyncio.sleep(60)
            return "421 4.3.2 Connection dropped"

        # stall: the message is committed, only the 250 is late.
        n = self.store.save(server, session, envelope, content)
        server.messages_accepted += 1
        self.store.event("data_stalled", server, rcpt=address, attempt=attempt, seconds=data.seconds, n=n)
        try:
            await asyncio.sleep(data.seconds)
        except asyncio.CancelledError:
            self.store.event("stall_interrupted", server, rcpt=address, n=n)
            raise
        return "250 OK"

    def _accept(self, server: RekeyTestSMTP, session: Session, envelope: Envelope, content: bytes) -> str:
        self.store.save(server, session, envelope, content)
        server.messages_accepted += 1
        return "250 OK"


def make_authenticator(user: str, password: str) -> Any:
    expected = LoginPassword(user.encode("utf-8"), password.encode("utf-8"))

    def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and auth_data == expected:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False makes aiosmtpd send "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=False, handled=False)

    return authenticator


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="aiosmtpd test SMTP server for rekey (see module docstring).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral; the port is printed as JSON")
    parser.add_argument("--store", type=Path, help="directory for <n>.eml, log.jsonl, events.jsonl")
    parser.add_argument("--count-only", action="store_true", help="no .eml files; per-recipient counts in log.jsonl")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--auth-allow-plaintext", action="store_true", help="offer AUTH without TLS")
    parser.add_argument("--fault-spec", metavar="FILE_OR_JSON")
    parser.add_argument("--max-messages-per-connection", type=int, metavar="N")
    parser.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE, metavar="BYTES")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.require_starttls and args.tls_cert is None:
        parser.error("--require-starttls needs --tls-cert/--tls-key")
    if args.auth is not None:
        if ":" not in args.auth:
            parser.error("--auth must be USER:PASS")
        if args.tls_cert is None and not args.auth_allow_plaintext:
            parser.error("--auth without TLS needs --auth-allow-plaintext (AUTH is otherwise never offered)")
    if args.count_only and args.store is None:
        parser.error("--count-only needs --store")
    if args.max_messages_per_connection is not None and args.max_messages_per_connection < 1:
        parser.error("--max-messages-per-connection must be >= 1")
    return args


async def serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()

    faults = FaultPlan.load(args.fault_spec) if args.fault_spec else FaultPlan.empty()
    store = MessageStore(args.store, args.count_only)
    handler = RekeyTestHandler(store, faults, args.max_messages_per_connection)

    tls_context: Optional[ssl.SSLContext] = None
    if args.tls_cert is not None:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    smtp_kwargs: dict[str, Any] = {
        "hostname": HOSTNAME,  # aiosmtpd would otherwise call socket.getfqdn() per connection
        "ident": IDENT,
        "tls_context": tls_context,
        "require_starttls": args.require_starttls,
        "data_size_limit": args.max_size,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "loop": loop,
    }
    if args.auth is not None:
        user, _, password = args.auth.partition(":")
        smtp_kwargs.update(
            auth_required=True,
            auth_require_tls=not args.auth_allow_plaintext,
            authenticator=make_authenticator(user, password),
        )

    server = await loop.create_server(
        lambda: RekeyTestSMTP(handler, **smtp_kwargs), host=args.host, port=args.port, backlog=512
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        for connection in list(handler.connections):
            connection.abort()
        await server.wait_closed()
        await asyncio.sleep(0)  # let connection_lost() callbacks run
        store.close()


def main(argv: Optional[list[str]] = None) -> int:
    # A child of a Swift test process can inherit a mask blocking SIGTERM (libdispatch threads block
    # most signals and posix_spawn keeps the mask): undo that so the test can stop this server.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # aiosmtpd logs a warning per connection when AUTH is allowed without TLS; that is intended here.
    logging.getLogger("mail.log").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    try:
        asyncio.run(serve(args))
    except (FaultSpecError, OSError, ssl.SSLError) as error:
        print(f"smtp_server: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
