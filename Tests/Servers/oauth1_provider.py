#!/usr/bin/env python3
"""OAuth 1.0a provider with Jira Server paths, for rekey's tests.

Built on oauthlib's ``oauthlib.oauth1.WebApplicationServer`` (request token,
authorization, access token and resource endpoints) behind the standard
library's ``ThreadingHTTPServer``.  Everything is kept in memory.

Usage::

    python3 oauth1_provider.py --port 0 \
        --rsa-consumer rekeyjiraconsumer0001=/path/public.pem \
        --hmac-consumer rekeyhmacconsumer0001=s3cret \
        [--deny-api] [--log FILE] [--user NAME]

Once listening it prints exactly one JSON line ``{"port": N}`` on stdout.

Endpoints (paths as on Jira Server / Data Center):

    POST /plugins/servlet/oauth/request-token   temporary credentials
    GET  /plugins/servlet/oauth/authorize       auto-approves (test = browser)
    POST /plugins/servlet/oauth/access-token    token credentials
    GET  /rest/api/2/myself                     protected (OAuth required)
    GET  /rest/api/2/serverInfo                 public; validated if OAuth sent

oauthlib defaults kept on purpose: consumer keys, tokens, nonces and
verifiers must be 20-30 ASCII letters/digits and timestamps must be within
600 s of the server clock.
"""

import argparse
import html
import json
import signal
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography import x509
    from oauthlib.oauth1 import RequestValidator, WebApplicationServer
    from oauthlib.oauth1.rfc5849 import (
        SIGNATURE_HMAC_SHA1,
        SIGNATURE_RSA_SHA1,
        errors as oauth1_errors,
        signature as oauth1_signature,
    )
    from oauthlib.common import UNICODE_ASCII_CHARACTER_SET
    import jwt  # noqa: F401  (oauthlib needs PyJWT for RSA-SHA1)
except ImportError as exc:  # pragma: no cover
    sys.stderr.write(
        "oauth1_provider: missing dependency (%s); run: python3 -m pip install "
        "oauthlib PyJWT cryptography\n" % exc)
    sys.exit(2)


REQUEST_TOKEN_PATH = "/plugins/servlet/oauth/request-token"
AUTHORIZE_PATH = "/plugins/servlet/oauth/authorize"
ACCESS_TOKEN_PATH = "/plugins/servlet/oauth/access-token"
MYSELF_PATH = "/rest/api/2/myself"
SERVER_INFO_PATH = "/rest/api/2/serverInfo"

REQUEST_TOKEN_TTL = 600          # Jira: request tokens live 10 minutes
ACCESS_TOKEN_EXPIRES_IN = 157680000  # Jira advertises 5 years

SAFE_CHARS = set(UNICODE_ASCII_CHARACTER_SET)


# --------------------------------------------------------------------------
# Consumers and in-memory storage
# --------------------------------------------------------------------------

class Consumer:
    def __init__(self, key, kind, secret=None, public_pem=None):
        self.key = key
        self.kind = kind                  # "rsa" or "hmac"
        self.secret = secret
        self.public_pem = public_pem

    @property
    def signature_method(self):
        return SIGNATURE_RSA_SHA1 if self.kind == "rsa" else SIGNATURE_HMAC_SHA1


def _check_key_format(key, what):
    if not (20 <= len(key) <= 30 and set(key) <= SAFE_CHARS):
        raise SystemExit(
            "oauth1_provider: %s %r must be 20-30 ASCII letters/digits "
            "(oauthlib's default check_client_key)" % (what, key))


def load_public_pem(path):
    """Return a SubjectPublicKeyInfo PEM from a public key, private key or
    certificate PEM file."""
    with open(path, "rb") as fh:
        data = fh.read()
    key = None
    for loader in (
        lambda d: serialization.load_pem_public_key(d),
        lambda d: serialization.load_pem_private_key(d, password=None).public_key(),
        lambda d: x509.load_pem_x509_certificate(d).public_key(),
    ):
        try:
            key = loader(data)
            break
        except Exception:  # noqa: BLE001
            continue
    if key is None or not isinstance(key, rsa.RSAPublicKey):
        raise SystemExit("oauth1_provider: %s is not an RSA PEM key/certificate" % path)
    return key.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.request_tokens = {}   # token -> dict
        self.access_tokens = {}    # token -> dict
        self.nonces = {}           # (client, ts, nonce, token) -> seen_at


_problem = threading.local()


def _set_problem(problem):
    """Remember the first OAuth problem of the current request (reported in
    the 401 response, oauth_problem reporting extension style)."""
    if getattr(_problem, "value", None) is None:
        _problem.value = problem


class JiraRequestValidator(RequestValidator):
    """RequestValidator accepting the consumers given on the command line."""

    def __init__(self, consumers, store, user):
        super().__init__()
        self.consumers = consumers
        self.store = store
        self.user = user
        self._dummy_secret = secrets.token_urlsafe(32)
        dummy_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._dummy_rsa = dummy_key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    # -- configuration ----------------------------------------------------
    @property
    def enforce_ssl(self):
        return False

    @property
    def allowed_signature_methods(self):
        return [SIGNATURE_HMAC_SHA1, SIGNATURE_RSA_SHA1]

    @property
    def dummy_client(self):
        return "dummyclientdummyclient00"

    @property
    def dummy_request_token(self):
        return "dummyrequesttokendummy00"

    @property
    def dummy_access_token(self):
        return "dummyaccesstokendummy000"

    def check_realms(self, realms):
        # Any realm is allowed (Jira clients often send realm="<base url>").
        return True

    # -- secrets / keys -----------------------------------------------------
    def get_client_secret(self, client_key, request):
        c = self.consumers.get(client_key)
        if c is not None and c.kind == "hmac":
            return c.secret
        return self._dummy_secret

    def get_rsa_key(self, client_key, request):
        c = self.consumers.get(client_key)
        if c is not None and c.kind == "rsa":
            return c.public_pem
        return self._dummy_rsa

    def get_request_token_secret(self, client_key, token, request):
        with self.store.lock:
            rt = self.store.request_tokens.get(token)
            if rt and rt["client_key"] == client_key:
                return rt["secret"]
        return self._dummy_secret

    def get_access_token_secret(self, client_key, token, request):
        with self.store.lock:
            at = self.store.access_tokens.get(token)
            if at and at["client_key"] == client_key:
                return at["secret"]
        return self._dummy_secret

    # -- validation ---------------------------------------------------------
    def validate_client_key(self, client_key, request):
        c = self.consumers.get(client_key)
        if c is None:
            _set_problem("consumer_key_unknown")
            return False
        if request.signature_method != c.signature_method:
            _set_problem("signature_method_rejected")
            return False
        return True

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        key = (client_key, timestamp, nonce, request_token or access_token)
        now = time.time()
        with self.store.lock:
            if key in self.store.nonces:
                _set_problem("nonce_used")
                return False
            self.store.nonces[key] = now
            if len(self.store.nonces) > 10000:
                horizon = now - 2 * self.timestamp_lifetime
                for k in [k for k, v in self.store.nonces.items() if v < horizon]:
                    del self.store.nonces[k]
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        if redirect_uri == "oob":
            return True
        parts = urllib.parse.urlsplit(redirect_uri)
        if parts.scheme in ("http", "https") and parts.netloc:
            return True
        _set_problem("parameter_rejected")
        return False

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    def validate_request_token(self, client_key, token, request):
        with self.store.lock:
            rt = self.store.request_tokens.get(token)
            if rt is None or rt["client_key"] != client_key:
                _set_problem("token_rejected")
                return False
            if time.time() > rt["expires_at"]:
                _set_problem("token_expired")
                return False
        return True

    def validate_access_token(self, client_key, token, request):
        with self.store.lock:
            at = self.store.access_tokens.get(token)
            if at is None or at["client_key"] != client_key:
                _set_problem("token_rejected")
                return False
        return True

    def validate_verifier(self, client_key, token, verifier, request):
        with self.store.lock:
            rt = self.store.request_tokens.get(token)
            ok = (rt is not None and rt["client_key"] == client_key
                  and rt["verifier"] is not None
                  and secrets.compare_digest(rt["verifier"], verifier))
        if not ok:
            _set_problem("verifier_invalid")
        return ok

    def verify_request_token(self, token, request):
        # Authorization step (unsigned, browser): token must exist, be fresh
        # and not yet authorized.
        with self.store.lock:
            rt = self.store.request_tokens.get(token)
            return (rt is not None and rt["verifier"] is None
                    and time.time() <= rt["expires_at"])

    def verify_realms(self, token, realms, request):
        return True

    # -- realm / redirect lookups ---------------------------------------------
    def get_default_realms(self, client_key, request):
        return []

    def get_realms(self, token, request):
        with self.store.lock:
            rt = self.store.request_tokens.get(token)
            return list(rt["realms"]) if rt else []

    def get_redirect_uri(self, token, request):
        with self.store.lock:
            return self.store.request_tokens[token]["callback"]

    # -- persistence --------------------------------------------------------
    def save_request_token(self, token, request):
        with self.store.lock:
            self.store.request_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "client_key": request.client_key,
                "callback": request.redirect_uri,
                "realms": list(request.realms or []),
                "verifier": None,
                "expires_at": time.time() + REQUEST_TOKEN_TTL,
            }

    def save_verifier(self, token, verifier, request):
        with self.store.lock:
            self.store.request_tokens[token]["verifier"] = verifier["oauth_verifier"]

    def save_access_token(self, token, request):
        with self.store.lock:
            self.store.access_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "client_key": request.client_key,
                "user": self.user,
                "created": time.time(),
            }

    def invalidate_request_token(self, client_key, request_token, request):
        # Makes the request token and its verifier single-use.
        with self.store.lock:
            self.store.request_tokens.pop(request_token, None)


# --------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------

def _oauth_params_for_log(uri, body, headers):
    try:
        query = urllib.parse.urlsplit(uri).query
        params = oauth1_signature.collect_parameters(
            uri_query=query, body=body or None, headers=headers,
            exclude_oauth_signature=True, with_realm=True)
    except Exception:  # noqa: BLE001
        return {}
    return {k: v for k, v in params if k.startswith("oauth_") or k == "realm"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rekey-oauth1-provider/1.0"

    # silence default stderr access log
    def log_message(self, fmt, *args):  # noqa: D401
        if self.server.config.verbose:
            super().log_message(fmt, *args)

    # -- plumbing -------------------------------------------------------------
    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _base_url(self):
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_port
        return "http://" + host

    def _send(self, status, body=b"", headers=None, content_type=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        body = body or b""
        self.send_response(status)
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._status = status

    def _log(self, uri, body, headers, extra=None):
        path = self.server.config.log
        if not path:
            return
        entry = {
            "ts": round(time.time(), 3),
            "method": self.command,
            "path": urllib.parse.urlsplit(self.path).path,
            "status": getattr(self, "_status", None),
            "oauth": _oauth_params_for_log(uri, body, headers),
        }
        if extra:
            entry.update(extra)
        line = json.dumps(entry, sort_keys=True)
        with self.server.log_lock:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def _problem_response(self, problem, json_body=False):
        realm = self._base_url()
        www = 'OAuth realm="%s", oauth_problem="%s"' % (realm, problem)
        if json_body:
            body = json.dumps({
                "errorMessages": ["OAuth authentication failed: %s" % problem],
                "errors": {},
                "oauth_problem": problem,
            })
            self._send(401, body, {"WWW-Authenticate": www}, "application/json;charset=UTF-8")
        else:
            body = urllib.parse.urlencode({"oauth_problem": problem})
            self._send(401, body, {"WWW-Authenticate": www},
                       "application/x-www-form-urlencoded")

    # -- dispatch -------------------------------------------------------------
    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def _handle(self):
        _problem.value = None
        raw = self._read_body()
        body = raw.decode("utf-8", errors="replace")
        uri = self._base_url() + self.path
        headers = dict(self.headers.items())
        path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        extra = {}
        try:
            routes = {
                REQUEST_TOKEN_PATH: (("POST",), self._request_token),
                AUTHORIZE_PATH: (("GET", "POST"), self._authorize),
                ACCESS_TOKEN_PATH: (("POST",), self._access_token),
                MYSELF_PATH: (("GET",), self._myself),
                SERVER_INFO_PATH: (("GET",), self._server_info),
            }
            route = routes.get(path)
            if route is None:
                self._send(404, json.dumps({"errorMessages": ["Not found: %s" % path]}),
                           content_type="application/json")
            elif self.command not in route[0]:
                self._send(405, json.dumps({"errorMessages": ["Method not allowed"]}),
                           {"Allow": ", ".join(route[0])}, "application/json")
            else:
                route[1](uri, body, headers)
        except Exception as exc:  # noqa: BLE001
            extra["exception"] = repr(exc)
            if not hasattr(self, "_status"):
                self._send(500, json.dumps({"errorMessages": [repr(exc)]}),
                           content_type="application/json")
        if getattr(_problem, "value", None):
            extra["oauth_problem"] = _problem.value
        self._log(uri, body, headers, extra)
        if hasattr(self, "_status"):
            del self._status

    # -- endpoints ------------------------------------------------------------
    def _request_token(self, uri, body, headers):
        server = self.server.oauth
        try:
            h, b, s = server.create_request_token_response(uri, self.command, body, headers)
        except (ValueError, TypeError):   # e.g. undecodable oauth_signature
            h, b, s = {}, None, 401
            _set_problem("signature_invalid")
        if s == 401:
            self._problem_response(_problem.value or "signature_invalid")
        else:
            self._send(s, b or "", h)

    def _access_token(self, uri, body, headers):
        server = self.server.oauth
        try:
            h, b, s = server.create_access_token_response(
                uri, self.command, body, headers,
                credentials={"oauth_expires_in": str(ACCESS_TOKEN_EXPIRES_IN)})
        except (ValueError, TypeError):   # e.g. undecodable oauth_signature
            h, b, s = {}, None, 401
            _set_problem("signature_invalid")
        if s == 401:
            self._problem_response(_problem.value or "signature_invalid")
        else:
            self._send(s, b or "", h)

    def _authorize(self, uri, body, headers):
        server = self.server.oauth
        try:
            h, b, s = server.create_authorization_response(uri, self.command, body, headers)
        except oauth1_errors.OAuth1Error as exc:
            page = ("<!DOCTYPE html><html><head><title>OAuth error</title></head><body>"
                    "<h1>Authorization failed</h1><p id=\"error\">%s</p></body></html>"
                    % html.escape(exc.description or exc.error))
            status = exc.status_code if exc.status_code in (400, 401) else 400
            self._send(status, page, content_type="text/html;charset=UTF-8")
            return
        if s == 302:
            self._send(302, "", {"Location": h["Location"]})
            return
        # oob: show the verifier the way Jira does ("Access Approved" page).
        params = dict(urllib.parse.parse_qsl(b or ""))
        verifier = params.get("oauth_verifier", "")
        token = params.get("oauth_token", "")
        page = (
            "<!DOCTYPE html>\n<html><head><title>Access Approved</title></head><body>\n"
            "<h1>Access Approved</h1>\n"
            "<p>You have successfully authorized the application. Your verification code is "
            "'<span id=\"verifier\">{v}</span>'. You will need to enter this exact text when "
            "prompted. You should write this value down before closing the browser window.</p>\n"
            "<form id=\"oauth-verifier\" action=\"#\" method=\"get\">"
            "<input type=\"hidden\" name=\"oauth_token\" value=\"{t}\">"
            "<input type=\"text\" id=\"oauth_verifier\" name=\"oauth_verifier\" value=\"{v}\" readonly>"
            "</form>\n</body></html>\n"
        ).format(v=html.escape(verifier), t=html.escape(token))
        self._send(200, page, content_type="text/html;charset=UTF-8")

    def _validate_resource(self, uri, body, headers):
        server = self.server.oauth
        try:
            valid, request = server.validate_protected_resource_request(
                uri, self.command, body, headers, realms=[])
        except (ValueError, TypeError):
            valid, request = False, None
        if request is None:
            _set_problem("parameter_absent")
        elif not valid and "signature" not in getattr(request, "validator_log", {}):
            # rejected before the signature check (mandatory params/timestamp)
            try:
                skew = abs(time.time() - int(request.timestamp or 0))
            except ValueError:
                skew = 0
            if not request.resource_owner_key:
                _set_problem("parameter_absent")
            elif skew > self.server.oauth.request_validator.timestamp_lifetime:
                _set_problem("timestamp_refused")
            else:
                _set_problem("parameter_rejected")
        return valid, request

    def _user_json(self):
        cfg = self.server.config
        base = self._base_url()
        return {
            "self": base + "/rest/api/2/user?username=" + urllib.parse.quote(cfg.user),
            "key": cfg.user_key,
            "name": cfg.user,
            "emailAddress": cfg.user + "@example.test",
            "displayName": cfg.display_name,
            "active": True,
            "timeZone": "UTC",
        }

    def _myself(self, uri, body, headers):
        valid, request = self._validate_resource(uri, body, headers)
        if not valid:
            self._problem_response(_problem.value or "signature_invalid", json_body=True)
            return
        if self.server.config.deny_api:
            _set_problem("permission_denied")
            self._problem_response("permission_denied", json_body=True)
            return
        if self.server.config.api_delay:
            sys.stderr.write("myself: holding the answer %.1f s\n" % self.server.config.api_delay)
            sys.stderr.flush()
            time.sleep(self.server.config.api_delay)
        self._send(200, json.dumps(self._user_json()), content_type="application/json;charset=UTF-8")

    def _server_info(self, uri, body, headers):
        if _oauth_params_for_log(uri, body, headers):
            valid, _ = self._validate_resource(uri, body, headers)
            if not valid:
                self._problem_response(_problem.value or "signature_invalid", json_body=True)
                return
            if self.server.config.deny_api:
                _set_problem("permission_denied")
                self._problem_response("permission_denied", json_body=True)
                return
        info = {
            "baseUrl": self._base_url(),
            "version": "9.12.2",
            "versionNumbers": [9, 12, 2],
            "deploymentType": "Server",
            "buildNumber": 9120002,
            "buildDate": "2024-01-01T00:00:00.000+0000",
            "serverTime": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime()),
            "scmInfo": "rekey-test",
            "serverTitle": "rekey test Jira",
        }
        self._send(200, json.dumps(info), content_type="application/json;charset=UTF-8")


class ProviderHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="OAuth 1.0a provider (Jira Server paths) for tests")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port, 0 = ephemeral (default)")
    p.add_argument("--rsa-consumer", action="append", default=[], metavar="KEY=PUBLIC_PEM_FILE",
                   help="register an RSA-SHA1 consumer (repeatable)")
    p.add_argument("--hmac-consumer", action="append", default=[], metavar="KEY=SECRET",
                   help="register an HMAC-SHA1 consumer (repeatable)")
    p.add_argument("--deny-api", action="store_true",
                   help="protected REST API answers 401 even for valid signatures")
    p.add_argument("--log", metavar="FILE", help="append one JSON line per request")
    p.add_argument("--api-delay", type=float, default=0, metavar="S",
                   help="wait S seconds before answering a valid /myself (to interrupt a client mid-verification)")
    p.add_argument("--user", default="rekey.user", help="username returned by /myself")
    p.add_argument("--user-key", default="JIRAUSER10000", help="user key returned by /myself")
    p.add_argument("--display-name", default="Rekey Test User")
    p.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = p.parse_args(argv)
    consumers = {}
    for spec in args.rsa_consumer:
        key, sep, path = spec.partition("=")
        if not sep or not path:
            p.error("--rsa-consumer expects KEY=PUBLIC_PEM_FILE")
        _check_key_format(key, "consumer key")
        consumers[key] = Consumer(key, "rsa", public_pem=load_public_pem(path))
    for spec in args.hmac_consumer:
        key, sep, secret = spec.partition("=")
        if not sep:
            p.error("--hmac-consumer expects KEY=SECRET")
        _check_key_format(key, "consumer key")
        consumers[key] = Consumer(key, "hmac", secret=secret)
    if not consumers:
        p.error("register at least one --rsa-consumer or --hmac-consumer")
    args.consumers = consumers
    return args


def main(argv=None):
    # A child of a Swift test process can inherit a mask blocking SIGTERM (libdispatch threads block
    # most signals and posix_spawn keeps the mask): undo that so the test can stop this server.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    args = parse_args(argv)
    store = Store()
    validator = JiraRequestValidator(args.consumers, store, args.user)
    httpd = ProviderHTTPServer((args.host, args.port), Handler)
    httpd.config = args
    httpd.oauth = WebApplicationServer(validator)
    httpd.store = store
    httpd.log_lock = threading.Lock()
    sys.stdout.write(json.dumps({"port": httpd.server_port}) + "\n")
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
