"""Every scenario request goes to the native and the wasm listener; the answers
must be identical, and the native answer must match the scenario's
expectations (so agreeing on something wrong still fails).
"""

from __future__ import annotations

import pytest

from client import Response, decode_b64_json, diff, send
from envoy_runner import NATIVE_ONLY
from model import Req, Resolved, resolve
from scenarios import ALL_SCENARIOS

CASES = [(sc, rq) for sc in ALL_SCENARIOS for rq in sc.requests]


def _describe_diff(d: dict) -> list[str]:
    lines = []
    for key, (native, wasm) in d.items():
        if key == "upstream headers" and native is not None and wasm is not None:
            only_n = sorted(set(map(tuple, native)) - set(map(tuple, wasm)))
            only_w = sorted(set(map(tuple, wasm)) - set(map(tuple, native)))
            lines.append(f"  upstream headers: only native={only_n} only wasm={only_w}")
        else:
            lines.append(f"  {key}: native={native!r} wasm={wasm!r}")
    return lines


def _expectation_problems(resp: Response, req: Req, r: Resolved) -> list[str]:
    upstream_path, upstream_has = r.upstream_path, r.upstream_has
    p = []
    if resp.status != req.status:
        p.append(f"status {resp.status}, expected {req.status} "
                 f"(body {resp.body[:200]!r})")
    if req.status == 200 and not resp.from_upstream:
        p.append("expected the request to reach the upstream; it did not")
    if req.status != 200 and resp.from_upstream:
        p.append("expected a local reply; the request reached the upstream")
    if r.www_authenticate is not None and resp.header("www-authenticate") != r.www_authenticate:
        p.append(f"www-authenticate {resp.header('www-authenticate')!r}, "
                 f"expected {r.www_authenticate!r}")
    if req.body is not None and not resp.from_upstream:
        body = resp.body.decode(errors="replace")
        if body != req.body:
            p.append(f"body {body!r}, expected {req.body!r}")
    up = resp.upstream()
    if up is not None:
        seen = dict(up["headers"])
        multi = [k for k, _ in up["headers"]]
        for name, value in upstream_has.items():
            got_value = seen.get(name)
            if not isinstance(value, str) and got_value is not None:
                got_value = decode_b64_json(got_value)
            if multi.count(name) != 1 or got_value != value:
                got = [v for k, v in up["headers"] if k == name]
                p.append(f"upstream header {name}: {got!r}, expected [{value!r}]")
        for name in req.upstream_lacks:
            if name in seen:
                p.append(f"upstream header {name} should be gone: {seen[name]!r}")
        if upstream_path is not None and up["path"] != upstream_path:
            p.append(f"upstream path {up['path']!r}, expected {upstream_path!r}")
    return p


@pytest.mark.parametrize("scenario,req", CASES,
                         ids=[f"{sc.name}/{rq.name}" for sc, rq in CASES])
def test_request(stack, parity_stats, scenario, req):
    r = resolve(req)
    parity_stats.requests += 1
    problems: list[str] = []
    native = send(stack.port(f"native-{scenario.name}"), r)
    if not NATIVE_ONLY:
        try:
            wasm = send(stack.port(f"wasm-{scenario.name}"), r)
            d = diff(native.view(scenario.b64_json_headers),
                     wasm.view(scenario.b64_json_headers))
        except OSError as e:  # a crashed/reset wasm listener is a disagreement
            d = {"transport": ("ok", repr(e))}
        if d:
            parity_stats.disagree += 1
            problems.append("native and wasm disagree:")
            problems += _describe_diff(d)
        else:
            parity_stats.agree += 1
    expect = _expectation_problems(native, req, r)
    if expect:
        parity_stats.expectation_failures += 1
        problems.append("native answer differs from the scenario's expectation:")
        problems += ["  " + x for x in expect]
    assert not problems, (f"{r.method} {r.path} headers={r.headers}\n"
                          + "\n".join(problems))
