"""Every scenario request through jwt-guard in Kong's wasm host (nginx +
ngx_wasm_module on wasmtime), checked against the scenario's expectations
as test_parity checks Envoy's native filter: status, body,
WWW-Authenticate, upstream headers present or gone, upstream path.

One nginx serves a site per scenario in front of one echo upstream. After
the requests its error log must show no crash, trap or serious host error,
and its workers must be the ones it started with, all answering.
"""

from __future__ import annotations

import pytest

from client import send
from echo import EchoServer
from envoy_runner import NATIVE_ONLY
from expectations import expectation_problems
from kong_runner import Kong, KongError
from model import resolve
from scenarios import ALL_SCENARIOS

pytestmark = pytest.mark.skipif(NATIVE_ONLY, reason="JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")

CASES = [(sc, rq) for sc in ALL_SCENARIOS for rq in sc.requests]

# ngx_wasm_module appends a newline to every non-empty local-reply body
# (ngx_http_wasm_local_response.c); the filter cannot send a body without it.
REPLY_BODY_SUFFIX = "\n"

# nginx refuses a second Authorization header itself, with its own 400 page,
# before any filter runs (Authorization is one of its single-value headers).
NGINX_UNIQUE = "nginx: duplicate Authorization"
# nginx's proxy module forwards every copy of a request header, whatever a
# filter removed; a filter can change one copy's value, never drop the
# others. A header jwt-guard must remove or set that arrived more than once
# therefore cannot be cleaned, and jwt-guard refuses the request with 400.
REPEATED_REMOVED = "repeated header jwt-guard must remove"

# How each of those answers begins: nginx's own error page, or jwt-guard's.
HOST_ANSWER_BODY = {NGINX_UNIQUE: b"<html>", REPEATED_REMOVED: b"jwt-guard cannot rewrite header "}

# Requests this host answers with another status than the scenario's, each
# for a reason above; the answer must still be a local reply. Keep it small:
# anything else that differs is a failure.
HOST_ANSWERS: dict[tuple[str, str], tuple[int, str]] = {
    ("loc_default", "two-authorization-headers"): (400, NGINX_UNIQUE),
    **{("loc_repeated_headers", name): (400, REPEATED_REMOVED) for name in (
        "two-valid", "same-token-twice", "three-values", "claim-headers-spoofed",
        "prefixed-two-valid", "prefixed-value-without-prefix-skipped",
        "prefixed-forged-without-prefix-skipped", "two-locations-repeated")},
    **{("loc_repeated_headers_providers", name): (400, REPEATED_REMOVED) for name in (
        "provider-two-valid", "any-two-valid", "missing-one-issuer-each",
        "missing-valid-then-forged", "failed-forged-then-valid", "failed-one-issuer-each")},
}


@pytest.fixture(scope="module")
def kong():
    echo = EchoServer().start()
    host = None
    try:
        host = Kong("parity", {sc.name: sc.config for sc in ALL_SCENARIOS}, echo.port)
        try:
            host.start()
        except KongError as e:
            pytest.fail(str(e))
        yield host
    finally:
        if host is not None:
            host.stop()
        echo.stop()


def test_host_answers_name_real_requests():
    known = {(sc.name, rq.name) for sc, rq in CASES}
    assert set(HOST_ANSWERS) <= known, sorted(set(HOST_ANSWERS) - known)


@pytest.mark.parametrize("scenario,req", CASES,
                         ids=[f"{sc.name}/{rq.name}" for sc, rq in CASES])
def test_request_through_kong(kong, kong_parity_stats, scenario, req):
    r = resolve(req)
    kong_parity_stats.requests += 1
    try:
        resp = send(kong.port(scenario.name), r)
    except OSError as e:  # a crashed worker or a hung request
        pytest.fail(f"{r.method} {r.path}: no answer ({e!r})\n{kong.tail(15)}")
    own = HOST_ANSWERS.get((scenario.name, req.name))
    if own is not None:
        status, reason = own
        problems = []
        if resp.status != status or resp.from_upstream:
            problems.append(f"status {resp.status} (from upstream: {resp.from_upstream}), "
                            f"expected a local {status} on this host ({reason})")
        elif not resp.body.startswith(HOST_ANSWER_BODY[reason]):
            problems.append(f"body {resp.body[:80]!r}, expected {HOST_ANSWER_BODY[reason]!r}…")
    else:
        # This host cannot drop a request header (see REPEATED_REMOVED):
        # jwt-guard blanks one it must remove, so "gone upstream" means
        # absent or empty here, never any other value.
        problems = expectation_problems(resp, req, r, blank_is_gone=True,
                                        reply_body_suffix=REPLY_BODY_SUFFIX)
    if not problems:
        kong_parity_stats.as_expected += 1
        kong_parity_stats.host_answers += own is not None
    assert not problems, (f"{r.method} {r.path} headers={r.headers}\n"
                          + "\n".join(problems))


def test_kong_healthy_after_every_request(kong):
    # Runs after the requests above (pytest keeps a module's order).
    found = kong.problems()
    assert found == [], "nginx error log:\n" + "\n".join(found[:20])
    assert kong.workers_alive(), "; ".join(kong.worker_problems())
