"""Every scenario request goes to the native and the wasm listener; the answers
must be identical, and the native answer must match the scenario's
expectations (so agreeing on something wrong still fails).
"""

from __future__ import annotations

import pytest

from client import diff, send
from envoy_runner import NATIVE_ONLY
from expectations import expectation_problems
from model import resolve
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
    expect = expectation_problems(native, req, r)
    if expect:
        parity_stats.expectation_failures += 1
        problems.append("native answer differs from the scenario's expectation:")
        problems += ["  " + x for x in expect]
    assert not problems, (f"{r.method} {r.path} headers={r.headers}\n"
                          + "\n".join(problems))
