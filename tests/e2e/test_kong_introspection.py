"""Token introspection (docs/introspection.md) in Kong's wasm host (nginx +
ngx_wasm_module), against the test suite's RFC 7662 endpoint.

On this host a paused request can only be acted on from its own callbacks,
so each request that finds no answer makes its own call (the module learns
this at configure time); answers are shared between workers through the
`shm_kv` zone deploy/kong/kong.conf declares. Each test starts its own
nginx and ends by checking that the error log shows no crash or trap and
that every worker still answers.

The call count of the concurrent test is printed in the session summary:
`kong introspection: 100 concurrent requests with one new token on 2
workers -> N call(s)`.
"""

from __future__ import annotations

import base64
import json

import pytest

from client import burst, send
from echo import EchoServer
from introspection_server import (AUDIENCE, CLIENT_ID, CLIENT_SECRET, ISSUER,
                                  AuthorizationServer, opaque_token, typical_claims)
from kong_runner import Kong, serving
from model import jwt_config
from summary import summary_line
from wasm_stack import REALM, bearer_request, needs_wasm

pytestmark = needs_wasm

UNAVAILABLE = "Token introspection is unavailable"
COUNTS: dict[str, int] = {}


def _summary() -> str | None:
    if "burst" not in COUNTS:
        return None
    return ("kong introspection: 100 concurrent requests with one new token on 2 "
            f"workers -> {COUNTS['burst']} call(s) (one per request that found no "
            "answer; Envoy shares one)")


@pytest.fixture(scope="module", autouse=True)
def _summary_line(request):
    summary_line(request, "kong-introspection-summary", _summary)


@pytest.fixture(scope="module")
def echo():
    server = EchoServer().start()
    yield server
    server.stop()


@pytest.fixture()
def auth():
    server = AuthorizationServer()
    yield server
    server.stop()


def config(auth: AuthorizationServer, **introspection) -> dict:
    """One introspection provider; Kong's cluster is the endpoint's host:port."""
    return jwt_config({"p": {
        "issuer": ISSUER, "audiences": [AUDIENCE],
        "introspection": {
            "http_uri": {"uri": auth.url, "cluster": f"127.0.0.1:{auth.port}",
                         "timeout": "1s"},
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **introspection,
        },
        "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}],
        "forward_payload_header": "x-payload",
    }})


def kong(echo: EchoServer, site: dict, workers: int = 1):
    return serving("introspection", {"p": site}, echo.port, workers)


def get(host: Kong, token: str | None):
    return send(host.port("p"), bearer_request(token))


def test_an_active_token_passes_with_its_claims_and_is_asked_about_once(echo, auth):
    token = auth.add(opaque_token(), typical_claims(sub="carol"))
    with kong(echo, config(auth)) as host:
        resp = get(host, token)
        assert (resp.status, resp.from_upstream) == (200, True), resp.body
        sent: dict[str, list[str]] = {}
        for name, value in json.loads(resp.body)["headers"]:
            sent.setdefault(name, []).append(value)
        assert sent.get("x-sub") == ["carol"]
        payload = json.loads(base64.urlsafe_b64decode(sent["x-payload"][0] + "=="))
        assert payload["sub"] == "carol" and payload["active"] is True
        # This host forwards a removed header blanked (docs/deploy-kong.md).
        assert sent.get("authorization", [""]) == [""], "the token is not forwarded"
        for _ in range(5):
            assert get(host, token).status == 200
        assert auth.count(token) == 1, "the answer is remembered"
        (call,) = auth.calls(token)
        assert (call.auth, call.one("token_type_hint")) == ("client_secret_basic", "access_token")


def test_an_inactive_token_is_refused_with_invalid_token(echo, auth):
    token = opaque_token()
    with kong(echo, config(auth)) as host:
        resp = get(host, token)
        assert (resp.status, resp.from_upstream) == (401, False)
        assert resp.body.decode().rstrip("\n") == "Token is not active"
        assert resp.header("www-authenticate") == f'Bearer realm="{REALM}/", error="invalid_token"'


@pytest.mark.parametrize("outage", ["500", "down"])
def test_an_endpoint_that_cannot_answer_gives_503_and_nothing_is_remembered(echo, auth, outage):
    token = auth.add(opaque_token(), typical_claims())
    if outage == "down":
        auth.down()
    else:
        auth.respond("500")
    with kong(echo, config(auth)) as host:
        resp = get(host, token)
        assert (resp.status, resp.from_upstream) == (503, False), resp.body
        assert resp.body.decode().rstrip("\n") == UNAVAILABLE
        assert resp.header("www-authenticate") is None
        auth.up()
        auth.respond("ok")
        assert get(host, token).status == 200, "the failure was not remembered"


def test_100_concurrent_requests_with_one_new_token_on_two_workers_all_pass(echo, auth):
    token = auth.add(opaque_token(), typical_claims())
    auth.set_delay(200)  # every request arrives while the first call is out
    with kong(echo, config(auth), workers=2) as host:
        results = burst(host.port("p"), 100, token)
        statuses = [r[0] if isinstance(r, tuple) else r for r in results]
        assert statuses == [200] * 100, statuses
        calls = auth.count(token)
        COUNTS["burst"] = calls
        assert 1 <= calls <= 100
        auth.set_delay(0)
        for _ in range(20):
            assert get(host, token).status == 200
        assert auth.count(token) == calls, "once answered, every worker takes the answer"
