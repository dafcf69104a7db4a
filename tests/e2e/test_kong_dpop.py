"""DPoP (RFC 9449) in Kong's wasm host (nginx + ngx_wasm_module).

The replay store lives in the `shm_kv` zone deploy/kong/kong.conf declares,
so a proof is accepted once whichever worker sees it. Each test starts its
own nginx and ends by checking that the error log shows no crash or trap
and that every worker still answers (mirrors test_kong_introspection.py).

The count of the two-worker case is printed in the session summary:
`kong dpop: one proof sent N times on 2 workers -> 1 accepted`.
"""

from __future__ import annotations

import re
import time

import pytest

from client import send
from dpop_client import new_key, proof
from dpop_stack import (INVALID_PROOF, NEEDS_DPOP, REPLAY, INVALID_TOKEN, access_token,
                        algs_param, challenge, dpop, htu, jwt_provider, one, request, upstream)
from echo import EchoServer
from kong_runner import Kong, serving
from summary import summary_line
from test_dpop_request import burst
from wasm_stack import bearer_request, needs_wasm

pytestmark = needs_wasm

ALGS = algs_param(["ES256"])
CONFIG = one(jwt_provider(dpop("required", allowed_algorithms=["ES256"])))
COUNTS: dict[str, str] = {}
CLOSED = re.compile(r"\] (\d+)#\d+: \*\d+ client \S+ closed keepalive connection")


def _summary() -> str | None:
    return f"kong dpop: {COUNTS['burst']}" if "burst" in COUNTS else None


@pytest.fixture(scope="module", autouse=True)
def _summary_line(request):
    summary_line(request, "kong-dpop-summary", _summary)


@pytest.fixture(scope="module")
def echo():
    server = EchoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def key():
    return new_key("ES256")


def kong(echo: EchoServer, workers: int = 1):
    return serving("dpop", {"p": CONFIG}, echo.port, workers)


def text(resp) -> str:
    return resp.body.decode().rstrip("\n")


def test_a_valid_proof_passes_and_a_replay_is_refused(echo, key):
    tok = access_token(key)
    req = request("/orders", tok, proof(key, "GET", htu("/orders"), token=tok))
    with kong(echo) as host:
        resp = send(host.port("p"), req)
        assert (resp.status, resp.from_upstream) == (200, True), resp.body
        up = upstream(resp)["headers"]
        # This host forwards a removed header blanked (docs/deploy-kong.md).
        assert up.get("authorization", [""]) == [""], up
        assert up.get("dpop", [""]) == [""], up
        again = send(host.port("p"), req)
        assert (again.status, again.from_upstream, text(again)) == (401, False, REPLAY)
        assert again.header("www-authenticate") == challenge("/orders", ALGS,
                                                             error=INVALID_PROOF)


def test_a_path_this_host_hands_over_decoded_still_matches_the_proof(echo, key):
    """nginx decodes `:path` (`/a%20b` arrives as `/a b`): a byte no URI path
    holds as itself compares as its encoding, so the client's htu matches."""
    with kong(echo) as host:
        for path in ["/a%20b", "/caf%C3%A9"]:
            tok = access_token(key)
            resp = send(host.port("p"), request(path, tok,
                                                proof(key, "GET", htu(path), token=tok)))
            assert (resp.status, resp.from_upstream) == (200, True), (path, resp.body)


def test_a_bearer_token_is_refused_where_dpop_is_required(echo):
    with kong(echo) as host:
        resp = send(host.port("p"), bearer_request(access_token()))
        assert (resp.status, text(resp)) == (401, NEEDS_DPOP)
        assert resp.header("www-authenticate") == challenge("/", ALGS, error=INVALID_TOKEN)


def _closed_per_worker(host: Kong) -> dict[int, int]:
    """Client connections each worker has closed (nginx logs each at info,
    `<pid>#0: *<n> client ... closed keepalive connection`)."""
    seen: dict[int, int] = {}
    for m in CLOSED.finditer(host.log_text()):
        pid = int(m.group(1))
        if pid in host.worker_pids:
            seen[pid] = seen.get(pid, 0) + 1
    return seen


def test_one_proof_is_accepted_once_on_two_workers(echo, key):
    """The same proof sent 20 at a time on fresh connections (each may go
    to either worker), in rounds until both workers have served some: one
    200, every other answer the replay refusal."""
    tok = access_token(key)
    req = request("/", tok, proof(key, "GET", htu("/"), token=tok))
    with kong(echo, workers=2) as host:
        out: list = []
        for _ in range(10):
            out += burst(host.port("p"), req, 20)
            time.sleep(0.2)  # nginx logs the closed connections after the answers
            if len(_closed_per_worker(host)) == 2:
                break
        served = _closed_per_worker(host)
        assert len(served) == 2, f"the requests did not reach both workers: {served}"
        ok = [r for r in out if isinstance(r, tuple) and r[0] == 200]
        COUNTS["burst"] = (f"one proof sent {len(out)} times on 2 workers (connections per "
                           f"worker: {sorted(served.values())}) -> {len(ok)} accepted")
        assert len(ok) == 1, f"{len(ok)} of {len(out)} accepted"
        wrong = [r for r in out if r not in ok and not (isinstance(r, tuple) and
                                                        r[0] == 401 and r[1].rstrip() == REPLAY)]
        assert not wrong, f"{len(wrong)} answers are not the replay refusal: {wrong[:3]}"
