"""OAuth 2.0 token introspection (RFC 7662) in a real Envoy, wasm only.

A provider with `introspection` sends opaque tokens to an authorization
server (AS) and takes an active answer as the token's claims. The native
jwt_authn has no such feature: every expectation here is written by hand
from the contract (the bodies are Envoy's sentences where Envoy has one).

The AS is `introspection_server.AuthorizationServer`, one per listener, so
each test reads the calls its listener made (count, form fields, headers,
the client authentication used). Every test mints its own tokens: nothing
one test caches can answer another. One Envoy serves the module's listeners
(one per config, a STATIC cluster per AS); the refused configs and the
two-worker case get short-lived Envoys of their own.

First, a few tests of the AS alone (urllib, no Envoy), so that what the
Envoy tests read from it is proven.

The call counts of the concurrent cases are printed in the session summary:
`introspection: 100 concurrent requests with one new token -> ...`.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from authz_common import forbidden
from client import burst, send
from echo import EchoServer
from envoy_runner import CACHE, NATIVE_ONLY, Envoy, EnvoyError, bootstrap, listener, static_cluster, wasm_filter
from introspection_server import (AUDIENCE, BEARER_TOKEN, CLIENT_ID, CLIENT_SECRET,
                                  INTROSPECT_PATH, ISSUER, METADATA_PATH,
                                  AuthorizationServer, opaque_token, typical_claims)
from model import HOST, jwt_config, provider
from scenarios.common import BAD_AUD, BAD_ISS, EXPIRED, MISSING, NOT_YET, VERIFY_FAIL
from summary import summary_line
from test_remote_jwks import poll, worker_connections
from tokens import Tok, claims, jwks, session_keys
from wasm_stack import (REALM, _require_wasm, assert_refused, bearer_request, check,
                        config_errors, try_configs, upstream_headers, wasm_stack)

K = session_keys()
INACTIVE = "Token is not active"
NOT_ACCESS = "Token is not an access token"
UNAVAILABLE = "Token introspection is unavailable"
STALE_LOG = "serving a remembered answer"
CONFIG_PROBLEM_LOG = "configuration problem"
MARGIN = 1.0  # seconds allowed past a configured timeout

# Call counts for the session summary.
COUNTS: dict[str, int] = {}


def www(path: str = "/", error: str | None = "invalid_token") -> str:
    return f'Bearer realm="{REALM}{path}"' + (f', error="{error}"' if error else "")


def refused(resp, body: str, status: int = 401, path: str = "/") -> None:
    check(resp, status, body=body, www_authenticate=www(path))


def unavailable(resp) -> None:
    check(resp, 503, body=UNAVAILABLE)
    assert resp.header("www-authenticate") is None, resp.header("www-authenticate")


# ================================================================ the AS alone

def _post(server: AuthorizationServer, fields: dict | list | None = None,
          headers: dict | None = None, method: str = "POST", body: bytes | None = None):
    """One request to the AS: (status, headers, parsed JSON body or text)."""
    data = body if body is not None else urllib.parse.urlencode(fields or {}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/introspect",
                                 data=data if method == "POST" else None, method=method,
                                 headers={"content-type": "application/x-www-form-urlencoded",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    try:
        return status, {k.lower(): v for k, v in hdrs.items()}, json.loads(raw)
    except ValueError:
        return status, {k.lower(): v for k, v in hdrs.items()}, raw


def basic(cid: str, secret: str, encode: bool = True) -> dict:
    q = urllib.parse.quote_plus if encode else (lambda s: s)
    pair = f"{q(cid)}:{q(secret)}".encode()
    return {"authorization": "Basic " + base64.b64encode(pair).decode()}


@pytest.fixture
def server():
    made: list[AuthorizationServer] = []

    def make(**kw) -> AuthorizationServer:
        made.append(AuthorizationServer(**kw))
        return made[-1]
    yield make
    for s in made:
        s.stop()


def test_server_client_secret_basic_accepts_only_its_encoded_credentials(server):
    # An id with `:` and a secret with `+`, `%`, space: only the
    # form-urlencoded pair, split at the first `:`, is right.
    s = server(client_id="gate:way", client_secret="s3 cr+t%:x")
    tok = s.add(opaque_token(), typical_claims())
    status, _, body = _post(s, {"token": tok}, basic("gate:way", "s3 cr+t%:x"))
    assert (status, body["active"], body["sub"]) == (200, True, "alice")
    assert s.calls()[-1].auth == "client_secret_basic"
    assert s.calls()[-1].client_id == "gate:way"
    for wrong in (basic("gate:way", "s3 cr+t%:x", encode=False),  # not form-urlencoded
                  basic("gate:way", "other"), basic("gateway", "s3 cr+t%:x"),
                  {"authorization": "Basic !!!"}, {}):
        status, hdrs, body = _post(s, {"token": tok}, wrong)
        assert (status, body) == (401, {"error": "invalid_client"}), wrong
        if wrong:
            assert hdrs.get("www-authenticate") == 'Basic realm="as"'
    # The right secret sent another way, or two ways at once (RFC 6749 §2.3).
    status, _, body = _post(s, {"token": tok, "client_id": "gate:way",
                                "client_secret": "s3 cr+t%:x"})
    assert status == 401 and s.calls()[-1].auth == "client_secret_post"
    status, _, _ = _post(s, {"token": tok, "client_id": "gate:way",
                             "client_secret": "s3 cr+t%:x"}, basic("gate:way", "s3 cr+t%:x"))
    assert status == 401 and s.calls()[-1].auth == "client_secret_basic+client_secret_post"


def test_server_client_secret_post_accepts_only_its_form_fields(server):
    s = server(auth_method="client_secret_post")
    tok = s.add(opaque_token(), typical_claims())
    good = {"token": tok, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    status, _, body = _post(s, good)
    assert (status, body["active"]) == (200, True)
    assert s.calls()[-1].auth == "client_secret_post"
    for wrong in ({**good, "client_secret": "nope"}, {"token": tok, "client_id": CLIENT_ID},
                  {"token": tok}, [*good.items(), ("client_secret", CLIENT_SECRET)]):
        status, _, body = _post(s, wrong)
        assert (status, body) == (401, {"error": "invalid_client"}), wrong
    status, _, _ = _post(s, {"token": tok}, basic(CLIENT_ID, CLIENT_SECRET))
    assert status == 401 and s.calls()[-1].auth == "client_secret_basic"


def test_server_bearer_accepts_only_its_static_token(server):
    s = server(auth_method="bearer")
    tok = s.add(opaque_token(), typical_claims())
    status, _, body = _post(s, {"token": tok}, {"authorization": f"Bearer {BEARER_TOKEN}"})
    assert (status, body["active"]) == (200, True)
    assert s.calls()[-1].auth == "bearer"
    for wrong in ({"authorization": "Bearer nope"}, {"authorization": BEARER_TOKEN}, {},
                  basic(CLIENT_ID, CLIENT_SECRET)):
        status, _, body = _post(s, {"token": tok}, wrong)
        assert (status, body) == (401, {"error": "invalid_client"}), wrong


def test_server_token_table_modes_and_counts(server):
    s = server()
    auth = basic(CLIENT_ID, CLIENT_SECRET)
    answer = typical_claims()
    live = s.add(opaque_token(), answer, tenant="acme")
    gone = s.add(opaque_token(), typical_claims())
    s.revoke(gone)
    raw = s.answer_raw(opaque_token(), '{"active":"true"}')
    assert _post(s, {"token": live, "token_type_hint": "access_token"}, auth)[2] == {
        "active": True, **answer, "tenant": "acme"}
    call = s.calls(live)[0]
    assert (call.method, call.path, call.one("token_type_hint")) == \
        ("POST", "/introspect", "access_token")
    assert _post(s, {"token": gone}, auth)[2] == {"active": False}
    assert _post(s, {"token": opaque_token()}, auth)[2] == {"active": False}
    assert _post(s, {"token": raw}, auth)[2] == {"active": "true"}
    assert (s.count(), s.count(live), s.count(gone)) == (4, 1, 1)
    # No token, not a form, not a POST.
    assert _post(s, {"x": "1"}, auth)[:1] == (400,)
    assert _post(s, None, {**auth, "content-type": "application/json"},
                 body=b'{"token":"x"}')[0] == 400
    assert _post(s, None, auth, method="GET")[0] == 405
    # Failure modes answer before the credentials are checked.
    s.fail_next(1, "500")
    status, _, body = _post(s, {"token": live})
    assert (status, body["active"]) == (500, True)  # a 500 carrying the real answer
    s.respond("garbage")
    assert _post(s, {"token": live}, auth)[::2] == (200, b"<html>this is not JSON</html>")
    s.respond("oversize")
    status, _, body = _post(s, {"token": live}, auth)
    assert status == 200 and body["active"] is True and len(json.dumps(body)) > (1 << 20)
    s.respond("raw", '{"error":"access_denied"}', status=403)
    assert _post(s, {"token": live}, auth)[:1] == (403,)
    s.respond("ok")
    assert s.wait_count(5, token=live, timeout=0.1) == 5
    with pytest.raises(TimeoutError):
        s.wait_count(99, token=live, timeout=0.1)


def test_server_down_refuses_connections_and_up_serves_again_on_the_same_port(server):
    s = server()
    port = s.port
    s.down()
    with pytest.raises(urllib.error.URLError):
        _post(s, {"token": "t"})
    s.up()
    assert s.port == port
    assert _post(s, {"token": "t"}, basic(CLIENT_ID, CLIENT_SECRET))[2] == {"active": False}


# ================================================================ Envoy harness

def _envoy_tests() -> None:
    """The Envoy tests need the wasm module (the AS tests above do not)."""
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")
    _require_wasm()


def _summary() -> str | None:
    if not COUNTS:
        return None
    c1 = COUNTS.get("flight-c1", "(not run)")
    c2 = COUNTS.get("flight-c2", "(not run)")
    return (f"introspection: 100 concurrent requests with one new token -> {c1} call(s) "
            f"with --concurrency 1, {c2} with --concurrency 2")


@pytest.fixture(scope="module", autouse=True)
def _summary_line(request):
    summary_line(request, "introspection-summary", _summary)


def introspection(server: AuthorizationServer, cluster: str, timeout: str = "1s",
                  **extra) -> dict:
    """An `introspection` block for `server` through `cluster`, with the
    credentials the server expects."""
    block: dict = {"http_uri": {"uri": server.url, "cluster": cluster, "timeout": timeout},
                   "auth_method": server.auth_method}
    if server.auth_method == "bearer":
        block["bearer_token"] = BEARER_TOKEN
    else:
        block.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    block.update(extra)
    return block


def opaque(server: AuthorizationServer, cluster: str, intro: dict | None = None,
           **fields) -> dict:
    """A provider `as`: issuer, audience, the introspection block, `fields`."""
    return {"issuer": ISSUER, "audiences": [AUDIENCE],
            "introspection": introspection(server, cluster, **(intro or {})), **fields}


BILLING = "billing-api"  # the audience a `/billing` requirement asks for
CLAIM_HEADERS = [{"claim_name": "sub", "header_name": "x-sub"},
                 {"claim_name": "client_id", "header_name": "x-client-id"}]
JWT_KEYS = jwks(K.jwk("rsa", kid="k1"))

# One AS per listener (its cluster: `as-<listener>`).
SERVERS = {
    "main": {},
    "post": {"auth_method": "client_secret_post"},
    "bearer": {"auth_method": "bearer"},
    "skew": {},
    "short": {},
    "flight": {},
    "deny": {},
    "stale": {},
    "mixed": {},
    "all": {},
}


def _configs(servers: dict[str, AuthorizationServer]) -> dict[str, dict]:
    def p(name: str, intro: dict | None = None, **fields) -> dict:
        return opaque(servers[name], f"as-{name}", intro, **fields)

    def only(prov: dict, rules: list | None = None) -> dict:
        return jwt_config({"as": prov}, rules)

    main_rules = [
        {"match": {"prefix": "/orders", "headers": [{"name": ":method", "exact_match": "GET"}]},
         "requires": {"provider_name": "as"},
         "authorize": {"scopes": {"all_of": ["orders:read"]}}},
        {"match": {"prefix": "/billing"}, "requires": {"provider_and_audiences": {
            "provider_name": "as", "audiences": [BILLING]}}},
        {"match": {"prefix": "/"}, "requires": {"provider_name": "as"}},
    ]
    return {
        "main": only(p("main", claim_to_headers=CLAIM_HEADERS,
                       forward_payload_header="x-payload"), main_rules),
        "post": only(p("post", forward=True)),
        "bearer": only(p("bearer", {"token_type_hint": ""})),
        "skew": only(p("skew", clock_skew_seconds=1)),
        "short": only(p("short", {"cache": {"max_ttl": "1s", "negative_ttl": "2s"}})),
        "flight": only(p("flight")),
        "deny": only(p("deny", {"failure_mode": "deny"})),
        "stale": only(p("stale", {"failure_mode": "serve_stale", "cache": {"max_ttl": "1s"}},
                        clock_skew_seconds=1)),
        "mixed": jwt_config({"jwt": provider(JWT_KEYS), "as": p("mixed")}, [
            {"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "jwt"}, {"provider_name": "as"}]}}}]),
        "all": only(p("all", {"jwt_tokens": "introspect"})),
    }


class Stack:
    def __init__(self, ws, servers: dict[str, AuthorizationServer]) -> None:
        self.ws = ws
        self.envoy: Envoy = ws.envoy
        self.servers = servers

    def send(self, name: str, token: str | None = None, path: str = "/",
             method: str = "GET", headers: list | None = None):
        return self.ws.send(name, path, token, method, headers)

    def timed(self, name: str, token: str | None = None):
        t0 = time.monotonic()
        resp = self.send(name, token)
        return resp, time.monotonic() - t0

    def log_mark(self) -> int:
        return len(self.envoy.log_text())

    def wait_log(self, mark: int, text: str, timeout: float = 3.0) -> str:
        """The first log line after `mark` holding `text` (polled: Envoy
        writes its log asynchronously)."""
        def found():
            return next((ln for ln in self.envoy.log_text()[mark:].splitlines()
                         if text in ln), None)
        return poll(f"a log line with {text!r}", found, timeout=timeout)

    def alive(self) -> None:
        assert self.envoy.exited() is None, f"Envoy exited\n{self.envoy.tail(30)}"


@pytest.fixture(scope="module")
def stack():
    _envoy_tests()
    servers = {name: AuthorizationServer(**kw) for name, kw in SERVERS.items()}
    try:
        with wasm_stack("intro", _configs(servers),
                        {f"as-{n}": s.port for n, s in servers.items()}) as ws:
            yield Stack(ws, servers)
    finally:
        for s in servers.values():
            s.stop()


def new_active(server: AuthorizationServer, **overrides) -> str:
    """A new token the server says is active with typical claims."""
    return server.add(opaque_token(), typical_claims(**overrides))


# ================================================================ decisions

def test_active_token_passes_after_one_introspection_call(stack):
    s = stack.servers["main"]
    tok = new_active(s)
    check(stack.send("main", tok), 200)
    assert s.count(tok) == 1


def test_missing_token_is_401_without_a_call(stack):
    before = stack.servers["main"].count()
    check(stack.send("main"), 401, body=MISSING, www_authenticate=www(error=None))
    assert stack.servers["main"].count() == before


def test_unknown_token_is_401_not_active(stack):
    s = stack.servers["main"]
    tok = opaque_token()
    refused(stack.send("main", tok), INACTIVE)
    assert s.count(tok) == 1


def test_revoked_token_is_401_not_active(stack):
    s = stack.servers["main"]
    tok = new_active(s)
    s.revoke(tok)
    refused(stack.send("main", tok), INACTIVE)


def test_active_answer_with_past_exp_is_401_expired(stack):
    # Past the 60 s default clock skew.
    tok = new_active(stack.servers["main"], exp=int(time.time()) - 120)
    refused(stack.send("main", tok), EXPIRED)


def test_active_answer_with_future_nbf_is_401_not_yet_valid(stack):
    tok = new_active(stack.servers["main"], nbf=int(time.time()) + 3600)
    refused(stack.send("main", tok), NOT_YET)


@pytest.mark.parametrize("aud", ["other-api", ["other-api", "x"], None],
                         ids=["string", "list", "missing"])
def test_active_answer_for_another_audience_is_403(stack, aud):
    tok = new_active(stack.servers["main"], aud=aud)
    refused(stack.send("main", tok), BAD_AUD, status=403)


def test_audience_list_holding_ours_passes(stack):
    check(stack.send("main", new_active(stack.servers["main"], aud=["x", AUDIENCE])), 200)


def test_token_in_the_access_token_parameter(stack):
    s = stack.servers["main"]
    tok = new_active(s)
    check(stack.send("main", path=f"/?access_token={tok}"), 200)
    assert s.count(tok) == 1


def test_active_answer_from_another_issuer_is_401(stack):
    tok = new_active(stack.servers["main"], iss="https://evil.example.com")
    refused(stack.send("main", tok), BAD_ISS)


def test_active_answer_without_iss_is_accepted(stack):
    check(stack.send("main", new_active(stack.servers["main"], iss=None)), 200)


@pytest.mark.parametrize("token_type", [
    "refresh_token", "urn:ietf:params:oauth:token-type:refresh_token",
    "id_token", "urn:ietf:params:oauth:token-type:id_token", "Refresh_Token"])
def test_refresh_and_id_tokens_are_not_access_tokens(stack, token_type):
    tok = new_active(stack.servers["main"], token_type=token_type)
    refused(stack.send("main", tok), NOT_ACCESS)


@pytest.mark.parametrize("token_type", [
    "Bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token", None])
def test_access_token_types_pass(stack, token_type):
    tok = new_active(stack.servers["main"], token_type=token_type)
    check(stack.send("main", tok), 200)


def test_scope_granted_by_authorize(stack):
    tok = new_active(stack.servers["main"], scope="profile orders:read")
    check(stack.send("main", tok, "/orders"), 200)


def test_scope_missing_is_403_insufficient_scope(stack):
    tok = new_active(stack.servers["main"], scope="profile orders:write")
    forbidden(stack.send("main", tok, "/orders"), "/orders",
              "token lacks required scope (needs all of: orders:read)", scope="orders:read")


def test_claims_go_upstream_and_client_copies_are_dropped(stack):
    tok = new_active(stack.servers["main"], sub="alice", client_id="web-app")
    resp = stack.send("main", tok, headers=[("x-sub", "mallory"), ("x-client-id", "evil"),
                                            ("x-payload", "e30")])
    check(resp, 200)
    up = upstream_headers(resp)
    assert up.get("x-sub") == ["alice"], up
    assert up.get("x-client-id") == ["web-app"], up
    assert len(up.get("x-payload", [])) == 1 and up["x-payload"] != ["e30"], up


def test_payload_header_is_the_answer_as_unpadded_base64url(stack):
    answer = typical_claims(tenant={"id": "acme", "tier": 2}, roles=["a", "b"])
    tok = stack.servers["main"].add(opaque_token(), answer)
    resp = stack.send("main", tok)
    check(resp, 200)
    (value,) = upstream_headers(resp)["x-payload"]
    assert "=" not in value and "+" not in value and "/" not in value, value
    decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    assert decoded == {"active": True, **answer}


def test_token_removed_upstream_unless_forward(stack):
    tok = new_active(stack.servers["main"])
    resp = stack.send("main", tok)
    check(resp, 200)
    assert "authorization" not in upstream_headers(resp)
    tok = new_active(stack.servers["post"])
    resp = stack.send("post", tok)
    check(resp, 200)
    assert upstream_headers(resp).get("authorization") == [f"Bearer {tok}"]


def test_jwt_shaped_token_is_verified_locally_without_a_call(stack):
    s = stack.servers["main"]
    jwt = Tok(kid="k1", payload=claims(iss=ISSUER, aud=AUDIENCE))()
    s.add(jwt, typical_claims())  # would pass if it were sent
    before = s.count()
    refused(stack.send("main", jwt), VERIFY_FAIL)
    assert s.count() == before, "a JWT-shaped token went to the endpoint"


def test_jwt_tokens_introspect_sends_jwt_shaped_tokens(stack):
    s = stack.servers["all"]
    jwt = s.add(Tok(kid="k1", payload=claims(iss=ISSUER, aud=AUDIENCE))(), typical_claims())
    check(stack.send("all", jwt), 200)
    assert s.count(jwt) == 1


def test_requires_any_of_jwt_and_opaque_providers(stack):
    s = stack.servers["mixed"]
    check(stack.send("mixed", Tok(kid="k1")()), 200)
    assert s.count() == 0, "a JWT the jwt provider verifies went to the endpoint"
    tok = new_active(s)
    check(stack.send("mixed", tok), 200)
    assert s.count() == 1 and s.count(tok) == 1


# ================================================================ the request sent

def _one_call(server: AuthorizationServer, tok: str):
    (call,) = server.calls(tok)
    assert call.status == 200, f"the AS refused the call: {call}"
    return call


def test_request_is_a_form_post_with_hint_and_basic_credentials(stack):
    s = stack.servers["main"]
    tok = new_active(s)
    check(stack.send("main", tok), 200)
    call = _one_call(s, tok)
    assert (call.method, call.path) == ("POST", "/introspect")
    assert call.auth == "client_secret_basic" and call.client_id == CLIENT_ID
    assert call.form == {"token": [tok], "token_type_hint": ["access_token"]}, call.form
    assert call.headers.get("accept") == "application/json", call.headers
    assert call.headers.get("content-type") == "application/x-www-form-urlencoded"
    assert call.headers.get("host") == s.authority, call.headers


def test_client_secret_post_sends_credentials_in_the_form(stack):
    s = stack.servers["post"]
    tok = new_active(s)
    check(stack.send("post", tok), 200)
    call = _one_call(s, tok)
    assert call.auth == "client_secret_post"
    assert "authorization" not in call.headers
    assert call.form == {"token": [tok], "token_type_hint": ["access_token"],
                         "client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET]}, call.form


def test_bearer_client_auth_and_empty_hint_not_sent(stack):
    s = stack.servers["bearer"]
    tok = new_active(s)
    check(stack.send("bearer", tok), 200)
    call = _one_call(s, tok)
    assert call.auth == "bearer"
    assert call.form == {"token": [tok]}, call.form


def test_same_provider_name_on_two_listeners_does_not_share_answers(stack):
    main, post = stack.servers["main"], stack.servers["post"]
    tok = opaque_token()
    main.add(tok, typical_claims())
    post.add(tok, typical_claims())
    check(stack.send("main", tok), 200)
    check(stack.send("post", tok), 200)
    assert (main.count(tok), post.count(tok)) == (1, 1)


# ================================================================ cache

def test_cache_hit_makes_one_call_for_ten_requests(stack):
    s = stack.servers["main"]
    tok = new_active(s)
    for _ in range(10):
        check(stack.send("main", tok), 200)
    assert s.count(tok) == 1


def test_cache_hit_rechecks_authorize(stack):
    s = stack.servers["main"]
    tok = new_active(s, scope="profile")
    check(stack.send("main", tok), 200)
    for _ in range(2):
        forbidden(stack.send("main", tok, "/orders"), "/orders",
                  "token lacks required scope (needs all of: orders:read)",
                  scope="orders:read")
    assert s.count(tok) == 1


def test_cache_hit_rechecks_the_audience_each_requirement_asks_for(stack):
    s = stack.servers["main"]
    orders, billing = new_active(s), new_active(s, aud=BILLING)
    for _ in range(2):
        check(stack.send("main", orders), 200)
        refused(stack.send("main", orders, "/billing"), BAD_AUD, status=403, path="/billing")
        check(stack.send("main", billing, "/billing"), 200)
        refused(stack.send("main", billing), BAD_AUD, status=403)
    assert (s.count(orders), s.count(billing)) == (1, 1)


@pytest.fixture(scope="module")
def short_lived(stack):
    """Tokens expiring 2 s from now, answered once (fresh) by the `skew` and
    `stale` listeners (clock skew 1 s): `kept` and `extended` on `skew`,
    `stale` on `stale`. The tests using them wait for exp + skew once."""
    exp = int(time.time()) + 2
    skew, stale = stack.servers["skew"], stack.servers["stale"]
    tokens = {"kept": new_active(skew, exp=exp), "extended": new_active(skew, exp=exp),
              "stale": new_active(stale, exp=exp)}
    for name, tok in tokens.items():
        check(stack.send("stale" if name == "stale" else "skew", tok), 200)
    return exp, tokens


def past(exp: int) -> None:
    """The one wait that cannot be polled: exp plus the 1 s skew must pass."""
    time.sleep(max(0.0, exp + 2.2 - time.time()))


def test_exp_bounds_the_cache(stack, short_lived):
    """max_ttl 300 s, clock skew 1 s, tokens expiring in 2 s: once `exp` has
    passed, the answer is asked for again; a token the AS has since
    extended passes, one it has not is expired."""
    s = stack.servers["skew"]
    exp, tokens = short_lived
    kept, extended = tokens["kept"], tokens["extended"]
    s.add(extended, typical_claims(exp=exp + 3600))
    if time.time() < exp - 0.2:
        check(stack.send("skew", extended), 200)
        assert s.count(extended) == 1, "not cached before exp"
    past(exp)
    check(stack.send("skew", extended), 200)
    assert s.count(extended) == 2, "an answer was used past its exp without asking again"
    refused(stack.send("skew", kept), EXPIRED)
    assert s.count(kept) in (1, 2)


def test_inactive_answer_cached_for_negative_ttl(stack):
    s = stack.servers["short"]
    tok = opaque_token()
    t0 = time.monotonic()
    refused(stack.send("short", tok), INACTIVE)
    refused(stack.send("short", tok), INACTIVE)
    if time.monotonic() - t0 < 1.5:  # well inside the 2 s negative_ttl
        assert s.count(tok) == 1, "inactive answer not cached"
    time.sleep(max(0.0, t0 + 2.3 - time.monotonic()))
    refused(stack.send("short", tok), INACTIVE)
    assert s.count(tok) == 2, "inactive answer cached past negative_ttl"


def test_revocation_seen_after_max_ttl(stack):
    s = stack.servers["short"]
    tok = new_active(s)
    t0 = time.monotonic()
    check(stack.send("short", tok), 200)
    s.revoke(tok)
    resp = stack.send("short", tok)
    if time.monotonic() - t0 < 0.8:  # inside the 1 s max_ttl
        check(resp, 200)
        assert s.count(tok) == 1
    time.sleep(max(0.0, t0 + 1.3 - time.monotonic()))
    refused(stack.send("short", tok), INACTIVE)
    assert s.count(tok) == 2


def test_failures_are_not_cached(stack):
    s = stack.servers["main"]
    tok = new_active(s)
    s.fail_next(1, "500")
    unavailable(stack.send("main", tok))
    check(stack.send("main", tok), 200)
    assert s.count(tok) == 2


def test_concurrent_requests_with_one_new_token_make_one_call(stack):
    s = stack.servers["flight"]
    s.set_delay(300)  # all 100 arrive while the call is in flight
    tok = new_active(s)
    results = burst(stack.ws.ports["flight"], 100, tok)
    calls = s.count(tok)
    COUNTS["flight-c1"] = calls
    print(f"\n--concurrency 1: 100 concurrent requests with one new token -> {calls} call(s)")
    bad = [r for r in results if not (isinstance(r, tuple) and r[0] == 200)]
    assert not bad, f"{len(bad)} of 100 not 200, e.g. {bad[:3]}"
    assert calls == 1, f"the AS saw {calls} calls for 100 concurrent requests"
    stack.alive()


def test_answers_are_shared_across_workers():
    _envoy_tests()
    s = AuthorizationServer()
    s.set_delay(300)
    echo = EchoServer().start()
    cfg = jwt_config({"as": opaque(s, "as")})
    envoy = Envoy(bootstrap([listener("w", wasm_filter(cfg))], echo.port,
                            extra_clusters=[static_cluster("as", s.port)]),
                  "intro-c2", concurrency=2).start()
    try:
        try:
            port = envoy.serve(["w"])["w"]
        except EnvoyError as e:
            pytest.fail(f"the config did not load:\n{config_errors(envoy)}\n{e}")
        tok = new_active(s)
        results = burst(port, 100, tok)
        calls = s.count(tok)
        COUNTS["flight-c2"] = calls
        print(f"\n--concurrency 2: 100 concurrent requests with one new token -> "
              f"{calls} call(s); connections per worker: {worker_connections(envoy)}")
        bad = [r for r in results if not (isinstance(r, tuple) and r[0] == 200)]
        assert not bad, f"{len(bad)} of 100 not 200, e.g. {bad[:3]}"
        assert calls == 1, f"the AS saw {calls} calls for 100 concurrent requests"
        # New requests on both workers: the remembered answer serves them all.
        s.set_delay(0)
        before = worker_connections(envoy)

        def both_workers_served():
            more = burst(port, 20, tok)
            wrong = [r for r in more if not (isinstance(r, tuple) and r[0] == 200)]
            assert not wrong, wrong[:3]
            now = worker_connections(envoy)
            return all(now.get(w, 0) > before.get(w, 0) for w in now) and len(now) == 2
        poll("new requests on both workers", both_workers_served, timeout=10, interval=0)
        assert s.count(tok) == 1, f"a worker asked again: {s.count(tok)} calls"
        assert envoy.exited() is None
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- envoy log ({envoy.log_path}), problems:\n"
                             f"{envoy.tail(15, problems_only=True)}") from None
    finally:
        envoy.stop()
        echo.stop()
        s.stop()


def test_a_client_that_leaves_does_not_strand_the_requests_waiting_with_it(stack):
    """The call of the first request for a token is made from that request's
    context; if its client hangs up before the answer, the answer cannot come
    back to it, so the call is made again and the others still get theirs."""
    s = stack.servers["flight"]
    tok = new_active(s)
    s.set_delay(600)
    try:
        port = stack.ws.ports["flight"]
        leaver = socket.create_connection(("127.0.0.1", port), timeout=5)
        leaver.sendall(f"GET / HTTP/1.1\r\nhost: {HOST}\r\n"
                       f"authorization: Bearer {tok}\r\n\r\n".encode())
        s.wait_count(1, timeout=5, token=tok)  # its call is out
        with ThreadPoolExecutor(3) as pool:
            waiting = [pool.submit(stack.send, "flight", tok) for _ in range(3)]
            time.sleep(0.1)  # they are parked on the same call
            leaver.close()   # the client leaves: its request ends
            results = [f.result(timeout=10) for f in waiting]
        assert [r.status for r in results] == [200] * 3, [r.body for r in results]
        assert s.count(tok) == 2, f"the call was made again once: {s.count(tok)} calls"
    finally:
        s.set_delay(0)
    stack.alive()


# ================================================================ failures

@contextmanager
def failing(server: AuthorizationServer, kind: str):
    """The AS fails the `kind` way until the block ends."""
    if kind in ("500", "garbage", "oversize"):
        server.respond(kind)
    elif kind == "hostile":
        server.respond("raw", '{"active":"true","sub":"alice"}')
    elif kind == "no-active":
        server.respond("raw", json.dumps(typical_claims()))
    elif kind == "timeout":
        server.set_delay(3000)  # the timeout is 1 s
    elif kind == "down":
        server.down()
    elif kind == "refused-401":
        server.set_client(client_secret="rotated-secret")  # ours is now wrong
    elif kind == "refused-403":
        server.respond("raw", '{"error":"access_denied"}', status=403)
    else:
        raise AssertionError(kind)
    try:
        yield
    finally:
        server.respond("ok")
        server.set_delay(0)
        server.set_client(client_secret=CLIENT_SECRET)
        server.up()


FAILURES = ["500", "garbage", "oversize", "hostile", "no-active", "timeout", "down",
            "refused-401", "refused-403"]
CREDENTIALS_REFUSED = {"refused-401", "refused-403"}


@pytest.mark.parametrize("kind", FAILURES)
def test_deny_failure_is_503(stack, kind):
    s = stack.servers["deny"]
    tok = new_active(s)
    mark = stack.log_mark()
    with failing(s, kind):
        resp, took = stack.timed("deny", tok)
        unavailable(resp)
        assert took < 1 + MARGIN, f"answered after {took:.2f}s (timeout 1s)"
        if kind in CREDENTIALS_REFUSED:
            stack.wait_log(mark, CONFIG_PROBLEM_LOG)
    check(stack.send("deny", tok), 200)  # the failure was not remembered


@pytest.fixture(scope="module")
def remembered(stack):
    """One token per failure kind, answered active by the `stale` listener's
    AS with an exp an hour ahead, then left until max_ttl (1 s) is over."""
    s = stack.servers["stale"]
    tokens = {kind: new_active(s) for kind in FAILURES}
    for tok in tokens.values():
        check(stack.send("stale", tok), 200)
    time.sleep(1.2)  # the one wait that cannot be polled: max_ttl must run out
    return tokens


@pytest.mark.parametrize("kind", FAILURES)
def test_serve_stale_failure(stack, remembered, kind):
    s = stack.servers["stale"]
    tok, fresh = remembered[kind], new_active(s)
    assert s.count(tok) == 1
    mark = stack.log_mark()
    with failing(s, kind):
        resp, took = stack.timed("stale", tok)
        assert took < 1 + MARGIN, f"answered after {took:.2f}s (timeout 1s)"
        if kind in CREDENTIALS_REFUSED:
            # Our credentials refused: a configuration problem, never hidden.
            unavailable(resp)
            stack.wait_log(mark, CONFIG_PROBLEM_LOG)
        else:
            check(resp, 200)
            stack.wait_log(mark, STALE_LOG)
        unavailable(stack.send("stale", fresh))  # nothing remembered for it
        during = s.count(tok)
    # Back to normal: the stale answer is replaced by a new call.
    check(stack.send("stale", tok), 200)
    assert s.count(tok) == during + 1
    check(stack.send("stale", fresh), 200)


def test_serve_stale_never_serves_an_answer_past_its_exp(stack, short_lived):
    s = stack.servers["stale"]
    exp, tokens = short_lived
    past(exp)
    with failing(s, "500"):
        unavailable(stack.send("stale", tokens["stale"]))
    assert s.count(tokens["stale"]) == 2


# ================================================================ secrets

def test_no_secret_in_the_envoy_log(stack):
    log = stack.envoy.log_text()
    form = urllib.parse.quote_plus(CLIENT_SECRET)
    basic_value = base64.b64encode(f"{CLIENT_ID}:{form}".encode()).decode()
    for secret in (CLIENT_SECRET, form, basic_value, BEARER_TOKEN):
        assert secret not in log, f"{secret!r} appears in {stack.envoy.log_path}"


def test_discovery_names_the_endpoint_once_for_every_token():
    """Without http_uri the endpoint is the discovery document's
    introspection_endpoint (RFC 8414), read once, through discovery's cluster."""
    _envoy_tests()
    s = AuthorizationServer()
    echo = EchoServer().start()
    cfg = jwt_config({"as": {
        "issuer": ISSUER, "audiences": [AUDIENCE],
        "discovery": {"http_uri": {"uri": f"http://{s.authority}{METADATA_PATH}",
                                   "cluster": "as", "timeout": "1s"}},
        "introspection": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}}})
    envoy = Envoy(bootstrap([listener("d", wasm_filter(cfg))], echo.port,
                            extra_clusters=[static_cluster("as", s.port)]),
                  "intro-discovered").start()
    try:
        try:
            port = envoy.serve(["d"])["d"]
        except EnvoyError as e:
            pytest.fail(f"the config did not load:\n{config_errors(envoy)}\n{e}")
        for _ in range(3):
            tok = new_active(s)
            resp = send(port, bearer_request(tok))
            assert (resp.status, resp.from_upstream) == (200, True), resp.body
            assert s.count(tok) == 1
        paths = [c.path for c in s.calls()]
        assert paths.count(METADATA_PATH) == 1, paths
        assert paths.count(INTROSPECT_PATH) == 3, paths
        assert send(port, bearer_request(opaque_token())).status == 401
    finally:
        envoy.stop()
        echo.stop()
        s.stop()


# ================================================================ bad configs

SECRET = "never-log-this-s3cr%t"
_URI = {"uri": "http://as.test/introspect", "cluster": "as", "timeout": "1s"}


def _intro(**fields) -> dict:
    base = {"http_uri": _URI, "client_id": CLIENT_ID, "client_secret": SECRET}
    base.update(fields)
    return jwt_config({"as": {"issuer": ISSUER,
                              "introspection": {k: v for k, v in base.items()
                                                if v is not None}}})


def _with_provider(cfg: dict, **fields) -> dict:
    cfg["providers"]["as"].update(fields)
    return cfg


AT = "providers.as.introspection"
BAD_CONFIGS = {
    "unknown-auth-method": (_intro(auth_method="private_key_jwt"), f"{AT}.auth_method"),
    "basic-without-secret": (_intro(client_secret=None), f"{AT}.client_secret"),
    "bearer-without-token": (_intro(auth_method="bearer", client_id=None, client_secret=None),
                             f"{AT}.bearer_token"),
    "bearer-with-client-id": (_intro(auth_method="bearer", bearer_token=SECRET,
                                     client_secret=None), f"{AT}.client_id"),
    "bearer-with-client-secret": (_intro(auth_method="bearer", bearer_token="t",
                                         client_id=None), f"{AT}.client_secret"),
    "unknown-failure-mode": (_intro(failure_mode="allow"), f"{AT}.failure_mode"),
    "unknown-jwt-tokens": (_intro(jwt_tokens="sometimes"), f"{AT}.jwt_tokens"),
    "introspect-with-local-jwks": (
        _with_provider(_intro(jwt_tokens="introspect"),
                       local_jwks={"inline_string": JWT_KEYS}), f"{AT}.jwt_tokens"),
    # A missing field is named in the message, as for remote_jwks (test_remote_jwks);
    # without discovery on the provider nothing else can name the endpoint.
    "no-http-uri": (_intro(http_uri=None), f'{AT}: missing required field "http_uri" (or '
                                           'give the provider discovery'),
    "zero-timeout": (_intro(http_uri={**_URI, "timeout": "0s"}), f"{AT}.http_uri"),
    "negative-max-ttl": (_intro(cache={"max_ttl": "-1s"}), f"{AT}.cache.max_ttl"),
    "unknown-cache-field": (_intro(cache={"max_size": 10}), f"{AT}.cache.max_size"),
}


@pytest.fixture(scope="module")
def refusals():
    _envoy_tests()
    return try_configs("intro-config", {n: c for n, (c, _) in BAD_CONFIGS.items()})


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_introspection_config_is_refused(refusals, name):
    assert_refused(refusals[name], BAD_CONFIGS[name][1])
    log = (CACHE / f"intro-config-{name}.log").read_text(errors="replace")
    form = urllib.parse.quote_plus(SECRET)
    assert SECRET not in log and form not in log, f"the client secret is in the log of {name}"
