#!/usr/bin/env python3
"""OAuth 2.0 authorization server + Atlassian-like protected API for rekey's tests.

Built on oauthlib's OAuth 2.0 endpoints (authorization code + PKCE, refresh
token, client credentials, RFC 8628 device code, RFC 7009 revocation,
RFC 7662 introspection, RFC 8414 metadata) with a ``RequestValidator`` that
keeps everything in memory, behind the standard library's
``ThreadingHTTPServer``.

Usage::

    python3 oauth2_provider.py --port 0 \
        --client rekey-confidential:s3cret --public-client rekey-cli \
        [--access-token-ttl 3600] [--deny-api] [--issuer-override URL] \
        [--log FILE]

Once listening it prints exactly one JSON line ``{"port": N}`` on stdout.
See Tests/Servers/README.md for the endpoint list and behaviour.
"""

import os

# Plain http on 127.0.0.1: must be set before oauthlib checks transports.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

import argparse  # noqa: E402
import base64  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

try:
    from oauthlib.common import generate_token  # noqa: E402
    from oauthlib.oauth2 import (  # noqa: E402
        AuthorizationCodeGrant,
        AuthorizationEndpoint,
        BearerToken,
        ClientCredentialsGrant,
        DeviceAuthorizationEndpoint,
        DeviceCodeGrant,
        IntrospectEndpoint,
        MetadataEndpoint,
        RefreshTokenGrant,
        ResourceEndpoint,
        RevocationEndpoint,
        TokenEndpoint,
    )
    from oauthlib.oauth2.rfc6749 import errors as oauth2_errors  # noqa: E402
    from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (  # noqa: E402
        code_challenge_method_s256,
    )
    from oauthlib.oauth2.rfc8628.request_validator import (  # noqa: E402
        RequestValidator as DeviceRequestValidator,
    )
except ImportError as exc:  # pragma: no cover
    sys.stderr.write("oauth2_provider: missing dependency (%s); run: python3 -m pip "
                     "install 'oauthlib>=3.3'\n" % exc)
    sys.exit(2)


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CONFIDENTIAL_GRANTS = {"authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT}
PUBLIC_GRANTS = {"authorization_code", "refresh_token", DEVICE_GRANT}
DEFAULT_SCOPES = ["read:jira-user"]
CODE_TTL = 600
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"   # RFC 8628 section 6.1
POLL_TOLERANCE = 0.25                         # seconds of jitter allowed when polling

SITES = [
    {
        "id": "1324a887-45db-1bf4-1e99-ef0ff456d421",
        "url": "https://acme.atlassian.net",
        "name": "acme",
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
    },
    {
        "id": "8f2c6b1e-7d3a-4c59-9e0b-5a4d3c2b1a09",
        "url": "https://acme-sandbox.atlassian.net",
        "name": "acme-sandbox",
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
    },
]

ERROR_DESCRIPTIONS = {
    "invalid_request": "The request is missing a required parameter or is otherwise malformed.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The provided authorization grant or refresh token is invalid, expired, "
                     "revoked, or was issued to another client.",
    "unauthorized_client": "The client is not authorized to use this grant type.",
    "unsupported_grant_type": "The authorization grant type is not supported.",
    "invalid_scope": "The requested scope is invalid or unknown.",
    "unsupported_token_type": "The token type is not supported.",
    "authorization_pending": "The user has not yet approved the device authorization request.",
    "slow_down": "Polling too fast; increase the polling interval by 5 seconds.",
    "expired_token": "The device_code has expired.",
    "access_denied": "The resource owner denied the request.",
    "unsupported_response_type": "Only response_type=code is supported.",
    "server_error": "Internal server error.",
}

SENSITIVE_KEYS = {"code", "access_token", "refresh_token", "token", "client_secret",
                  "code_verifier", "device_code", "password", "id_token"}


def redact(value):
    """Never log secrets in full: keep only the first 4 characters."""
    if value is None:
        return None
    value = str(value)
    return value[:4] + "..." if len(value) > 4 else value


def redact_auth_header(value):
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    return "%s %s" % (scheme, redact(rest.strip()))


# --------------------------------------------------------------------------
# In-memory store and validator
# --------------------------------------------------------------------------

class Client:
    def __init__(self, client_id, secret=None):
        self.client_id = client_id
        self.secret = secret

    @property
    def public(self):
        return self.secret is None


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.clear()

    def clear(self):
        self.codes = {}            # code -> record
        self.access_tokens = {}    # token -> record
        self.refresh_tokens = {}   # token -> record
        self.families = {}         # family id -> {"revoked": bool, "reason": str}
        self.device_codes = {}     # device_code -> record
        self.user_codes = {}       # normalized user_code -> device_code

    # token families: every token descending from one authorization grant
    def new_family(self):
        fam = secrets.token_hex(8)
        self.families[fam] = {"revoked": False, "reason": None}
        return fam

    def revoke_family(self, fam, reason):
        if not fam or fam not in self.families:
            return
        self.families[fam].update(revoked=True, reason=reason)
        for rec in list(self.access_tokens.values()) + list(self.refresh_tokens.values()):
            if rec.get("family") == fam:
                rec["revoked"] = True

    def family_revoked(self, fam):
        return bool(fam) and self.families.get(fam, {}).get("revoked", False)


def normalize_user_code(code):
    return re.sub(r"[^A-Z0-9]", "", (code or "").upper())


class ProviderValidator(DeviceRequestValidator):
    def __init__(self, config, store):
        super().__init__()
        self.cfg = config
        self.store = store
        self.clients = config.clients

    # -- client authentication ------------------------------------------------
    @staticmethod
    def _basic_credentials(request):
        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(auth.split(" ", 1)[1].strip(), validate=True).decode("utf-8")
        except Exception:  # noqa: BLE001
            return ("", "")
        cid, _, secret = raw.partition(":")
        return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)

    def client_authentication_required(self, request, *args, **kwargs):
        if self._basic_credentials(request) is not None:
            return True
        if request.client_secret is not None:
            return True
        client = self.clients.get(request.client_id)
        return client is None or not client.public

    def authenticate_client(self, request, *args, **kwargs):
        basic = self._basic_credentials(request)
        if basic is not None:
            if request.client_secret is not None:
                return False            # RFC 6749 2.3: only one auth method
            cid, secret = basic
            if request.client_id and request.client_id != cid:
                return False
        else:
            cid, secret = request.client_id, request.client_secret
        client = self.clients.get(cid)
        if client is None or client.public or secret is None:
            return False
        if not secrets.compare_digest(client.secret.encode(), secret.encode()):
            return False
        request.client = client
        request.client_id = client.client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        client = self.clients.get(client_id)
        if client is None or not client.public:
            return False
        request.client = client
        return True

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return client_id in self.clients

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        c = self.clients.get(client_id)
        if c is None:
            return False
        return grant_type in (PUBLIC_GRANTS if c.public else CONFIDENTIAL_GRANTS)

    # -- authorization request ----------------------------------------------
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        if redirect_uri in self.cfg.redirect_uri:
            return True
        # RFC 8252 section 7.3: loopback IP redirect, any port.
        try:
            parts = urllib.parse.urlsplit(redirect_uri)
            port = parts.port  # noqa: F841  (raises on a bad port)
        except ValueError:
            return False
        return (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1")
                and not parts.fragment and not parts.username)

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    def is_pkce_required(self, client_id, request):
        return True

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return all(re.fullmatch(r"[\x21\x23-\x5B\x5D-\x7E]+", s) for s in scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return list(DEFAULT_SCOPES)

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        with self.store.lock:
            self.store.codes[code["code"]] = {
                "client_id": client_id,
                "redirect_uri": request.redirect_uri,
                "scopes": list(request.scopes or []),
                "user": self.cfg.account_id,
                "code_challenge": request.code_challenge,
                "code_challenge_method": request.code_challenge_method,
                "expires_at": time.time() + CODE_TTL,
                "used": False,
                "family": None,
            }

    # -- token request: authorization_code --------------------------------------
    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        with self.store.lock:
            rec = self.store.codes.get(code)
            if rec is None or rec["client_id"] != client_id:
                return False
            if rec["used"]:
                # RFC 6749 4.1.2: revoke tokens issued from a replayed code.
                self.store.revoke_family(rec["family"], "authorization code reused")
                raise oauth2_errors.InvalidGrantError(
                    description="authorization code already used", request=request)
            rec["used"] = True              # single use, even if the exchange fails
            if time.time() > rec["expires_at"]:
                raise oauth2_errors.InvalidGrantError(
                    description="authorization code expired", request=request)
            request.user = rec["user"]
            request.scopes = list(rec["scopes"])
            request.code_record = rec
            return True

    def get_code_challenge(self, code, request):
        with self.store.lock:
            rec = self.store.codes.get(code)
            return rec["code_challenge"] if rec else None

    def get_code_challenge_method(self, code, request):
        with self.store.lock:
            rec = self.store.codes.get(code)
            return rec["code_challenge_method"] if rec else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        with self.store.lock:
            rec = self.store.codes.get(code)
            return rec is not None and rec["redirect_uri"] == redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        with self.store.lock:
            rec = self.store.codes.get(code)
            if rec:
                rec["used"] = True

    # -- token request: refresh_token (rotation + reuse detection) -------------
    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        with self.store.lock:
            rec = self.store.refresh_tokens.get(refresh_token)
            if rec is None or rec["client_id"] != client.client_id:
                return False
            if rec["used"]:
                self.store.revoke_family(rec["family"], "refresh token reused")
                raise oauth2_errors.InvalidGrantError(
                    description="refresh token reused", request=request)
            if rec["revoked"] or self.store.family_revoked(rec["family"]):
                raise oauth2_errors.InvalidGrantError(
                    description="refresh token revoked", request=request)
            if time.time() > rec["expires_at"]:
                raise oauth2_errors.InvalidGrantError(
                    description="refresh token expired", request=request)
            rec["used"] = True              # rotation: the old token dies now
            request.user = rec["user"]
            request.refresh_record = rec
            return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        with self.store.lock:
            return list(self.store.refresh_tokens[refresh_token]["scopes"])

    def is_within_original_scope(self, request_scopes, refresh_token, request, *args, **kwargs):
        return False

    def rotate_refresh_token(self, request):
        return True

    # -- token request: device_code -----------------------------------------------
    def validate_device_code(self, client_id, code, request, *args, **kwargs):
        now = time.time()
        with self.store.lock:
            rec = self.store.device_codes.get(code)
            if rec is None or rec["client_id"] != client_id:
                return None                                  # invalid_grant
            if rec["status"] == "consumed":
                return None
            if now > rec["expires_at"]:
                return DeviceCodeGrant.DEVICE_CODE_EXPIRED
            if rec["status"] == "denied":
                return DeviceCodeGrant.DEVICE_CODE_DENIED
            last = rec["last_poll"]
            rec["last_poll"] = now
            rec["polls"] += 1
            if rec["status"] == "pending":
                if last is not None and now - last < rec["interval"] - POLL_TOLERANCE:
                    rec["interval"] += 5                     # RFC 8628 3.5
                    rec["slow_downs"] += 1
                    return DeviceCodeGrant.DEVICE_CODE_SLOW_DOWN
                return DeviceCodeGrant.DEVICE_CODE_PENDING
            rec["status"] = "consumed"
            request.user = rec["user"]
            request.scopes = list(rec["scopes"])
            return DeviceCodeGrant.DEVICE_CODE_AUTHORIZED

    # -- token persistence ------------------------------------------------------
    def save_bearer_token(self, token, request, *args, **kwargs):
        now = time.time()
        with self.store.lock:
            grant = request.grant_type
            if grant == "refresh_token":
                fam = request.refresh_record["family"]
            elif grant == "authorization_code":
                fam = self.store.new_family()
                request.code_record["family"] = fam
            elif grant == DEVICE_GRANT:
                fam = self.store.new_family()
            else:
                fam = None                                   # client_credentials
            user = getattr(request, "user", None)
            scopes = list(request.scopes or [])
            client_id = request.client.client_id if request.client else request.client_id
            self.store.access_tokens[token["access_token"]] = {
                "client_id": client_id,
                "scopes": scopes,
                "user": user,
                "family": fam,
                "grant_type": grant,
                "issued_at": now,
                "expires_at": now + int(token.get("expires_in", self.cfg.access_token_ttl)),
                "revoked": False,
            }
            if token.get("refresh_token"):
                self.store.refresh_tokens[token["refresh_token"]] = {
                    "client_id": client_id,
                    "scopes": scopes,
                    "user": user,
                    "family": fam,
                    "issued_at": now,
                    "expires_at": now + self.cfg.refresh_token_ttl,
                    "used": False,
                    "revoked": False,
                }
        request.issued_token = token

    # -- resource access -----------------------------------------------------------
    def validate_bearer_token(self, token, scopes, request):
        if not token:
            return False
        with self.store.lock:
            rec = self.store.access_tokens.get(token)
            if (rec is None or rec["revoked"] or self.store.family_revoked(rec["family"])
                    or time.time() >= rec["expires_at"]):
                return False
            request.token_record = dict(rec)
            request.user = rec["user"]
            return True

    # -- revocation / introspection ------------------------------------------------
    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        with self.store.lock:
            cid = request.client.client_id if request.client else request.client_id
            order = ["refresh_token", "access_token"]
            if token_type_hint == "access_token":
                order.reverse()
            for kind in order:
                table = (self.store.refresh_tokens if kind == "refresh_token"
                         else self.store.access_tokens)
                rec = table.get(token)
                if rec is None:
                    continue
                if rec["client_id"] != cid:
                    return                     # not this client's token: no-op
                rec["revoked"] = True
                if kind == "refresh_token":
                    # RFC 7009 2.1: also invalidate the grant's access tokens
                    self.store.revoke_family(rec["family"], "revoked")
                return

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        now = time.time()
        with self.store.lock:
            for kind, table in (("access_token", self.store.access_tokens),
                                ("refresh_token", self.store.refresh_tokens)):
                rec = table.get(token)
                if rec is None:
                    continue
                if (rec["revoked"] or self.store.family_revoked(rec["family"])
                        or rec.get("used") or now >= rec["expires_at"]):
                    return None
                claims = {
                    "scope": " ".join(rec["scopes"]),
                    "client_id": rec["client_id"],
                    "exp": int(rec["expires_at"]),
                    "iat": int(rec["issued_at"]),
                    "iss": self.cfg.issuer_advertised,
                    "token_type": "Bearer" if kind == "access_token" else "refresh_token",
                }
                if rec["user"]:
                    claims["sub"] = rec["user"]
                    claims["username"] = self.cfg.user_name
                return claims
        return None


# --------------------------------------------------------------------------
# oauthlib server assembly
# --------------------------------------------------------------------------

def _check_code_challenge(request):
    """pre_auth validator: force query response mode, sanity-check PKCE."""
    request.response_mode = "query"
    cc = request.code_challenge
    if cc is not None and not re.fullmatch(r"[A-Za-z0-9_-]{43}", cc):
        raise oauth2_errors.InvalidRequestError(
            description="code_challenge must be BASE64URL(SHA256(code_verifier)) (43 chars)",
            request=request)
    return {}


def _check_code_verifier(request):
    """pre_token validator (RFC 7636 4.1 verifier syntax)."""
    v = request.code_verifier
    if v is not None and not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", v):
        raise oauth2_errors.InvalidRequestError(
            description="code_verifier must be 43-128 characters of [A-Za-z0-9-._~]",
            request=request)


class Provider(AuthorizationEndpoint, TokenEndpoint, ResourceEndpoint,
               RevocationEndpoint, IntrospectEndpoint):
    """oauthlib Server restricted to code(+PKCE S256)/refresh/client_credentials/device."""

    def __init__(self, validator, access_token_ttl):
        self.auth_grant = AuthorizationCodeGrant(
            validator, pre_auth=[_check_code_challenge], pre_token=[_check_code_verifier])
        # oauthlib also accepts "plain" (and defaults a missing method to it):
        # keeping only S256 makes both cases an invalid_request.
        self.auth_grant._code_challenge_methods = {"S256": code_challenge_method_s256}
        self.credentials_grant = ClientCredentialsGrant(validator)
        self.refresh_grant = RefreshTokenGrant(validator, issue_new_refresh_tokens=True)
        self.device_code_grant = DeviceCodeGrant(validator)
        # A callable TTL, because BearerToken does `expires_in or 3600`
        # which would turn a TTL of 0 into an hour.
        self.bearer = BearerToken(validator, expires_in=lambda request: access_token_ttl)
        AuthorizationEndpoint.__init__(
            self, default_response_type="code",
            response_types={"code": self.auth_grant}, default_token_type=self.bearer)
        TokenEndpoint.__init__(
            self, default_grant_type="authorization_code",
            grant_types={
                "authorization_code": self.auth_grant,
                "refresh_token": self.refresh_grant,
                "client_credentials": self.credentials_grant,
                DEVICE_GRANT: self.device_code_grant,
            },
            default_token_type=self.bearer)
        ResourceEndpoint.__init__(self, default_token="Bearer",
                                  token_types={"Bearer": self.bearer})
        RevocationEndpoint.__init__(self, validator)
        IntrospectEndpoint.__init__(self, validator)


def make_user_code():
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return raw[:4] + "-" + raw[4:]


# --------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------

def _json_error(error, description=None, status=400, extra_headers=None):
    body = {"error": error,
            "error_description": description or ERROR_DESCRIPTIONS.get(error, error)}
    return status, json.dumps(body), dict(extra_headers or {})


def _ensure_error_description(body):
    """oauthlib omits error_description for some errors; RFC-shaped tests want it."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return body
    if isinstance(data, dict) and "error" in data and not data.get("error_description"):
        data["error_description"] = ERROR_DESCRIPTIONS.get(data["error"], data["error"])
        return json.dumps(data)
    return body


def _add_iss(location, issuer):
    """RFC 9207: add iss to the authorization response (success or error)."""
    parts = urllib.parse.urlsplit(location)
    frag = urllib.parse.parse_qsl(parts.fragment, keep_blank_values=True)
    if any(k in ("code", "error") for k, _ in frag):
        frag.append(("iss", issuer))
        return urllib.parse.urlunsplit(parts._replace(fragment=urllib.parse.urlencode(frag)))
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    keys = {k for k, _ in query}
    if "error" in keys and "error_description" not in keys:
        err = dict(query)["error"]
        query.insert(1, ("error_description", ERROR_DESCRIPTIONS.get(err, err)))
    query.append(("iss", issuer))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rekey-oauth2-provider/1.0"

    def log_message(self, fmt, *args):
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

    def _send(self, status, body="", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        body = body or b""
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-length"}
        if body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if not any(k.lower() == "cache-control" for k in headers):
            self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_entry["status"] = status

    def _log(self):
        path = self.server.config.log
        if not path:
            return
        line = json.dumps(self.log_entry, sort_keys=True)
        with self.server.log_lock:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def _handle(self):
        raw = self._read_body()
        body = raw.decode("utf-8", errors="replace")
        split = urllib.parse.urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        headers = dict(self.headers.items())
        uri = self.server.base_url + self.path
        params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in ctype:
            params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
        self.log_entry = {
            "ts": round(time.time(), 3),
            "method": self.command,
            "path": path,
            "status": None,
            "params": {k: (redact(v) if k in SENSITIVE_KEYS else v) for k, v in params.items()},
        }
        if self.headers.get("Authorization"):
            self.log_entry["authorization"] = redact_auth_header(self.headers["Authorization"])
        self.form = params
        try:
            self._route(path, uri, body, headers)
        except Exception as exc:  # noqa: BLE001
            self.log_entry["exception"] = repr(exc)
            if self.log_entry["status"] is None:
                status, b, h = _json_error("server_error", repr(exc), 500)
                self._send(status, b, h)
        self._log()

    def _route(self, path, uri, body, headers):
        m = re.fullmatch(r"/ex/jira/([^/]+)(/rest/api/3/myself)", path)
        cloud_id = None
        if m:
            cloud_id, path = m.group(1), m.group(2)
        routes = {
            "/authorize": (("GET",), self._authorize),
            "/token": (("POST",), self._token),
            "/device_authorization": (("POST",), self._device_authorization),
            "/device": (("GET",), self._device_page),
            "/device/approve": (("GET", "POST"), self._device_approve),
            "/device/deny": (("GET", "POST"), self._device_deny),
            "/revoke": (("POST",), self._revoke),
            "/introspect": (("POST",), self._introspect),
            "/.well-known/oauth-authorization-server": (("GET",), self._metadata),
            "/rest/api/3/myself": (("GET",), lambda u, b, h: self._myself(u, b, h, cloud_id)),
            "/oauth/token/accessible-resources": (("GET",), self._accessible_resources),
            "/control/token-requests": (("GET",), self._control_counts),
            "/control/reset": (("GET", "POST"), self._control_reset),
        }
        route = routes.get(path)
        if route is None:
            self._send(404, {"error": "not_found", "error_description": "no route for %s" % path})
        elif self.command not in route[0]:
            self._send(405, {"error": "invalid_request",
                             "error_description": "method %s not allowed" % self.command},
                       {"Allow": ", ".join(route[0])})
        else:
            route[1](uri, body, headers)

    def _is_form(self):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return ctype == "application/x-www-form-urlencoded"

    # -- /authorize -------------------------------------------------------------
    def _authorize(self, uri, body, headers):
        srv = self.server
        issuer = srv.config.issuer_advertised
        if srv.config.deny_consent:
            # Validate first so a bad client/redirect still gets a 400 page.
            try:
                srv.oauth.validate_authorization_request(uri, "GET", None, headers)
            except oauth2_errors.FatalClientError as e:
                self._authorize_fatal(e)
                return
            except oauth2_errors.OAuth2Error:
                pass
            redirect = self.form.get("redirect_uri")
            if redirect and srv.validator.validate_redirect_uri(self.form.get("client_id"), redirect, None):
                q = [("error", "access_denied"),
                     ("error_description", "The resource owner denied the request.")]
                if self.form.get("state"):
                    q.append(("state", self.form["state"]))
                loc = _add_iss(redirect + ("&" if "?" in redirect else "?")
                               + urllib.parse.urlencode(q), issuer)
                self._send(302, "", {"Location": loc})
                return
        with srv.store.lock:
            try:
                h, _b, s = srv.oauth.create_authorization_response(
                    uri, "GET", None, headers, scopes=None,
                    credentials={"user": srv.config.account_id})
            except oauth2_errors.FatalClientError as e:
                self._authorize_fatal(e)
                return
        loc = _add_iss(h["Location"], issuer)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        if "code" in q:
            self.log_entry["issued"] = {"code": redact(q["code"])}
        if "error" in q:
            self.log_entry["error"] = q["error"]
        self._send(s, "", {"Location": loc})

    def _authorize_fatal(self, e):
        # Never redirect to an unverified redirect_uri / unknown client.
        self.log_entry["error"] = e.error
        if "text/html" in self.headers.get("Accept", ""):
            page = ("<!DOCTYPE html><html><body><h1>OAuth error</h1><p id=\"error\">%s</p>"
                    "<p id=\"error_description\">%s</p></body></html>"
                    % (html.escape(e.error), html.escape(e.description or "")))
            self._send(400, page, {"Content-Type": "text/html;charset=UTF-8"})
        else:
            status, b, h = _json_error(e.error, e.description, 400)
            self._send(status, b, h)

    # -- /token -----------------------------------------------------------------
    def _token(self, uri, body, headers):
        srv = self.server
        grant = self.form.get("grant_type")
        with srv.counter_lock:
            srv.counters["token_requests"] += 1
            if grant == "refresh_token":
                srv.counters["refresh_requests"] += 1
            by = srv.counters["by_grant_type"]
            by[grant or ""] = by.get(grant or "", 0) + 1
        if srv.config.token_delay:
            time.sleep(srv.config.token_delay)
        if not self._is_form():
            status, b, h = _json_error(
                "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        elif not grant:
            status, b, h = _json_error("invalid_request", "Missing grant_type parameter.")
        else:
            with srv.store.lock:
                h, b, status = srv.oauth.create_token_response(uri, "POST", body, headers)
            h = dict(h or {})
            if status != 200:
                b = _ensure_error_description(b)
                if status == 401 and self._used_basic():
                    h["WWW-Authenticate"] = 'Basic realm="rekey-oauth2-provider"'
        try:
            data = json.loads(b)
        except (TypeError, ValueError):
            data = {}
        if status == 200:
            self.log_entry["issued"] = {k: redact(data.get(k)) for k in
                                        ("access_token", "refresh_token") if data.get(k)}
        else:
            self.log_entry["error"] = data.get("error")
            self.log_entry["error_description"] = data.get("error_description")
        self._send(status, b, h)

    def _used_basic(self):
        return self.headers.get("Authorization", "").lower().startswith("basic ")

    # -- device flow ---------------------------------------------------------------
    def _device_authorization(self, uri, body, headers):
        srv = self.server
        basic = ProviderValidator._basic_credentials(type("R", (), {"headers": headers})())
        if basic and basic[0] and "client_id" not in self.form and self._is_form():
            # oauthlib insists on a client_id parameter even when the client
            # authenticates with HTTP Basic (RFC 8628 3.1 does not).
            body = (body + "&" if body else "") + urllib.parse.urlencode({"client_id": basic[0]})
        with srv.store.lock:
            try:
                h, data, status = srv.device_endpoint.create_device_authorization_response(
                    uri, "POST", body, headers)
            except oauth2_errors.OAuth2Error as e:
                hdrs = dict(e.headers)
                if e.status_code == 401 and self._used_basic():
                    hdrs["WWW-Authenticate"] = 'Basic realm="rekey-oauth2-provider"'
                self.log_entry["error"] = e.error
                self._send(e.status_code, _ensure_error_description(e.json), hdrs)
                return
            client_id = basic[0] if basic else self.form.get("client_id")
            scopes = data.get("scope", " ".join(DEFAULT_SCOPES)).split()
            srv.store.device_codes[data["device_code"]] = {
                "client_id": client_id,
                "user_code": data["user_code"],
                "scopes": scopes,
                "user": srv.config.account_id,
                "status": "pending",
                "interval": srv.config.device_interval,
                "expires_at": time.time() + srv.config.device_expires_in,
                "last_poll": None,
                "polls": 0,
                "slow_downs": 0,
            }
            srv.store.user_codes[normalize_user_code(data["user_code"])] = data["device_code"]
        self.log_entry["issued"] = {"device_code": redact(data["device_code"]),
                                    "user_code": data["user_code"]}
        self._send(200, data, {"Content-Type": "application/json", "Cache-Control": "no-store"})

    def _device_lookup(self):
        code = normalize_user_code(self.form.get("user_code"))
        dc = self.server.store.user_codes.get(code)
        return self.server.store.device_codes.get(dc) if dc else None

    def _device_set(self, status_word):
        with self.server.store.lock:
            rec = self._device_lookup()
            if rec is None:
                self._send(404, "<p id=\"result\">unknown user_code</p>",
                           {"Content-Type": "text/html;charset=UTF-8"})
                return
            if time.time() > rec["expires_at"]:
                self._send(400, "<p id=\"result\">expired</p>",
                           {"Content-Type": "text/html;charset=UTF-8"})
                return
            if rec["status"] == "pending":
                rec["status"] = status_word
            result = rec["status"]
        self._send(200, "<!DOCTYPE html><html><body><h1>Device %s</h1>"
                        "<p id=\"result\">%s</p></body></html>" % (result, result),
                   {"Content-Type": "text/html;charset=UTF-8"})

    def _device_approve(self, uri, body, headers):
        self._device_set("approved")

    def _device_deny(self, uri, body, headers):
        self._device_set("denied")

    def _device_page(self, uri, body, headers):
        if self.form.get("user_code"):
            # verification_uri_complete opened by the test "browser": approve.
            self._device_set("approved")
            return
        page = ("<!DOCTYPE html><html><body><h1>Device login</h1>"
                "<form action=\"/device/approve\" method=\"get\">"
                "<input name=\"user_code\" id=\"user_code\"><button>Approve</button>"
                "</form></body></html>")
        self._send(200, page, {"Content-Type": "text/html;charset=UTF-8"})

    # -- revocation / introspection ------------------------------------------------
    def _revoke(self, uri, body, headers):
        with self.server.store.lock:
            h, b, s = self.server.oauth.create_revocation_response(uri, "POST", body, headers)
        h = dict(h or {})
        if s != 200:
            b = _ensure_error_description(b)
            if s == 401 and self._used_basic():
                h["WWW-Authenticate"] = 'Basic realm="rekey-oauth2-provider"'
        self._send(s, b or "", h)

    def _introspect(self, uri, body, headers):
        with self.server.store.lock:
            h, b, s = self.server.oauth.create_introspect_response(uri, "POST", body, headers)
        h = dict(h or {})
        if s != 200:
            b = _ensure_error_description(b)
            if s == 401 and self._used_basic():
                h["WWW-Authenticate"] = 'Basic realm="rekey-oauth2-provider"'
        self._send(s, b, h)

    # -- metadata -----------------------------------------------------------------
    def _metadata(self, uri, body, headers):
        h, b, s = self.server.metadata.create_metadata_response(uri, "GET", None, headers)
        self._send(s, b, h)

    # -- protected API ------------------------------------------------------------
    def _bearer(self, uri, headers):
        with self.server.store.lock:
            valid, request = self.server.oauth.verify_request(uri, self.command, None, headers)
        return (request.token_record if valid else None)

    def _unauthorized(self, error="invalid_token", description="The access token is invalid"):
        www = 'Bearer realm="rekey-oauth2-provider", error="%s", error_description="%s"' % (
            error, description)
        self._send(401, {"code": 401, "message": "Unauthorized",
                         "error": error, "error_description": description},
                   {"WWW-Authenticate": www})

    def _myself(self, uri, body, headers, cloud_id):
        rec = self._bearer(uri, headers)
        if rec is None:
            self._unauthorized()
            return
        if cloud_id is not None and cloud_id not in {s["id"] for s in SITES}:
            self._send(404, {"code": 404, "message": "No site with cloud id %s" % cloud_id})
            return
        if self.server.config.deny_api:
            self._unauthorized("insufficient_scope", "API access denied (--deny-api)")
            return
        cfg = self.server.config
        if rec["user"]:
            data = {"accountId": rec["user"], "accountType": "atlassian",
                    "displayName": cfg.display_name, "emailAddress": cfg.user_name,
                    "active": True, "timeZone": "UTC"}
        else:
            data = {"accountId": "app:" + rec["client_id"], "accountType": "app",
                    "displayName": rec["client_id"], "active": True}
        self._send(200, data)

    def _accessible_resources(self, uri, body, headers):
        rec = self._bearer(uri, headers)
        if rec is None:
            self._unauthorized()
            return
        sites = [dict(site, scopes=list(rec["scopes"])) for site in SITES]
        self._send(200, sites)

    # -- control --------------------------------------------------------------------
    def _control_counts(self, uri, body, headers):
        with self.server.counter_lock:
            data = json.loads(json.dumps(self.server.counters))
        self._send(200, data)

    def _control_reset(self, uri, body, headers):
        srv = self.server
        with srv.counter_lock:
            srv.counters.update(token_requests=0, refresh_requests=0, by_grant_type={})
        cleared = False
        if self.form.get("all") in ("1", "true", "yes"):
            with srv.store.lock:
                srv.store.clear()
            cleared = True
        self._send(200, {"reset": True, "state_cleared": cleared})


class ProviderHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="OAuth 2.0 authorization server for tests")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port, 0 = ephemeral (default)")
    p.add_argument("--client", action="append", default=[], metavar="ID:SECRET",
                   help="register a confidential client (repeatable)")
    p.add_argument("--public-client", action="append", default=[], metavar="ID",
                   help="register a public client (PKCE only, repeatable)")
    p.add_argument("--redirect-uri", action="append", default=[], metavar="URI",
                   help="extra exact-match redirect URI allowed for every client "
                        "(loopback http://127.0.0.1:<any port>/... is always allowed)")
    p.add_argument("--access-token-ttl", type=int, default=3600, metavar="SECONDS")
    p.add_argument("--refresh-token-ttl", type=int, default=90 * 24 * 3600, metavar="SECONDS")
    p.add_argument("--device-interval", type=int, default=5, metavar="SECONDS",
                   help="polling interval advertised for the device flow (default 5)")
    p.add_argument("--device-expires-in", type=int, default=600, metavar="SECONDS")
    p.add_argument("--token-delay", type=float, default=0.0, metavar="SECONDS",
                   help="sleep before answering POST /token (widens race windows)")
    p.add_argument("--deny-api", action="store_true",
                   help="/rest/api/3/myself answers 401 even for valid tokens")
    p.add_argument("--deny-consent", action="store_true",
                   help="/authorize redirects with error=access_denied")
    p.add_argument("--issuer-override", metavar="URL",
                   help="issuer advertised in metadata and the iss parameter")
    p.add_argument("--account-id", default="5b10ac8d82e05b22cc7d4ef5")
    p.add_argument("--user-name", default="rekey.user@example.test")
    p.add_argument("--display-name", default="Rekey Test User")
    p.add_argument("--log", metavar="FILE", help="append one JSON line per request")
    p.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = p.parse_args(argv)
    clients = {}
    for spec in args.client:
        cid, sep, secret = spec.partition(":")
        if not sep or not cid or not secret:
            p.error("--client expects ID:SECRET")
        clients[cid] = Client(cid, secret)
    for cid in args.public_client:
        clients[cid] = Client(cid)
    if not clients:
        p.error("register at least one --client or --public-client")
    args.clients = clients
    return args


def main(argv=None):
    # A child of a Swift test process can inherit a mask blocking SIGTERM (libdispatch threads block
    # most signals and posix_spawn keeps the mask): undo that so the test can stop this server.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    args = parse_args(argv)
    httpd = ProviderHTTPServer((args.host, args.port), Handler)
    port = httpd.server_port
    base = "http://127.0.0.1:%d" % port
    args.issuer_real = base
    args.issuer_advertised = (args.issuer_override or base).rstrip("/")
    store = Store()
    validator = ProviderValidator(args, store)
    oauth = Provider(validator, args.access_token_ttl)
    httpd.config = args
    httpd.base_url = base
    httpd.store = store
    httpd.validator = validator
    httpd.oauth = oauth
    httpd.device_endpoint = DeviceAuthorizationEndpoint(
        validator,
        verification_uri=base + "/device",
        expires_in=args.device_expires_in,
        interval=args.device_interval,
        verification_uri_complete=base + "/device?user_code={user_code}",
        user_code_generator=make_user_code)
    httpd.metadata = MetadataEndpoint([oauth], claims={
        "issuer": args.issuer_advertised,
        "authorization_endpoint": base + "/authorize",
        "token_endpoint": base + "/token",
        "revocation_endpoint": base + "/revoke",
        "introspection_endpoint": base + "/introspect",
        "device_authorization_endpoint": base + "/device_authorization",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                  "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic",
                                                       "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post", "none"],
        "scopes_supported": ["read:jira-user", "read:jira-work", "write:jira-work",
                             "offline_access"],
        "authorization_response_iss_parameter_supported": True,
    })
    httpd.counters = {"token_requests": 0, "refresh_requests": 0, "by_grant_type": {}}
    httpd.counter_lock = threading.Lock()
    httpd.log_lock = threading.Lock()
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
