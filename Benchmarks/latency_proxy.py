#!/usr/bin/env python3
"""latency_proxy: a TCP proxy on 127.0.0.1 that adds a fixed delay in each direction (this kernel has no netem).

    python3 Benchmarks/latency_proxy.py --target 127.0.0.1:2525 --delay-ms 10     # RTT 20 ms
    127.0.0.1:41873                                                               # first line: where it listens

Every connection made to the proxy is forwarded to the target. Each chunk read from either side is held
`--delay-ms` milliseconds from the moment it arrived, then written to the other side: per connection and
direction a FIFO of (due time, bytes), so chunks keep their order and their bytes (several chunks that fall due
together may leave in one `send`, as TCP may do anyway). An end of stream (FIN) travels the same way and becomes
a half-close on the other side; a connection is closed once both directions have ended, or when either side
fails (whatever was already due still goes out first). With a slow reader the proxy stops reading from the other
side (at most `--buffer` bytes wait per direction), as a real link's windows would.

A new connection also costs what a TCP handshake costs across such a link: the proxy connects to the target
3 x delay after it accepted (SYN, SYN-ACK, then the ACK that carries the first data), and what the client sent
meanwhile waits until then; so a server that speaks first (SMTP's banner) is heard 2 RTT after connect(), and
an HTTP request's reply arrives 2 RTT after connect(), as across a real link. `--no-handshake` connects at once.

Counters (`{"accepted": …, "open": …, "peak_open": …, "turns": …, …}` as one JSON line): on SIGUSR1, and with
`--stats` on stdout every time a line is read from stdin. `turns` counts the round trips in which a client
waited for its server: every chunk from a client that is the first on its connection or follows a chunk from the
server (SMTP's MAIL, RCPT, DATA and the message are four turns; pipelined commands sent together are one).
`peak_open` is the most connections open at once since the previous report.

`--log FILE` writes one line per chunk (milliseconds since start, connection, direction, bytes, first line):
enough to see which commands a client sends and when. Debugging only; it slows the proxy down.

As a module (the same proxy in the caller's event loop):

    proxy = await latency_proxy.start("127.0.0.1", 2525, delay_ms=10)
    ... proxy.port, proxy.stats() ...
    await proxy.close()
"""

import argparse
import asyncio
import collections
import json
import os
import signal
import socket
import sys
import time

EOF = b""   # the end-of-stream marker in a direction's queue (data chunks are never empty)


class Stats:
    def __init__(self):
        self.accepted = self.open = self.peak_open = self.turns = self.failed_connects = 0
        self.bytes = {"c2s": 0, "s2c": 0}
        self.chunks = {"c2s": 0, "s2c": 0}

    def snapshot(self):
        """The counters; the peak restarts from the connections open now."""
        out = dict(accepted=self.accepted, open=self.open, peak_open=self.peak_open, turns=self.turns,
                   failed_connects=self.failed_connects, bytes_c2s=self.bytes["c2s"], bytes_s2c=self.bytes["s2c"],
                   chunks_c2s=self.chunks["c2s"], chunks_s2c=self.chunks["s2c"])
        self.peak_open = self.open
        return out


class Direction:
    """One direction of one connection: chunks read from one side wait in order until due, then go to the other."""

    def __init__(self, link, name):
        self.link, self.name = link, name
        self.queue = collections.deque()    # (due, bytes); EOF ends the stream
        self.queued = 0                     # bytes waiting in `queue`
        self.timer = None
        self.source = None                  # the Side this direction reads from (paused when too much waits)
        self.dest = None                    # the Side it writes to (None until connected)
        self.blocked = False                # the destination's transport buffer is full
        self.done = False                   # the end of stream went out (or the destination is gone)

    def push(self, data):
        if self.done:
            return      # the destination is gone
        proxy = self.link.proxy
        self.queue.append((proxy.loop.time() + proxy.delay, data))
        self.queued += len(data)
        self._schedule()
        self._flow()

    def set_blocked(self, blocked):
        self.blocked = blocked
        if not blocked:
            self._flush()
        self._flow()

    def attach(self, dest):
        self.dest = dest
        self._schedule()

    def _schedule(self):
        if self.timer is None and self.queue and self.dest is not None and not self.blocked and not self.done:
            self.timer = self.link.proxy.loop.call_at(self.queue[0][0], self._flush)

    def _flush(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.dest is None or self.done:
            return
        now = self.link.proxy.loop.time()
        transport = self.dest.transport
        while self.queue and self.queue[0][0] <= now and not self.blocked:
            _, data = self.queue.popleft()
            self.queued -= len(data)
            if data is EOF:
                self.done = True
                self.queue.clear()
                self.queued = 0
                if self.dest.lost or not transport.can_write_eof():
                    transport.close()
                else:
                    try:
                        transport.write_eof()
                    except OSError:     # reset by its peer before asyncio noticed
                        transport.abort()
                self.link.direction_done()
                return
            if not self.dest.lost:
                transport.write(data)      # may call pause_writing, which sets `blocked`
        self._schedule()
        self._flow()

    def abandon(self):
        """The destination is gone: nothing more goes out."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.queued = 0
        self.done = True
        self._flow()

    def _flow(self):
        """Reads from the source only while little waits and the destination takes what it is given."""
        if self.source is not None:
            self.source.want_reading(self.done or (not self.blocked and self.queued < self.link.proxy.buffer))


class Side(asyncio.Protocol):
    """One socket of a connection: the client's (accepted) or the server's (connected)."""

    def __init__(self, link, name, reads, writes):
        self.link, self.name = link, name
        self.reads, self.writes = reads, writes     # the Direction fed by this socket, the one that writes to it
        self.transport = None
        self.lost = False
        self.paused = False
        self.seen_eof = False
        reads.source = self

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.writes.attach(self)
        self.link.side_connected(self)

    def data_received(self, data):
        self.link.note(self.reads.name, data)
        self.reads.push(data)

    def eof_received(self):
        self.seen_eof = True
        self.link.note_eof(self.reads.name)
        self.reads.push(EOF)
        return True     # keep the socket open for the other direction (half-close)

    def connection_lost(self, exc):
        self.lost = True
        self.writes.abandon()
        if not self.seen_eof:
            self.seen_eof = True
            self.reads.push(EOF)    # what it sent before still goes out, then the other side is closed
        self.link.side_lost(self)

    def pause_writing(self):
        self.writes.set_blocked(True)

    def resume_writing(self):
        self.writes.set_blocked(False)

    def want_reading(self, want):
        if self.transport is None or self.lost or self.seen_eof:
            return
        if want and self.paused:
            self.paused = False
            self.transport.resume_reading()
        elif not want and not self.paused:
            self.paused = True
            self.transport.pause_reading()


class Link:
    """One proxied connection: the client's socket, the server's, and a Direction each way."""

    def __init__(self, proxy, number):
        self.proxy, self.number = proxy, number
        self.c2s = Direction(self, "c2s")
        self.s2c = Direction(self, "s2c")
        self.client = Side(self, "client", reads=self.c2s, writes=self.s2c)
        self.server = Side(self, "server", reads=self.s2c, writes=self.c2s)
        self.last = None            # the direction of the previous chunk (for counting turns)
        self.finished = False
        self.connector = None

    def side_connected(self, side):
        if side is self.client:
            stats = self.proxy.stats
            stats.accepted += 1
            stats.open += 1
            stats.peak_open = max(stats.peak_open, stats.open)
            self.connector = self.proxy.loop.create_task(self.connect())

    async def connect(self):
        proxy = self.proxy
        if proxy.handshake and proxy.delay > 0:
            await asyncio.sleep(3 * proxy.delay)
        if self.client.lost:
            return self.finish()
        try:
            await proxy.loop.create_connection(lambda: self.server, proxy.target_host, proxy.target_port)
        except OSError as error:
            proxy.stats.failed_connects += 1
            proxy.log_line(f"{self.number} connect to {proxy.target_host}:{proxy.target_port} failed: {error}")
            self.c2s.abandon()
            self.client.transport.close()

    def note(self, direction, data):
        stats = self.proxy.stats
        stats.bytes[direction] += len(data)
        stats.chunks[direction] += 1
        if direction == "c2s" and self.last != "c2s":
            stats.turns += 1
        self.last = direction
        if self.proxy.log is not None:
            first = data.split(b"\n", 1)[0][:72]
            lines = data.count(b"\n")
            self.proxy.log_line(f"{self.number} {'>' if direction == 'c2s' else '<'} {len(data)} bytes"
                                f"{f', {lines} lines' if lines > 1 else ''}: {first!r}")

    def note_eof(self, direction):
        if self.proxy.log is not None:
            self.proxy.log_line(f"{self.number} {'>' if direction == 'c2s' else '<'} EOF")

    def direction_done(self):
        if self.c2s.done and self.s2c.done:
            for side in (self.client, self.server):
                if side.transport is not None and not side.lost:
                    side.transport.close()

    def side_lost(self, side):
        if (self.client.lost or self.client.transport is None) and (self.server.lost or self.server.transport is None):
            self.finish()
        elif self.c2s.done and self.s2c.done:
            self.direction_done()

    def finish(self):
        if not self.finished:
            self.finished = True
            self.proxy.stats.open -= 1
            if self.server.transport is None and self.connector is not None and not self.connector.done():
                self.connector.cancel()


class Proxy:
    def __init__(self, target_host, target_port, delay_ms, handshake=True, buffer=1 << 20, log=None):
        self.target_host, self.target_port = target_host, target_port
        self.delay = delay_ms / 1000.0
        self.handshake = handshake
        self.buffer = buffer
        self.log = log
        self.stats = Stats()
        self.loop = None
        self.server = None
        self.port = None
        self.count = 0
        self.started = time.monotonic()

    async def start(self, host="127.0.0.1", port=0):
        self.loop = asyncio.get_running_loop()
        self.server = await self.loop.create_server(self._accept, host, port, backlog=4096, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def _accept(self):
        self.count += 1
        return Link(self, self.count).client

    def log_line(self, text):
        if self.log is not None:
            self.log.write(f"{1000 * (time.monotonic() - self.started):10.1f} {text}\n")

    async def close(self):
        self.server.close()
        await self.server.wait_closed()
        if self.log is not None:
            self.log.flush()


async def start(target_host, target_port, delay_ms, host="127.0.0.1", port=0, handshake=True, buffer=1 << 20, log=None):
    """Starts a proxy in the running event loop; returns it (`.port`, `.stats.snapshot()`, `await .close()`)."""
    return await Proxy(target_host, target_port, delay_ms, handshake=handshake, buffer=buffer, log=log).start(host, port)


async def serve(args):
    host, _, port = args.target.rpartition(":")
    log = None
    if args.log:
        log = sys.stderr if args.log == "-" else open(args.log, "a", buffering=1)   # append: truncating it while it runs works
    proxy = await start(host or "127.0.0.1", int(port), args.delay_ms, host=args.listen, port=args.port,
                        handshake=not args.no_handshake, buffer=args.buffer, log=log)
    print(f"{args.listen}:{proxy.port}", flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def report():
        print(json.dumps(proxy.stats.snapshot()), flush=True)

    loop.add_signal_handler(signal.SIGUSR1, report)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    if args.stats:
        def on_stdin():
            data = os.read(0, 4096)
            for _ in range(data.count(b"\n")):
                report()
            if not data:    # the parent is gone
                loop.remove_reader(0)
                stop.done() or stop.set_result(None)
        loop.add_reader(0, on_stdin)
    await stop
    await proxy.close()


def main(argv=None):
    p = argparse.ArgumentParser(prog="latency_proxy", description="A TCP proxy that holds every chunk N ms in each direction.")
    p.add_argument("--target", required=True, help="HOST:PORT to forward to")
    p.add_argument("--delay-ms", type=float, required=True, help="one-way delay in ms (RTT = 2 x this)")
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port (printed on the first line)")
    p.add_argument("--no-handshake", action="store_true", help="connect to the target at once (no 1.5 RTT handshake delay)")
    p.add_argument("--buffer", type=int, default=1 << 20, help="bytes that may wait per direction before reading pauses")
    p.add_argument("--stats", action="store_true", help="print the counters as a JSON line each time a line is read from stdin")
    p.add_argument("--log", help="log every chunk to FILE ('-' = stderr)")
    args = p.parse_args(argv)
    if args.delay_ms < 0:
        p.error("--delay-ms must be >= 0")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
