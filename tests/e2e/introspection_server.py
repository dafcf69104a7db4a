"""A controllable OAuth 2.0 token introspection endpoint (RFC 7662) for the
introspection tests.

`AuthorizationServer` answers `POST /introspect` on 127.0.0.1 from a
`ThreadingHTTPServer` (HTTP/1.1 keep-alive, listen backlog 128). Its port is
fixed when the object is built and kept across `down()` / `up()`: the
lifecycle is idp_server's `ControlledServer`. Everything is controlled from
Python:

* Client authentication, one method per server (`auth_method`):
  `client_secret_basic` (`Authorization: Basic` of the form-urlencoded id and
  secret joined by `:`, read as RFC 6749 §2.3.1 says: base64-decode, split
  at the first `:`, form-url-decode each half), `client_secret_post`
  (`client_id` and `client_secret` form fields) or `bearer`
  (`Authorization: Bearer <static token>`). Missing or wrong credentials,
  another method, or more than one method in a request (RFC 6749 §2.3) get
  401 `{"error":"invalid_client"}` (with `WWW-Authenticate` naming the scheme
  the request tried, RFC 6749 §5.2). `set_client(...)` changes what is
  accepted (a rotated secret: the gateway's is then refused).
* `GET /.well-known/oauth-authorization-server` answers the server's
  metadata (RFC 8414: `issuer` and `introspection_endpoint`), for providers
  that discover the endpoint.
* The request must be a POST to `/introspect` (else 405 / 404), with an
  `application/x-www-form-urlencoded` body holding `token` exactly once (else
  400 `{"error":"invalid_request"}`).
* The token table: `add(token, **claims)` makes a token active with those
  claims (`"active": true` added; `typical_claims()` makes the usual ones),
  `revoke(token)` makes it inactive, unknown tokens are inactive
  (`{"active": false}`), `answer_raw(token, body, status)` answers one token
  with exact bytes (hostile answers: `{"active":"true"}`, ...).
* `respond(mode)`: `"ok"`, `"500"` (carrying the real answer, so taking it
  would be visible), `"garbage"` (200, not JSON), `"oversize"` (200, the real
  answer padded past 1 MiB), `"raw"` (the `body` and `status` given, for
  every token); `fail_next(n, mode)`: the next n requests answer `mode`, then
  the server's mode again. Failure modes answer before the credentials are
  checked, as a broken server would. `set_delay(ms)`: wait before answering.
  `down()` / `up()`: connection refused / listening again, as for the IdP.
* `count()` (every request received on the path, counted on arrival),
  `count(token)` (those whose form carried that token), `wait_count(n,
  timeout, token=None)`; `calls(token=None)`: each request as a `Call`
  (headers, raw body, form fields, the authentication method it actually
  used, the answer's status). All thread-safe.

No HTTP control endpoints: tests hold the object.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field

from idp_server import OVERSIZE_BYTES, ControlledServer, TrackedHandler

INTROSPECT_PATH = "/introspect"
METADATA_PATH = "/.well-known/oauth-authorization-server"  # RFC 8414
MODES = ("ok", "500", "garbage", "oversize", "raw")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "bearer")
FORM_TYPE = "application/x-www-form-urlencoded"

# What a token table and typical claims say unless told otherwise.
ISSUER = "https://idp.example.com"
AUDIENCE = "orders-api"
CLIENT_ID = "gateway"
CLIENT_SECRET = "s3cr%t:x"  # `%` and `:` must survive form-urlencoding
BEARER_TOKEN = "as-static-bearer-7f3c"

_REVOKED = object()


def opaque_token(prefix: str = "op") -> str:
    """A new random token that is not JWT-shaped (no dots)."""
    return f"{prefix}-{secrets.token_urlsafe(24)}"


def typical_claims(**overrides) -> dict:
    """What an AS says about a valid access token (iss, aud, scope, sub,
    client_id, token_type, iat, exp an hour ahead); pass None to drop one."""
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "scope": "orders:read", "sub": "alice",
            "client_id": "web-app", "token_type": "Bearer", "iat": now, "exp": now + 3600}
    for k, v in overrides.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


@dataclass
class Call:
    """One request as the server received it."""
    method: str
    path: str
    headers: dict[str, str]        # lower-case names, repeated values joined by ", "
    body: bytes
    form: dict[str, list[str]]     # form fields (all values), {} if unreadable
    auth: str                      # the client authentication the request used:
    #                                one of AUTH_METHODS, "none", or several joined by "+"
    client_id: str | None          # the client it named, if any
    status: int = 0                # what the server answered
    answer: bytes = field(default=b"", repr=False)

    def one(self, name: str) -> str | None:
        """The form field's value when it occurs exactly once."""
        values = self.form.get(name, [])
        return values[0] if len(values) == 1 else None

    @property
    def token(self) -> str | None:
        return self.one("token")


def _read_form(headers: dict[str, str], body: bytes) -> dict[str, list[str]] | None:
    """The form fields, or None if the body is not a form."""
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != FORM_TYPE:
        return None
    try:
        return urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                     strict_parsing=bool(body), errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None


def _basic_credentials(value: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: base64, split at the first `:`, form-url-decode."""
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if ":" not in text:
        return None
    cid, _, secret = text.partition(":")
    return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)


class _Handler(TrackedHandler):
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after the chunk
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        headers: dict[str, str] = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        status, ctype, body, extra = self.server.owner._arrived(
            self.command, self.path, headers, self._read_body())
        self.reply(status, ctype, body, extra)

    # POST is the only method served; the others are answered 405, and recorded.
    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _handle


class AuthorizationServer(ControlledServer):
    handler = _Handler
    thread_name = "as"

    def __init__(self, auth_method: str = "client_secret_basic",
                 client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 bearer_token: str = BEARER_TOKEN, start_down: bool = False) -> None:
        super().__init__()
        self._client: dict = {}
        self.set_client(auth_method, client_id, client_secret, bearer_token)
        self._tokens: dict[str, object] = {}
        self._calls: list[Call] = []
        self._per_token: dict[str, int] = {}
        self._mode: tuple[str, bytes, int] = ("ok", b"", 200)
        self._fail_next: list = [0, ("ok", b"", 200)]
        if not start_down:
            self.up()

    # ------------------------------------------------------------ addresses

    @property
    def authority(self) -> str:
        """What Envoy configs name as the host: the cluster does the routing."""
        return f"as.test:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.authority}{INTROSPECT_PATH}"

    # ------------------------------------------------------------ controls

    def set_client(self, auth_method: str | None = None, client_id: str | None = None,
                   client_secret: str | None = None, bearer_token: str | None = None) -> None:
        """Change the accepted client authentication (None: keep)."""
        new = {"auth_method": auth_method, "client_id": client_id,
               "client_secret": client_secret, "bearer_token": bearer_token}
        with self._lock:
            self._client.update({k: v for k, v in new.items() if v is not None})
            assert self._client["auth_method"] in AUTH_METHODS, self._client["auth_method"]

    @property
    def auth_method(self) -> str:
        with self._lock:
            return self._client["auth_method"]

    def add(self, token: str, claims: dict | None = None, **more) -> str:
        """Make `token` active with `claims` (and `more`); returns the token."""
        with self._lock:
            self._tokens[token] = {"active": True, **(claims or {}), **more}
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens[token] = _REVOKED

    def answer_raw(self, token: str, body: bytes | str, status: int = 200) -> str:
        """Answer `token` with exactly `body`; returns the token."""
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._tokens[token] = (status, raw)
        return token

    def respond(self, mode: str, body: bytes | str = b"", status: int = 200) -> None:
        """How to answer every request from now on (`body`, `status`: "raw")."""
        assert mode in MODES, mode
        with self._lock:
            self._mode = (mode, body.encode() if isinstance(body, str) else body, status)

    def fail_next(self, n: int, mode: str = "500", body: bytes | str = b"",
                  status: int = 200) -> None:
        assert mode in MODES, mode
        with self._lock:
            self._fail_next = [n, (mode, body.encode() if isinstance(body, str) else body,
                                   status)]

    # ------------------------------------------------------------ counters

    def count(self, token: str | None = None) -> int:
        """Requests received (on arrival); with `token`, those carrying it."""
        with self._lock:
            return len(self._calls) if token is None else self._per_token.get(token, 0)

    def wait_count(self, n: int, timeout: float = 10.0, token: str | None = None) -> int:
        """Block until count(token) >= n; TimeoutError if the time runs out."""
        def seen() -> int:
            return len(self._calls) if token is None else self._per_token.get(token, 0)
        self._wait_for(lambda: seen() >= n, timeout,
                       lambda: f"AS: {seen()} request(s)"
                               f"{'' if token is None else ' with that token'}, waited for {n}")
        return self.count(token)

    def calls(self, token: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if token is None or c.token == token]

    def reset_counts(self) -> None:
        with self._lock:
            self._calls.clear()
            self._per_token.clear()

    # ------------------------------------------------------------ serving

    def _authenticate(self, headers: dict[str, str],
                      form: dict[str, list[str]]) -> tuple[str, str | None, bool]:
        """(methods used, client id named, accepted)."""
        client = self._client
        used: list[str] = []
        cid = None
        ok = False
        scheme, _, cred = headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            used.append("client_secret_basic")
            pair = _basic_credentials(cred)
            if pair is not None:
                cid = pair[0]
                ok = pair == (client["client_id"], client["client_secret"])
        elif scheme == "bearer":
            used.append("bearer")
            ok = cred == client["bearer_token"]
        elif scheme:
            used.append(f"authorization {scheme}")
        if "client_secret" in form:
            used.append("client_secret_post")
            ids, secrets_ = form.get("client_id", []), form["client_secret"]
            cid = cid or (ids[0] if ids else None)
            ok = (ids, secrets_) == ([client["client_id"]], [client["client_secret"]])
        elif cid is None and len(form.get("client_id", [])) == 1:
            cid = form["client_id"][0]
        accepted = ok and used == [client["auth_method"]]
        return "+".join(used) or "none", cid, accepted

    def _answer_for(self, token: str | None) -> tuple[int, bytes]:
        entry = self._tokens.get(token) if token is not None else None
        if isinstance(entry, tuple):
            return entry
        if isinstance(entry, dict):
            return 200, json.dumps(entry).encode()
        return 200, b'{"active":false}'

    def _arrived(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, str, bytes, list]:
        form = _read_form(headers, body)
        with self._lock:
            auth, cid, accepted = self._authenticate(headers, form or {})
            call = Call(method, path, headers, body, form or {}, auth, cid)
            self._calls.append(call)
            if call.token is not None:
                self._per_token[call.token] = self._per_token.get(call.token, 0) + 1
            self._lock.notify_all()
            mode = self._mode
            if self._fail_next[0] > 0:
                self._fail_next[0] -= 1
                mode = self._fail_next[1]
            delay = self._delay
            status, answer = self._answer_for(call.token)
        self._pause(delay)
        out = self._decide(call, mode, accepted, status, answer)
        with self._lock:
            call.status, call.answer = out[0], out[2]
        return out

    def _decide(self, call: Call, mode: tuple[str, bytes, int], accepted: bool,
                status: int, answer: bytes) -> tuple[int, str, bytes, list]:
        json_type = "application/json"
        if call.path.split("?", 1)[0] == METADATA_PATH and call.method == "GET":
            doc = {"issuer": ISSUER, "introspection_endpoint": self.url}
            return 200, json_type, json.dumps(doc).encode(), []
        if call.path.split("?", 1)[0] != INTROSPECT_PATH:
            return 404, json_type, b'{"error":"not_found"}', []
        if call.method != "POST":
            return 405, json_type, b'{"error":"invalid_request"}', [("allow", "POST")]
        name, raw, raw_status = mode
        if name == "500":
            # A 500 whose body is the real answer must still not be taken.
            return 500, json_type, answer, []
        if name == "garbage":
            return 200, json_type, b"<html>this is not JSON</html>", []
        if name == "oversize":
            # Valid JSON, the real answer plus padding past 1 MiB: only the
            # size limit can refuse it.
            try:
                obj = json.loads(answer)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                obj = {"active": False}
            obj["padding"] = "x" * OVERSIZE_BYTES
            return 200, json_type, json.dumps(obj).encode(), []
        if name == "raw":
            return raw_status, json_type, raw, []
        if not accepted:
            scheme = call.auth.split("+")[0]
            www = {"client_secret_basic": [("www-authenticate", 'Basic realm="as"')],
                   "bearer": [("www-authenticate", 'Bearer realm="as"')]}.get(scheme, [])
            return 401, json_type, b'{"error":"invalid_client"}', www
        if call.token is None:
            return 400, json_type, b'{"error":"invalid_request"}', []
        return status, json_type, answer, []
