"""The same module under a second, independent proxy-wasm host: wasmtime
(PyPI) instead of Envoy's V8, and this suite's own host functions
(pwhost.py) instead of Envoy's. Every request of the parity scenarios is
evaluated there and checked against the scenario's expectations, which the
parity suite holds both Envoy filters to: so the decisions, local replies
and header changes do not depend on Envoy. The scalar module (built without
SIMD128) runs the same requests on a wasmtime with SIMD switched off.

Requests are presented as Envoy presents them to a filter: `:authority`,
`:path`, `:method`, `:scheme` pseudo-headers, the client's other headers,
(values without surrounding whitespace, as HTTP/1 parsing leaves them), and
the `x-forwarded-proto` and `x-request-id` Envoy adds.
"""

from __future__ import annotations

import json
import uuid

import pytest

from client import decode_b64_json
from envoy_runner import NATIVE_ONLY, WASM, WASM_SCALAR
from model import resolve
from pwhost import Host, Outcome
from scenarios import ALL_SCENARIOS

pytestmark = pytest.mark.skipif(NATIVE_ONLY, reason="wasm-only")

CASES = [(sc, rq) for sc in ALL_SCENARIOS for rq in sc.requests]
# The SIMD128 module on wasmtime's defaults, and the scalar one on a host
# without SIMD (as a runtime built without it would be).
BUILDS = {"simd": (WASM, True), "scalar-on-a-host-without-simd": (WASM_SCALAR, False)}
_HOSTS: dict[tuple[str, str], Host] = {}


def host_for(scenario, build: str = "simd") -> Host:
    """One configured host per scenario and build (configuring is the
    costly part)."""
    key = (scenario.name, build)
    if key not in _HOSTS:
        wasm, simd = BUILDS[build]
        if not wasm.exists():
            pytest.fail(f"{wasm} not found: run `make build`")
        h = Host(str(wasm), json.dumps(scenario.config), simd=simd)
        assert h.configure(), f"{scenario.name}: configure failed: {h.logs}"
        _HOSTS[key] = h
    return _HOSTS[key]


def as_envoy_presents(r) -> list[tuple[str, str]]:
    authority = next((v for k, v in r.headers if k.lower() == "host"), "")
    headers = [(":authority", authority), (":path", r.path), (":method", r.method),
               (":scheme", "http")]
    # HTTP/1 parsing drops optional whitespace around values (RFC 9110 5.5).
    headers += [(k.lower(), v.strip(" \t")) for k, v in r.headers if k.lower() != "host"]
    return headers + [("x-forwarded-proto", "http"), ("x-request-id", str(uuid.uuid4()))]


def problems(out: Outcome, req, r) -> list[str]:
    p = []
    status = out.reply.status if out.reply else 200
    if status != req.status:
        body = out.reply.body[:200] if out.reply else b""
        p.append(f"status {status}, expected {req.status} (body {body!r})")
        return p
    if out.reply is not None:
        reply_headers = dict(out.reply.headers)
        if r.www_authenticate is not None and \
                reply_headers.get("www-authenticate") != r.www_authenticate:
            p.append(f"www-authenticate {reply_headers.get('www-authenticate')!r}, "
                     f"expected {r.www_authenticate!r}")
        if req.body is not None and out.reply.body.decode(errors="replace") != req.body:
            p.append(f"body {out.reply.body!r}, expected {req.body!r}")
        return p
    seen = [(k, v) for k, v in out.headers]
    for name, want in r.upstream_has.items():
        got = [v for k, v in seen if k == name]
        value = got[0] if len(got) == 1 else None
        if value is not None and not isinstance(want, str):
            value = decode_b64_json(value)
        if len(got) != 1 or value != want:
            p.append(f"upstream header {name}: {got!r}, expected [{want!r}]")
    for name in req.upstream_lacks:
        if any(k == name for k, _ in seen):
            p.append(f"upstream header {name} should be gone")
    path = next((v for k, v in seen if k == ":path"), None)
    if r.upstream_path is not None and path != r.upstream_path:
        p.append(f"upstream path {path!r}, expected {r.upstream_path!r}")
    return p


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("scenario,req", CASES,
                         ids=[f"{sc.name}/{rq.name}" for sc, rq in CASES])
def test_request_under_wasmtime(scenario, req, build):
    r = resolve(req)
    out = host_for(scenario, build).request(as_envoy_presents(r))
    found = problems(out, req, r)
    assert not found, f"{scenario.name}/{req.name}:\n  " + "\n  ".join(found)


def test_a_claim_that_would_inject_headers_is_refused_by_the_module_itself():
    # In Envoy the codec refuses such a header value (503); the module gives
    # the same answer on its own, so a host that forwards values unchecked
    # cannot be used to smuggle headers upstream.
    from model import jwt_config, provider
    from tokens import Tok, claims, jwks, session_keys
    keyset = jwks(session_keys().jwk("rsa", kid="k1"))
    cfg = jwt_config({"p": provider(keyset, claim_to_headers=[
        {"header_name": "x-sub", "claim_name": "sub"}])})
    h = Host(str(WASM), json.dumps(cfg))
    assert h.configure(), h.logs
    base = [(":authority", "api.example.com"), (":path", "/"), (":method", "GET"),
            (":scheme", "http")]
    for sub in ["alice\r\nx-admin: true", "alice\nx", "a\u0000b", "a\u007fb"]:
        token = Tok(kid="k1", payload=claims(sub=sub))()
        out = h.request(base + [("authorization", f"Bearer {token}")])
        assert out.reply is not None, sub
        assert (out.reply.status, out.reply.body) == (503, b"invalid header value for: x-sub"), sub
    token = Tok(kid="k1", payload=claims(sub="alice\tsmith"))()
    out = h.request(base + [("authorization", f"Bearer {token}")])
    assert out.reply is None and ("x-sub", "alice\tsmith") in out.headers
