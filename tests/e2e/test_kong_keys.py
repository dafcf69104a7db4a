"""Remote keys in Kong's wasm host (nginx + ngx_wasm_module), against the
controllable IdP: the first request, 100 concurrent first requests on two
workers, rotation, an IdP answering 500, down or hanging, discovery,
`async_fetch` on two workers, and no shared-memory zone at all.

On this host a paused request can only be acted on from its own callbacks,
so every request that waits for keys fetches them itself (the module finds
this out at configure time); keys are shared between workers through the
`shm_kv` zone deploy/kong/kong.conf declares (kong_runner.DEPLOY_SHM_KV).
Each test starts its own nginx (fresh keys), and ends by checking that the
error log shows no crash or trap and that every worker still answers.

The fetch count of the concurrent test is printed in the session summary:
`kong remote keys: 100 concurrent first requests on 2 workers -> N fetches`.
"""

from __future__ import annotations

import time

import pytest

from client import burst, send
from echo import EchoServer
from idp_server import DISCOVERY_PATH, JWKS_PATH, IdP
from kong_runner import Kong, serving
from model import jwt_config
from summary import summary_line
from tokens import ISS, Tok, claims, jwks, session_keys
from wasm_stack import REALM, bearer_request, needs_wasm

pytestmark = needs_wasm

K = session_keys()
OLD = K.jwk("rsa", kid="k1")
NEW = K.jwk("rsa2", kid="k2")
FETCH_FAILED = "Jwks remote fetch is failed"
MARGIN = 1.0  # seconds allowed past a configured timeout
COUNTS: dict[str, int] = {}


def old_token() -> str:
    return Tok(alg="RS256", key="rsa", kid="k1", payload=claims())()


def new_token() -> str:
    return Tok(alg="RS256", key="rsa2", kid="k2", payload=claims())()


def _summary() -> str | None:
    if "burst" not in COUNTS:
        return None
    return ("kong remote keys: 100 concurrent first requests on 2 workers -> "
            f"{COUNTS['burst']} JWKS fetch(es) (one per request that waited; "
            "Envoy shares one)")


@pytest.fixture(scope="module", autouse=True)
def _summary_line(request):
    summary_line(request, "kong-keys-summary", _summary)


@pytest.fixture(scope="module")
def echo():
    server = EchoServer().start()
    yield server
    server.stop()


@pytest.fixture()
def idp():
    server = IdP(issuer=ISS)
    server.set_keys(OLD)
    yield server
    server.stop()


def remote(idp: IdP, timeout: str = "1s", path: str = JWKS_PATH, **extra) -> dict:
    """`http_uri` as Kong takes it: the cluster is the IdP's host:port."""
    return {"http_uri": {"uri": idp.url(path), "cluster": f"127.0.0.1:{idp.port}",
                         "timeout": timeout}, **extra}


def remote_config(idp: IdP, **extra) -> dict:
    return jwt_config({"p": {"issuer": ISS, "remote_jwks": remote(idp, **extra)}})


def kong(echo: EchoServer, sites: dict[str, dict], workers: int = 1,
         shm_kv: list[str] | None = None, healthy: bool = True):
    """nginx serving `sites` (`kong_runner.serving`)."""
    return serving("keys", sites, echo.port, workers, shm_kv, healthy)


def get(host: Kong, token: str | None, site: str = "p"):
    return send(host.port(site), bearer_request(token))


def assert_fetch_failed(resp) -> None:
    assert (resp.status, resp.from_upstream) == (401, False), resp.body
    assert resp.body.decode().rstrip("\n") == FETCH_FAILED
    assert resp.header("www-authenticate") == f'Bearer realm="{REALM}/", error="invalid_token"'


def test_the_first_request_fetches_the_keys_and_later_ones_use_them(echo, idp):
    with kong(echo, {"p": remote_config(idp)}) as host:
        resp = get(host, old_token())
        assert (resp.status, resp.from_upstream) == (200, True), resp.body
        assert idp.count() == 1
        for _ in range(5):
            assert get(host, old_token()).status == 200
        assert get(host, None).status == 401
        assert idp.count() == 1, "keys are cached"


def test_100_concurrent_first_requests_on_two_workers_all_pass(echo, idp):
    idp.set_delay(200)  # every request arrives while the first fetch is out
    with kong(echo, {"p": remote_config(idp)}, workers=2) as host:
        results = burst(host.port("p"), 100, old_token())
        statuses = [r[0] if isinstance(r, tuple) else r for r in results]
        assert statuses == [200] * 100, statuses
        fetches = idp.count()
        COUNTS["burst"] = fetches
        assert 1 <= fetches <= 100
        for _ in range(20):
            assert get(host, old_token()).status == 200
        assert idp.count() == fetches, "once keys are in, nobody fetches"


def test_a_rotated_key_is_fetched_when_its_first_token_arrives(echo, idp):
    with kong(echo, {"p": remote_config(idp)}) as host:
        assert get(host, old_token()).status == 200
        idp.set_keys(OLD, NEW)
        resp = get(host, new_token())
        assert (resp.status, resp.from_upstream) == (200, True), resp.body
        assert idp.count() == 2, "one refetch for the unknown kid"
        assert get(host, old_token()).status == 200


@pytest.mark.parametrize("outage", ["500", "down"])
def test_an_idp_outage_refuses_at_once_then_recovers(echo, idp, outage):
    if outage == "down":
        idp.down()
    else:
        idp.respond("500")
    with kong(echo, {"p": remote_config(idp)}) as host:
        t0 = time.monotonic()
        assert_fetch_failed(get(host, old_token()))
        assert_fetch_failed(get(host, old_token()))  # within the wait: no call
        assert time.monotonic() - t0 < 1.0 + MARGIN
        assert idp.count() <= 1
        idp.up()
        idp.respond("ok")
        time.sleep(1.1)  # past failed_refetch_duration (1 s by default)
        resp = get(host, old_token())
        assert (resp.status, resp.from_upstream) == (200, True), resp.body


def test_a_hanging_idp_answers_every_waiting_request_by_the_timeout(echo, idp):
    idp.set_delay(10_000)
    with kong(echo, {"p": remote_config(idp, timeout="1s")}, workers=2) as host:
        results = burst(host.port("p"), 16, old_token())
        for r in results:
            assert isinstance(r, tuple), r
            status, body, seconds = r
            assert (status, body.rstrip("\n")) == (401, FETCH_FAILED)
            assert seconds < 1.0 + MARGIN
        idp.set_delay(0)


def test_discovery_makes_both_calls_from_the_waiting_request(echo, idp):
    idp.set_discovery(issuer=ISS, jwks_uri=idp.url(JWKS_PATH))
    config = jwt_config({"p": {"issuer": ISS, "discovery": remote(idp, path=DISCOVERY_PATH)}})
    with kong(echo, {"p": config}) as host:
        resp = get(host, old_token())
        assert (resp.status, resp.from_upstream) == (200, True), resp.body
        assert (idp.count(DISCOVERY_PATH), idp.count(JWKS_PATH)) == (1, 1)


def test_async_fetch_on_two_workers_makes_one_fetch_for_the_process(echo, idp):
    config = remote_config(idp, async_fetch={})
    with kong(echo, {"p": config}, workers=2) as host:
        assert idp.wait_count(JWKS_PATH, 1, timeout=5) == 1
        time.sleep(0.5)  # the other worker's ticks: it takes the shared keys
        for _ in range(20):  # fresh connections: both workers serve
            assert get(host, old_token()).status == 200
        assert idp.count() == 1, "the lease in the shm_kv zone held"


def test_without_a_shared_memory_zone_remote_keys_fail_and_local_keys_work(echo, idp):
    """What deploy-kong.md says happens without the zone: every request that
    needs remote keys fails (the read of shared data traps), nothing loops,
    local keys are unaffected."""
    local = jwt_config({"p": {"issuer": ISS, "local_jwks": {"inline_string": jwks(OLD)}}})
    with kong(echo, {"p": remote_config(idp), "local": local}, shm_kv=[],
              healthy=False) as host:
        for _ in range(3):
            resp = get(host, old_token())
            assert (resp.status, resp.from_upstream) == (500, False)
        assert get(host, old_token(), site="local").status == 200
        assert "could not resolve namespace" in host.log_text()
        # The trapped instance is replaced (its start-up lines are logged),
        # then the idle worker stays quiet: fifty ticks, no trap of its own.
        time.sleep(0.5)
        size = len(host.log_text())
        time.sleep(1.0)
        assert len(host.log_text()) == size, host.tail(5)
        assert idp.count() == 0
