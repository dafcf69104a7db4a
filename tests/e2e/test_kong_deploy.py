"""deploy/kong/ in Kong's wasm host: the jwt-guard config of kong.yml, as
Kong hands it to the module (JSON), with the shared-memory zone kong.conf
declares, its remote keys pointed at the test IdP (uri and host:port
cluster: nothing else changes). The rules of the file then decide as the
file says: /health open, GET /orders with a valid token, POST /orders only
with the orders:write scope, the subject in x-user upstream.
"""

from __future__ import annotations

import copy

import pytest

from client import send
from echo import EchoServer
from idp_server import IdP
from kong_runner import Kong, KongError
from model import HOST, Resolved
from test_deploy import kong_filters, remote_http_uris
from tokens import Tok, claims, session_keys
from wasm_stack import REALM, needs_wasm, upstream_headers

pytestmark = needs_wasm

K = session_keys()


def pointed_at(cfg: dict, idp: IdP) -> dict:
    cfg = copy.deepcopy(cfg)
    for uri in remote_http_uris(cfg):
        uri["uri"] = idp.url()
        uri["cluster"] = f"127.0.0.1:{idp.port}"
    return cfg


@pytest.fixture(scope="module")
def deployed():
    [filt] = kong_filters()
    idp_cfg = next(iter(filt["config"]["providers"].values()))
    idp = IdP(issuer=idp_cfg["issuer"])
    idp.set_keys(K.jwk("rsa", kid="k1"))
    echo = EchoServer().start()
    host = Kong("deploy", {"orders": pointed_at(filt["config"], idp)}, echo.port, workers=2)
    try:
        try:
            host.start()
        except KongError as e:
            pytest.fail(str(e))
        yield host, idp_cfg
        assert host.problems() == [], host.tail(20)
        assert host.workers_alive(), "; ".join(host.worker_problems())
    finally:
        host.stop()
        echo.stop()
        idp.stop()


def request(host: Kong, method: str, path: str, token: str | None):
    headers = [("host", HOST)]
    if token:
        headers.append(("authorization", f"Bearer {token}"))
    return send(host.port("orders"), Resolved(method, path, headers, None, {}, None))


def token(idp_cfg: dict, **extra) -> str:
    payload = claims(iss=idp_cfg["issuer"], aud=idp_cfg["audiences"][0], **extra)
    return Tok(alg="RS256", key="rsa", kid="k1", payload=payload)()


def test_health_is_open(deployed):
    host, _ = deployed
    resp = request(host, "GET", "/health", None)
    assert (resp.status, resp.from_upstream) == (200, True)


def test_orders_need_a_token_and_get_its_subject(deployed):
    host, idp_cfg = deployed
    resp = request(host, "GET", "/orders", None)
    assert (resp.status, resp.from_upstream) == (401, False)
    assert resp.header("www-authenticate") == f'Bearer realm="{REALM}/orders"'
    resp = request(host, "GET", "/orders", token(idp_cfg, sub="alice"))
    assert (resp.status, resp.from_upstream) == (200, True), resp.body
    up = upstream_headers(resp)
    assert up["x-user"] == ["alice"]
    assert up.get("authorization", [""]) == [""], "the token is not forwarded"


def test_posting_an_order_needs_the_write_scope(deployed):
    host, idp_cfg = deployed
    resp = request(host, "POST", "/orders", token(idp_cfg, scope="orders:read"))
    assert (resp.status, resp.from_upstream) == (403, False)
    assert 'error="insufficient_scope"' in resp.header("www-authenticate")
    resp = request(host, "POST", "/orders", token(idp_cfg, scope="orders:read orders:write"))
    assert (resp.status, resp.from_upstream) == (200, True), resp.body
