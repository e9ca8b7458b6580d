#!/usr/bin/env python3
"""A throwaway nginx terminating TLS in front of `rekey serve`'s public listener, as in production.

Usage: nginx_tls.py --upstream 127.0.0.1:PORT --dir DIR [--port 0] [--example PATH]

In DIR it makes a test CA and a server certificate for 127.0.0.1, ::1 and localhost (openssl CLI), renders
DIR/rekey.conf from examples/nginx/rekey.conf (the TLS server block and everything outside server blocks: the same
locations, proxy headers, timeouts and body limits; only the listen address, server_name, certificate paths, access
log path and upstream address are substituted; the plain-HTTP redirect block is dropped) and DIR/nginx.conf around
it (pid, logs and temporary files inside DIR, one worker, so it runs as root or not), then starts
`nginx -p DIR -c DIR/nginx.conf -e DIR/logs/error.log -g 'daemon off;'`.

Once nginx answers over TLS (a verified handshake with the test CA, and a 404 for `/`, which is never proxied), it
prints one JSON line and flushes it:

    {"port": N, "url": "https://127.0.0.1:N", "ca": "DIR/ca.pem", "spki_hash": "<base64 sha256 of the server
     certificate's SubjectPublicKeyInfo>", "pid": NGINX_MASTER_PID}

`spki_hash` is what Chromium's --ignore-certificate-errors-spki-list takes (Tests/Tools/reconnect_browser.py
--ca-spki-hash); `ca` is for curl --cacert / libcurl CAINFO / reconnect_browser.py --ca-cert. --port 0 picks a
free port. Diagnostics (and nginx's warnings) go to stderr. Runs until SIGTERM or SIGINT, or until its stdin is
closed when stdin is a pipe; then it stops nginx and exits 0. nginx is told to stop if this script dies (it gets
SIGTERM from the kernel). Exit 1 when nginx cannot start or dies on its own.
"""
import argparse
import base64
import ctypes
import hashlib
import http.client
import json
import os
import re
import select
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "nginx", "rekey.conf")
NGINX = "/usr/sbin/nginx"


def log(message):
    print(f"nginx_tls: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"nginx_tls: openssl {' '.join(args[:2])} failed: {r.stderr.strip()}")
    return r.stdout


def make_certificates(d):
    """A test CA and a server certificate it signs (EC P-256, 2 days). Returns (ca, cert, key, spki_hash)."""
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    cert, key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=rekey test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    csr = os.path.join(d, "server.csr")
    openssl("req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost", cwd=d)
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nsubjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", str(int(time.time() * 1000)),
            "-days", "2", "-extfile", ext, "-out", cert, cwd=d)
    for path in (ca_key, key):
        os.chmod(path, 0o600)
    der = ssl.PEM_cert_to_DER_cert(open(cert).read())
    spki = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-pubkey"], input=der, capture_output=True,
                          check=True).stdout
    spki_der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=spki, capture_output=True,
                              check=True).stdout
    return ca, cert, key, base64.b64encode(hashlib.sha256(spki_der).digest()).decode()


# ---------------------------------------------------------------------------------------------- rendering

def strip_comments(text):
    """nginx comments run from an unquoted # to the end of the line."""
    out = []
    for line in text.splitlines():
        quote, cut = None, len(line)
        for i, c in enumerate(line):
            if quote:
                if c == quote and line[i - 1] != "\\":
                    quote = None
            elif c in "'\"":
                quote = c
            elif c == "#":
                cut = i
                break
        out.append(line[:cut].rstrip())
    return "\n".join(l for l in out if l.strip()) + "\n"


def top_level_blocks(text):
    """Splits a config into top-level statements: (head, body or None, full text)."""
    items, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start, quote = i, None
        while i < n:
            c = text[i]
            if quote:
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
            elif c == ";":
                i += 1
                items.append((text[start:i].strip(), None, text[start:i]))
                break
            elif c == "{":
                head, depth, body_start = text[start:i].strip(), 1, i + 1
                i += 1
                while i < n and depth:
                    if text[i] == "{":
                        depth += 1
                    elif text[i] == "}":
                        depth -= 1
                    i += 1
                if depth:
                    raise SystemExit("nginx_tls: unbalanced braces in the example config")
                items.append((head, text[body_start:i - 1], text[start:i]))
                break
            i += 1
        else:
            raise SystemExit("nginx_tls: the example config ends inside a statement")
    return items


def substitute(pattern, replacement, text, what, count=0):
    new, n = re.subn(pattern, replacement, text, count=count, flags=re.M)
    if n == 0:
        raise SystemExit(f"nginx_tls: examples/nginx/rekey.conf has no {what}; update nginx_tls.py's rendering")
    return new


def render_site(example, port, upstream, cert, key, d):
    """The example's statements outside server blocks (upstream, map, log_format) and its TLS server block."""
    kept = []
    tls_blocks = 0
    for head, body, full in top_level_blocks(strip_comments(example)):
        if head == "server":
            if "ssl_certificate" not in body:
                continue            # the plain-HTTP redirect
            tls_blocks += 1
            block = full
            listens = re.findall(r"^\s*listen\s+([^;]*);", block, flags=re.M)
            flags = [w for w in ("ssl", "http2") if any(w in l.split()[1:] for l in listens)]
            block = re.sub(r"^\s*listen\s+[^;]*;\n", "", block, flags=re.M)
            block = substitute(r"^(\s*)server_name\s+[^;]*;",
                               lambda m: f"{m.group(1)}listen 127.0.0.1:{port} {' '.join(flags)};\n"
                                         f"{m.group(1)}server_name localhost 127.0.0.1;",
                               block, "server_name in the TLS server block", count=1)
            block = substitute(r"^(\s*)ssl_certificate\s+[^;]*;", lambda m: f"{m.group(1)}ssl_certificate {cert};",
                               block, "ssl_certificate")
            block = substitute(r"^(\s*)ssl_certificate_key\s+[^;]*;",
                               lambda m: f"{m.group(1)}ssl_certificate_key {key};", block, "ssl_certificate_key")
            block = re.sub(r"^(\s*)access_log\s+/\S+", lambda m: f"{m.group(1)}access_log {d}/logs/access.log", block,
                           flags=re.M)
            kept.append(block)
        elif head.startswith("upstream"):
            kept.append(substitute(r"^(\s*)server\s+\S+?(\s[^;]*)?;", lambda m: f"{m.group(1)}server {upstream}{m.group(2) or ''};",
                                   full, "server in the upstream block", count=1))
        else:
            kept.append(full)
    if tls_blocks != 1:
        raise SystemExit(f"nginx_tls: expected one TLS server block in the example, found {tls_blocks}")
    return "# Rendered by Tests/Tools/nginx_tls.py from examples/nginx/rekey.conf; do not edit.\n\n" + "\n\n".join(
        k.strip() for k in kept) + "\n"


def render_main(d):
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {d}/tmp/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# Rendered by Tests/Tools/nginx_tls.py; do not edit.
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log info;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
{temp}    include {d}/rekey.conf;
}}
"""


# ---------------------------------------------------------------------------------------------- running

def die_with_parent():
    """preexec_fn: nginx's master gets SIGTERM if this script dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def answers(port, ca):
    """True once nginx completes a verified TLS handshake for 127.0.0.1 and answers `/` (never proxied) with 404."""
    context = ssl.create_default_context(cafile=ca)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=2)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        if response.status != 404:
            raise SystemExit(f"nginx_tls: nginx answered GET / with {response.status}, expected 404")
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def start_nginx(d, port, ca):
    """Starts nginx; returns the Popen once it answers, or None when the port was taken (try another)."""
    command = [NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "logs", "error.log"),
               "-g", "daemon off;"]
    errors = open(os.path.join(d, "logs", "stderr"), "w+b")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=errors, stderr=errors, start_new_session=True,
                               preexec_fn=die_with_parent)
    deadline = time.time() + 15
    while time.time() < deadline:
        if process.poll() is not None:
            errors.seek(0)
            text = errors.read().decode(errors="replace")
            sys.stderr.write(text)
            if "Address already in use" in text:
                return None
            raise SystemExit(f"nginx_tls: nginx exited with status {process.returncode}")
        if answers(port, ca):
            return process
        time.sleep(0.1)
    stop(process)
    raise SystemExit("nginx_tls: nginx did not answer within 15 s")


def stop(process):
    if process.poll() is None:
        try:
            os.kill(process.pid, signal.SIGTERM)    # fast shutdown
            process.wait(timeout=1.5)
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)       # its workers, if any are left
    except OSError:
        pass
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass


def main():
    parser = argparse.ArgumentParser(description="throwaway TLS nginx in front of rekey's public listener")
    parser.add_argument("--upstream", required=True, metavar="HOST:PORT", help="rekey serve --public-listen address")
    parser.add_argument("--dir", required=True, help="where certificates, config, logs and temp files go")
    parser.add_argument("--port", type=int, default=0, help="TLS port on 127.0.0.1; 0 = a free one (default)")
    parser.add_argument("--example", default=EXAMPLE, help="the config to derive from (default examples/nginx/rekey.conf)")
    args = parser.parse_args()
    if not re.fullmatch(r"[\w.\-]+:\d+|\[[0-9a-fA-F:]+\]:\d+", args.upstream):
        parser.error("--upstream must be HOST:PORT")
    if not os.path.exists(NGINX):
        raise SystemExit(f"nginx_tls: {NGINX} is missing; run scripts/setup (Debian package nginx)")
    d = os.path.abspath(args.dir)
    for sub in ("logs", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    ca, cert, key, spki_hash = make_certificates(d)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(render_main(d))
    example = open(args.example).read()

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))

    process = None
    for _ in range(5):
        port = args.port or free_port()
        with open(os.path.join(d, "rekey.conf"), "w") as f:
            f.write(render_site(example, port, args.upstream, cert, key, d))
        process = start_nginx(d, port, ca)
        if process is not None or args.port:
            break
        log(f"port {port} was taken; trying another")
    if process is None:
        raise SystemExit("nginx_tls: no free port for nginx")
    log(f"nginx pid {process.pid} on https://127.0.0.1:{port} -> http://{args.upstream} (config {d}/rekey.conf)")
    print(json.dumps({"port": port, "url": f"https://127.0.0.1:{port}", "ca": ca, "spki_hash": spki_hash,
                      "pid": process.pid}), flush=True)

    watch_stdin = stat.S_ISFIFO(os.fstat(0).st_mode)
    status = 0
    try:
        while not stopping:
            if process.poll() is not None:
                log(f"nginx exited on its own with status {process.returncode}")
                status = 1
                break
            if watch_stdin:
                ready, _, _ = select.select([0], [], [], 0.25)
                if ready and not os.read(0, 4096):
                    log("stdin closed; stopping")
                    break
            else:
                time.sleep(0.25)
    finally:
        stop(process)
    return status


if __name__ == "__main__":
    sys.exit(main())
