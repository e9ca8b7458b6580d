"""What scripts/bench-smtp and scripts/bench-webhooks share: /proc readings, table printing, the latency proxy
as a child process (--latency-ms), and the second rekey binary (--before).

The scripts put this folder on sys.path; nothing here is run on its own.
"""

import datetime
import http.client
import json
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid):
    """CPU seconds (user + system) a live process has used, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / tick, total / tick


def fmt_rate(x):
    return f"{x:,.0f}" if x else "-"


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def int_list(text):
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def pct(a, b):
    return f"{100 * a / b:.0f}%" if a and b else "-"


# ---------------------------------------------------------------------------------------------- --latency-ms

def _raise_priority():
    """The proxy plays the network: as root it runs at nice -10, so its delays hold while the tools load the CPU."""
    try:
        os.nice(-10)
    except OSError:
        pass


PROXY_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "latency_proxy.py")


class LatencyProxy:
    """Benchmarks/latency_proxy.py as a child process between every tool and the sink: RTT/2 each way.

    Its counters are read over its stdin/stdout (`--stats`): `begin()` before a run, `end(begin)` after it gives
    the connections the run opened, the most open at once, the client turns (round trips the clients waited
    for) and the proxy's CPU seconds."""

    def __init__(self, target_port, rtt_ms, stderr_path):
        self.target_port, self.rtt_ms = target_port, rtt_ms
        self.stderr_path = stderr_path
        self.process = None
        self.port = None
        self._buffer = b""

    def start(self):
        self.process = subprocess.Popen([sys.executable, PROXY_SCRIPT, "--target", f"127.0.0.1:{self.target_port}",
                                         "--delay-ms", f"{self.rtt_ms / 2:g}", "--stats"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),
                                        preexec_fn=_raise_priority)
        line = self._readline(10)
        if not line:
            raise RuntimeError("the latency proxy did not start: " + open(self.stderr_path, errors="replace").read()[-500:])
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def _readline(self, timeout):
        deadline = time.time() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                return ""
            data = os.read(self.process.stdout.fileno(), 4096)
            if not data:
                return ""
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def stats(self):
        self.process.stdin.write(b"\n")
        self.process.stdin.flush()
        line = self._readline(10)
        return json.loads(line) if line else {}

    def cpu(self):
        return proc_cpu(self.process.pid)

    def begin(self):
        return self.stats(), self.cpu()

    def end(self, begin):
        (before, cpu), after = begin, self.stats()
        return dict(connections=after.get("accepted", 0) - before.get("accepted", 0), peak=after.get("peak_open", 0),
                    turns=after.get("turns", 0) - before.get("turns", 0), cpu=self.cpu() - cpu,
                    failed_connects=after.get("failed_connects", 0) - before.get("failed_connects", 0))

    def stop(self):
        if self.process and self.process.poll() is None:
            try:
                self.process.stdin.close()      # the proxy stops when its stdin closes
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()

    def describe(self):
        return (f"RTT {self.rtt_ms:g} ms ({self.rtt_ms / 2:g} ms each way) through Benchmarks/latency_proxy.py on 127.0.0.1:{self.port} "
                f"-> 127.0.0.1:{self.target_port} (a new connection also waits 1.5 RTT: the TCP handshake)")

    def probe(self, kind, count=20):
        """Times round trips through the proxy, to check it adds what it should: SMTP NOOPs after the banner, or
        HTTP POSTs (kind = the path) on one keep-alive connection. Returns a line for the header."""
        times = []
        start = time.perf_counter()
        if kind == "smtp":
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                f = s.makefile("rb")
                f.readline()
                first = time.perf_counter() - start
                for _ in range(count):
                    t = time.perf_counter()
                    s.sendall(b"NOOP\r\n")
                    f.readline()
                    times.append(time.perf_counter() - t)
                s.sendall(b"QUIT\r\n")
                f.readline()
            what, first_what = "SMTP NOOP", "the banner"
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            for i in range(count + 1):
                t = time.perf_counter()
                connection.request("POST", kind, body=b"{}", headers={"content-type": "application/json"})
                connection.getresponse().read()
                if i:
                    times.append(time.perf_counter() - t)
                else:
                    first = time.perf_counter() - start
            connection.close()
            what, first_what = "HTTP POST (keep-alive)", "the first response"
        ms = sorted(1000 * t for t in times)
        self.measured_rtt_ms = statistics.median(ms)
        return (f"proxy check: {what} round trip median {statistics.median(ms):.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f}, "
                f"{count} tries; asked {self.rtt_ms:g}); {first_what} {1000 * first:.1f} ms after connect "
                f"(expected about {2 * self.rtt_ms:g}: handshake + one round trip)")


def start_latency_proxy(target_port, rtt_ms, tmp, children, log, probe):
    """--latency-ms: starts the proxy in front of the sink (stopped with the script's other children) and checks
    the delay it adds with `probe` ("smtp" or an HTTP path); the check's line is kept in `proxy.check`."""
    proxy = LatencyProxy(target_port, rtt_ms, os.path.join(tmp, "latency-proxy.err")).start()
    children.append(proxy.process)
    log(f"latency proxy pid {proxy.process.pid} on 127.0.0.1:{proxy.port} -> 127.0.0.1:{target_port}, RTT {rtt_ms:g} ms")
    proxy.check = proxy.probe(probe)
    log(proxy.check)
    return proxy


def through(proxy):
    """A table title's words for the path to the sink."""
    return f", through a latency proxy: RTT {proxy.rtt_ms:g} ms" if proxy else ""


def latency_table(runs, rtt_ms, round_trips, unit, pipelined=None, pipelined_name=""):
    """The round-trip arithmetic for runs through the proxy. runs: [(label, items, rate, proxy counters, connections
    the tool was told to use)]; the connections counted are the fewer of those and the most the proxy saw open at
    once (a tool may open fewer; closing connections overlap new ones).

    A sender that waits for every reply moves at most connections / (round trips x RTT) items per second; the
    implied round trips are connections / (rate x RTT); the proxy also counts the client's turns directly."""
    rtt = rtt_ms / 1000.0
    rows = []
    for label, items, rate, px, configured in runs:
        peak = (px or {}).get("peak", 0)
        connections = min(configured, peak) if peak else configured
        ceiling = connections / (round_trips * rtt) if rtt else 0
        row = [label, f"{connections}" + (f" (of {configured})" if connections != configured else ""),
               f"{peak} / {px['connections']}" if px else "-", fmt_rate(rate),
               fmt_rate(ceiling), pct(rate, ceiling), f"{connections / (rate * rtt):.2f}" if rate and rtt else "-",
               f"{px['turns'] / items:.2f}" if px and items else "-"]
        if pipelined:
            row.append(fmt_rate(connections / (pipelined * rtt)) if rtt else "-")
        rows.append(row)
    header = ["tool", "connections", "peak / opened", f"{unit}/s", f"ceiling ({round_trips} RT)", "of ceiling", f"RT/{unit} implied",
              f"turns/{unit} (proxy)"] + ([f"ceiling {pipelined_name} ({pipelined} RT)"] if pipelined else [])
    return table(header, rows)


def round_trip_report(proxy, runs, round_trips, unit, pipelined=None, pipelined_name=""):
    """The --latency-ms section both benchmarks print: a title, latency_table and what its columns mean."""
    rtt = proxy.rtt_ms
    return "\n".join([
        "",
        f"Round trips at RTT {rtt:g} ms (each tool's best run; the proxy's own check measured {proxy.measured_rtt_ms:.1f} ms):",
        latency_table(runs, rtt, round_trips, unit, pipelined, pipelined_name),
        f"  connections: what the tool was told to use, or the most the proxy saw open at once if fewer; peak / opened: the most "
        f"open at once\n  and how many the run opened; ceiling = connections / ({round_trips} x RTT); RT/{unit} implied = "
        f"connections / ({unit}/s x RTT), the round trips\n  each {unit} cost if every connection was always busy; turns/{unit} (proxy): "
        f"how often a client spoke after hearing from the server\n  (connection set-up and closing included), counted by the proxy."])


# ---------------------------------------------------------------------------------------------- --before

REKEY, BEFORE = "rekey", "rekey-before"     # the tool names of the two rekey binaries in the results


def rekey_label(tool):
    return "rekey (before)" if tool == BEFORE else "rekey"


def describe_binary(path):
    built = datetime.datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y-%m-%d %H:%M:%S")
    return f"{path} (built {built})"


def rekey_binaries(main, before, round_index):
    """[(tool, path)] for one round: the main binary and, with --before, the other one right next to it; the
    order alternates from round to round so that neither always runs first."""
    pairs = [(REKEY, main)] + ([(BEFORE, before)] if before else [])
    return pairs if round_index % 2 == 0 else pairs[::-1]


def check_options(binaries, uses):
    """Checks that each binary's subcommands accept the options the benchmark passes them.
    uses: {("campaign", "send"): ["--smtp", ...]}. Returns the problems found (none: an empty list)."""
    problems = []
    for path in binaries:
        for words, options in uses.items():
            r = subprocess.run([path, *words, "--help"], capture_output=True, text=True, timeout=60)
            text = r.stdout + r.stderr
            if r.returncode != 0:
                problems.append(f"{path} {' '.join(words)} --help: exit {r.returncode}: {text.strip()[:200]}")
                continue
            missing = [o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
            if missing:
                problems.append(f"{path} {' '.join(words)} does not list {', '.join(missing)}")
    return problems


def before_after_table(results, configs, config_name, measures):
    """After (the main binary) over before, per configuration: the best run of each, and with several rounds the
    median of each round's own ratio (the two ran back to back). results: [(tool, config, result)] with
    result['round']; measures: [(title, value(result), higher_is_better, format)]."""
    rounds = sorted({r.get("round", 0) for _, _, r in results})
    rows = []
    for c in configs:
        runs = {tool: [r for t, cc, r in results if t == tool and cc == c and r["ok"]] for tool in (REKEY, BEFORE)}
        row = [f"{config_name} {c}"]
        for _, value, higher, fmt in measures:
            pick = max if higher else min
            a = pick((value(r) for r in runs[REKEY]), default=0)
            b = pick((value(r) for r in runs[BEFORE]), default=0)
            row += [fmt(a) if a else "-", fmt(b) if b else "-", f"{a / b:.2f}x" if a and b else "-"]
            if len(rounds) > 1:
                paired = []
                for k in rounds:
                    ra = [value(r) for r in runs[REKEY] if r.get("round") == k]
                    rb = [value(r) for r in runs[BEFORE] if r.get("round") == k]
                    if ra and rb and ra[0] and rb[0]:
                        paired.append(ra[0] / rb[0])
                row.append(f"{statistics.median(paired):.2f}x" if paired else "-")
        rows.append(row)
    header = [config_name]
    for title, _, _, _ in measures:
        header += [f"{title}: after", "before", "after/before"] + (["median of rounds"] if len(rounds) > 1 else [])
    return table(header, rows)
