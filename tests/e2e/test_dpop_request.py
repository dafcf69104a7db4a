"""What a DPoP proof must name, in a real Envoy, wasm only: `htu` is the URI
the client sent (before a route's prefix_rewrite, query and fragment
ignored, RFC 3986 normalised, the `authority` option overriding scheme and
host, x-forwarded-* never read); `iat` within `max_age` / `future_skew`;
`jti` at most 256 characters, and a 64 KiB one refused without harm; each
proof accepted once, across two workers too; a full replay store refuses
(503) rather than forget.

The replay count of the two-worker case is printed in the session summary:
`dpop: one proof sent N times over 2 workers -> 1 accepted`.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import time

import pytest

from dpop_client import new_key, proof
from dpop_stack import (BAD_HTU, BAD_IAT, BAD_JTI, INVALID_PROOF, REPLAY, STORE_FULL,
                        access_token, algs_param, challenge, check, dpop, dpop_envoy, htu,
                        jwt_provider, one, refused, request, upstream, with_hcm,
                        with_header_limit, with_routes)
from envoy_runner import NATIVE_ONLY
from model import HOST
from summary import summary_line
from test_remote_jwks import worker_connections

ALGS = algs_param(None)
REQ = dpop("required")
CONFIGS = {
    "req": one(jwt_provider(REQ)),
    "rewrite": one(jwt_provider(REQ)),
    "authority": one(jwt_provider(dpop("required", authority="https://api.example.com"))),
    "authority-port": one(jwt_provider(dpop("required", authority="gw.example.net:8443"))),
    "window": one(jwt_provider(dpop("required", max_age="30s", future_skew="10s"))),
    "big": one(jwt_provider(REQ)),
    "edge": one(jwt_provider(REQ)),
    "tiny": one(jwt_provider(dpop("required", replay_cache={"max_entries": 64})), "tiny"),
}
TWEAKS = {
    "rewrite": lambda ls: with_routes(ls, [
        {"match": {"prefix": "/api/"}, "route": {"cluster": "echo", "prefix_rewrite": "/v1/"}},
        {"match": {"prefix": "/"}, "route": {"cluster": "echo"}}]),
    "big": lambda ls: with_header_limit(ls, 1024),
    "edge": lambda ls: with_hcm(ls, use_remote_address=True),
}
COUNTS: dict[str, str] = {}


def _summary() -> str | None:
    return f"dpop: {COUNTS['c2']}" if "c2" in COUNTS else None


@pytest.fixture(scope="module", autouse=True)
def _summary_line(request):
    summary_line(request, "dpop-summary", _summary)


def _envoy_tests() -> None:
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")


@pytest.fixture(scope="module")
def stack():
    _envoy_tests()
    with dpop_envoy("dpop-request", CONFIGS, tweaks=TWEAKS) as s:
        yield s


@pytest.fixture(scope="module")
def key():
    return new_key("ES256")


def send_with(stack, name: str, key, uri: str, path: str = "/", host: str = HOST,
              headers: list | None = None, **kw):
    """GET `path` with Host `host`, a bound token and a proof naming `uri`."""
    tok = access_token(key)
    req = request(path, tok, proof(key, "GET", uri, token=tok, **kw), headers=headers)
    req.headers[0] = ("host", host)
    return stack.send(name, req)


def bad_htu(resp, path: str = "/") -> None:
    refused(resp, 401, BAD_HTU, challenge(path, ALGS, error=INVALID_PROOF))


# ---------------------------------------------------------------- htu

def test_htu_names_the_path_the_client_sent_not_the_rewritten_one(stack, key):
    resp = send_with(stack, "rewrite", key, htu("/api/orders"), "/api/orders")
    check(resp, 200)
    assert upstream(resp)["path"] == "/v1/orders"  # the route did rewrite it
    bad_htu(send_with(stack, "rewrite", key, htu("/v1/orders"), "/api/orders"), "/api/orders")


def test_authority_option_replaces_scheme_and_host(stack, key):
    check(send_with(stack, "authority", key, "https://api.example.com/orders", "/orders"), 200)
    # The request's own URI (http://api.example.com/orders) is then not it.
    bad_htu(send_with(stack, "authority", key, htu("/orders"), "/orders"), "/orders")


def test_authority_option_without_scheme_keeps_the_requests(stack, key):
    check(send_with(stack, "authority-port", key, "http://gw.example.net:8443/x", "/x"), 200)
    for uri in ("https://gw.example.net:8443/x", "http://gw.example.net/x", htu("/x")):
        bad_htu(send_with(stack, "authority-port", key, uri, "/x"), "/x")


@pytest.mark.parametrize("uri", [
    "HTTP://API.EXAMPLE.COM:80/orders",
    "http://api.example.com:80/orders",
    "http://Api.Example.Com/orders",
    "http://api.example.com/%6Frders",     # an unreserved character percent-encoded
    "http://api.example.com/x/../orders",  # a dot segment
    "http://api.example.com/orders?page=2",
    "http://api.example.com/orders#top",
], ids=["upper-case-and-port-80", "port-80", "mixed-case-host", "percent-unreserved",
        "dot-segment", "query", "fragment"])
def test_htu_is_compared_normalised(stack, key, uri):
    check(send_with(stack, "req", key, uri, "/orders"), 200)


def test_the_requests_query_is_ignored(stack, key):
    resp = send_with(stack, "req", key, htu("/orders"), "/orders?page=2&sort=asc")
    check(resp, 200)
    assert upstream(resp)["path"] == "/orders?page=2&sort=asc"


def test_the_requests_host_is_normalised_too(stack, key):
    check(send_with(stack, "req", key, htu("/"), "/", host="API.Example.COM:80"), 200)


@pytest.mark.parametrize("uri", ["http://api.example.com/Orders", "http://api.example.com/orders/",
                                 "http://api.example.com/%2Forders"],
                         ids=["path-case", "trailing-slash", "encoded-slash"])
def test_htu_path_differences_that_matter(stack, key, uri):
    bad_htu(send_with(stack, "req", key, uri, "/orders"), "/orders")


def test_x_forwarded_host_is_not_read(stack, key):
    fwd = [("x-forwarded-host", "evil.example.com")]
    check(send_with(stack, "req", key, htu("/"), headers=fwd), 200)
    bad_htu(send_with(stack, "req", key, "http://evil.example.com/", headers=fwd))


def test_at_an_edge_envoy_a_clients_x_forwarded_proto_changes_nothing(stack, key):
    """With use_remote_address (an edge proxy) Envoy replaces a client's
    x-forwarded-proto and keeps :scheme the connection's: the proof names
    http. (Without it, Envoy's connection manager itself sets :scheme from
    the client's x-forwarded-proto, which the module then reads as the
    request's scheme: `test_a_non_edge_envoy_takes_scheme_from_x_forwarded_proto`.)"""
    fwd = [("x-forwarded-proto", "https")]
    check(send_with(stack, "edge", key, htu("/"), headers=fwd), 200)
    resp = send_with(stack, "edge", key, "https://api.example.com/", headers=fwd)
    refused(resp, 401, BAD_HTU, challenge("/", ALGS, error=INVALID_PROOF))


def test_a_non_edge_envoy_takes_scheme_from_x_forwarded_proto(stack, key):
    """Envoy's behaviour, pinned for the docs: behind a connection manager
    without use_remote_address, :scheme follows a client's
    x-forwarded-proto, so the proof names https."""
    fwd = [("x-forwarded-proto", "https")]
    check(send_with(stack, "req", key, "https://api.example.com/", headers=fwd), 200)


# ---------------------------------------------------------------- iat

@pytest.mark.parametrize("offset,passes", [(-20, True), (-60, False), (5, True), (25, False)],
                         ids=["20s-old", "60s-old", "5s-ahead", "25s-ahead"])
def test_iat_window_follows_max_age_and_future_skew(stack, key, offset, passes):
    resp = send_with(stack, "window", key, htu("/"), iat=int(time.time()) + offset)
    if passes:
        check(resp, 200)
    else:
        refused(resp, 401, BAD_IAT, challenge("/", ALGS, error=INVALID_PROOF))


@pytest.mark.parametrize("offset,passes", [(-250, True), (-400, False), (3, True), (60, False)],
                         ids=["250s-old", "400s-old", "3s-ahead", "60s-ahead"])
def test_iat_window_defaults_are_300s_and_5s(stack, key, offset, passes):
    resp = send_with(stack, "req", key, htu("/"), iat=int(time.time()) + offset)
    if passes:
        check(resp, 200)
    else:
        refused(resp, 401, BAD_IAT, challenge("/", ALGS, error=INVALID_PROOF))


# ---------------------------------------------------------------- jti size

def test_a_64_kib_jti_is_refused_and_envoy_lives(stack, key):
    jti = "j" * (64 * 1024)
    # Under Envoy's default 60 KiB header limit Envoy answers before any filter.
    resp = send_with(stack, "req", key, htu("/"), jti=jti)
    check(resp, 431, body="Request Header Fields Too Large")
    # Under a raised limit the module sees it.
    resp = send_with(stack, "big", key, htu("/"), jti=jti)
    refused(resp, 401, BAD_JTI, challenge("/", ALGS, error=INVALID_PROOF))
    stack.alive()
    check(send_with(stack, "big", key, htu("/")), 200)
    check(send_with(stack, "req", key, htu("/")), 200)


# ---------------------------------------------------------------- replay

def test_a_full_replay_store_refuses_new_proofs_with_503(stack, key):
    """`max_entries` 64: the store is bounded (how far past 64 is the
    module's choice; 8x is generous), so fresh proofs within the window
    eventually find no room. They are refused with 503, never let through
    by forgetting one held."""
    answers, first = [], None
    for _ in range(8 * 64):
        tok = access_token(key)
        req = request("/", tok, proof(key, "GET", htu("/"), token=tok))
        first = first or req
        resp = stack.send("tiny", req)
        answers.append(resp.status)
        if resp.status == 503:
            refused(resp, 503, STORE_FULL, None)
            break
        check(resp, 200)
    assert answers[-1] == 503, f"{len(answers)} fresh proofs in a 64-entry store all passed"
    print(f"\nreplay store of max_entries 64: first 503 at fresh proof {len(answers)}")
    # What it holds it still refuses as a replay.
    refused(stack.send("tiny", first), 401, REPLAY, challenge("/", ALGS, error=INVALID_PROOF))
    stack.alive()


def burst(port: int, req, n: int) -> list:
    """`req` sent `n` times at once, each on a fresh connection: the answers
    as (status, body), or the error a request met."""
    out: list = [None] * n
    barrier = threading.Barrier(n, timeout=20)
    threads = [threading.Thread(target=_send_raw, args=(port, req, barrier, out, i))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def _send_raw(port: int, req, barrier: threading.Barrier, out: list, i: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.connect()
        barrier.wait()
        conn.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
        for name, value in req.headers:
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        out[i] = (r.status, r.read().decode(errors="replace"))
    except Exception as e:  # noqa: BLE001 (reported, not hidden)
        out[i] = f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def test_a_proof_is_accepted_once_across_two_workers():
    """The same proof sent at once over fresh connections, in rounds until
    both workers have had some: exactly one 200, every other answer the
    replay refusal."""
    _envoy_tests()
    key = new_key("ES256")
    with dpop_envoy("dpop-replay-c2", {"w": one(jwt_provider(REQ))}, concurrency=2) as s:
        port = s.ports["w"]
        tok = access_token(key)
        req = request("/", tok, proof(key, "GET", htu("/"), token=tok, jti=secrets.token_hex(8)))
        before = worker_connections(s.envoy)
        results: list = []
        for _ in range(10):
            results += burst(port, req, 20)
            now = worker_connections(s.envoy)
            if len(now) == 2 and all(now[w] > before.get(w, 0) for w in now):
                break
        per_worker = {w: c - before.get(w, 0) for w, c in worker_connections(s.envoy).items()}
        assert len(per_worker) == 2 and all(per_worker.values()), \
            f"the requests did not reach both workers: {per_worker}"
        ok = [r for r in results if isinstance(r, tuple) and r[0] == 200]
        others = [r for r in results if r not in ok]
        COUNTS["c2"] = (f"one proof sent {len(results)} times over 2 workers "
                        f"({per_worker}) -> {len(ok)} accepted")
        assert len(ok) == 1, f"{len(ok)} of {len(results)} accepted"
        wrong = [r for r in others if r != (401, REPLAY)]
        assert not wrong, f"{len(wrong)} answers are not the replay refusal: {wrong[:3]}"
        s.alive()
