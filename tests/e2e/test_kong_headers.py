"""What the upstream is told about the caller, in Kong's wasm host and in
Envoy (jwt-guard on a wasm listener), one small config on both: a
`claim_to_headers` header (`org` -> `x-org`) the client tries to spoof, and
the token's own header with `forward: false` and `forward: true`.

Envoy drops a header a filter removes. nginx's proxy module forwards every
header the client sent whatever a filter removed, so in Kong's host
jwt-guard blanks a header it must remove (it reaches the upstream empty),
and refuses with 400 a request in which such a header arrived more than
once (only one copy could be blanked).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from client import Response, send
from echo import EchoServer
from envoy_runner import NATIVE_ONLY, Envoy, EnvoyError, bootstrap, listener, wasm_filter
from kong_runner import Kong, KongError
from model import jwt_config, provider
from tokens import Tok, claims, jwks, session_keys
from wasm_stack import bearer_request, upstream_headers

pytestmark = pytest.mark.skipif(NATIVE_ONLY, reason="JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")

K = session_keys()
KEYS = jwks(K.jwk("hs", kid="hs", alg="HS256"))
ORG = [{"claim_name": "org", "header_name": "x-org"}]
# Every character nginx.conf quoting has to carry through unchanged: quotes,
# backslashes, a variable, a directive end, a block, a comment.
ODD_ISSUER = """https://issuer.example.com/it's \\ "q" \\' $host;{}#"""
CONFIGS = {
    "hidden": jwt_config({"p": provider(KEYS, claim_to_headers=ORG)}),  # forward: false
    "forwarded": jwt_config({"p": provider(KEYS, claim_to_headers=ORG, forward=True)}),
    "odd-issuer": jwt_config({"p": provider(KEYS, issuer=ODD_ISSUER)}),
}
WITH_ORG = Tok(alg="HS256", key="hs", kid="hs", payload=claims(org="acme"))
WITHOUT_ORG = Tok(alg="HS256", key="hs", kid="hs")
ODD_ISSUER_TOKEN = Tok(alg="HS256", key="hs", kid="hs", payload=claims(iss=ODD_ISSUER))
SPOOF = ("x-org", "evil-corp")


@dataclass
class Host:
    name: str
    ports: dict[str, int]
    echo: EchoServer
    blanks_removed: bool       # a removed header arrives empty instead of not at all
    refuses_repeated: bool     # 400 when a header to remove or set arrived twice
    kong: Kong | None = None
    envoy: Envoy | None = None

    def send(self, site: str, token: str | None, headers: list | None = None) -> Response:
        return send(self.ports[site], bearer_request(token, headers=headers))

    def assert_gone(self, resp: Response, name: str) -> None:
        left = upstream_headers(resp).get(name, [])
        allowed = [[], [""]] if self.blanks_removed else [[]]
        assert left in allowed, f"{self.name}: upstream got {name}: {left}"


@pytest.fixture(scope="module", params=["kong", "envoy"])
def host(request):
    echo = EchoServer().start()
    server = None
    try:
        if request.param == "kong":
            # Two workers: the health check then covers a multi-worker host.
            server = Kong("headers", CONFIGS, echo.port, workers=2)
            try:
                server.start()
            except KongError as e:
                pytest.fail(str(e))
            yield Host("kong", server.ports, echo, True, True, kong=server)
        else:
            server = Envoy(bootstrap([listener(n, wasm_filter(c)) for n, c in CONFIGS.items()],
                                     echo.port), "kong-headers-envoy").start()
            try:
                ports = server.serve(CONFIGS)
            except EnvoyError as e:
                pytest.fail(str(e))
            yield Host("envoy", ports, echo, False, False, envoy=server)
    finally:
        if server is not None:
            server.stop()
        echo.stop()


def _passed(host: Host, resp: Response) -> None:
    assert resp.status == 200 and resp.from_upstream, (
        f"{host.name}: {resp.status} {resp.body[:200]!r}")


@pytest.mark.parametrize("sent", [[], [SPOOF]], ids=["no-copy", "client-copy"])
def test_claim_header_is_the_claim(host, sent):
    resp = host.send("hidden", WITH_ORG(), sent)
    _passed(host, resp)
    assert upstream_headers(resp).get("x-org") == ["acme"], host.name


def test_spoofed_claim_header_never_reaches_the_upstream(host):
    resp = host.send("hidden", WITHOUT_ORG(), [SPOOF])
    _passed(host, resp)
    host.assert_gone(resp, "x-org")


def test_forward_false_keeps_the_token_from_the_upstream(host):
    token = WITH_ORG()
    resp = host.send("hidden", token)
    _passed(host, resp)
    host.assert_gone(resp, "authorization")
    assert token not in resp.body.decode(), f"{host.name}: the token reached the upstream"


def test_forward_true_passes_the_token_on(host):
    token = WITH_ORG()
    resp = host.send("forwarded", token)
    _passed(host, resp)
    assert upstream_headers(resp).get("authorization") == [f"Bearer {token}"], host.name


@pytest.mark.parametrize("token", [WITH_ORG, WITHOUT_ORG], ids=["claim", "no-claim"])
def test_repeated_claim_header(host, token):
    seen = len(host.echo.received)
    resp = host.send("hidden", token(), [SPOOF, ("x-org", "evil-2")])
    if host.refuses_repeated:
        assert resp.status == 400 and not resp.from_upstream, (
            f"{host.name}: {resp.status} {resp.body[:200]!r}")
        assert len(host.echo.received) == seen, f"{host.name}: the request reached the upstream"
        return
    _passed(host, resp)
    if token is WITH_ORG:
        assert upstream_headers(resp).get("x-org") == ["acme"], host.name
    else:
        host.assert_gone(resp, "x-org")


def test_config_reaches_the_module_as_written(host):
    _passed(host, host.send("odd-issuer", ODD_ISSUER_TOKEN()))
    resp = host.send("odd-issuer", WITH_ORG())
    assert resp.status == 401 and resp.body.startswith(b"Jwt issuer is not configured"), (
        f"{host.name}: {resp.status} {resp.body[:200]!r}")


def test_host_healthy_after_the_requests(host):
    # Runs after the tests above for the same host (pytest keeps a module's
    # order within one fixture parameter).
    if host.kong is not None:
        found = host.kong.problems()
        assert found == [], "nginx error log:\n" + "\n".join(found[:20])
        assert host.kong.workers_alive(), "; ".join(host.kong.worker_problems())
    else:
        assert host.envoy.exited() is None, host.envoy.tail(20)
