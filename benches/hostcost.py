"""Prices of the host calls a filter makes, measured with the do-nothing
module (benches/noop) told to make exactly those calls on every request.

jwt-guard's request path needs at least: the request headers, the time, and
(on success) removing the token header, or (on failure) a local reply. What
these cost in Envoy's V8 host is the floor under our own work, so the report
puts them next to our extra µs per request.
"""

from __future__ import annotations

from stack import NOOP_WASM, Listener, Workload, listener, wasm_filter

# Listener name -> (noop's plugin configuration, what it measures).
PROBES = {
    "p_nothing": ("", "noop (no host call)"),
    "p_headers": ("headers", "+ get all request headers"),
    "p_header": ("header", "+ get one request header"),
    "p_time": ("time", "+ get the current time"),
    "p_remove": ("remove", "+ remove a header"),
    "p_all": ("headers,time,remove", "+ headers, time, remove (a cache hit's calls)"),
    "p_reply": ("headers,time,reply", "+ headers, time, local 401 (a missing token's calls)"),
}


def _probe_listener(name: str, calls: str) -> dict:
    f = wasm_filter({}, NOOP_WASM)
    cfg = f["typed_config"]["config"]
    cfg["name"] = cfg["root_id"] = cfg["vm_config"]["vm_id"] = "noop"
    cfg["configuration"]["value"] = calls
    ls = listener(name, f)
    hcm = ls["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"][0]["routes"] = [{
        "match": {"prefix": "/"},
        "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}},
    }]
    return ls


def listeners() -> list[dict]:
    """The probes, as listeners to add to the Envoy that runs jwt-guard."""
    return [_probe_listener(n, c) for n, (c, _) in PROBES.items()]


def measure(envoy, wrk, valid: Workload, missing: Workload, seconds: int,
            repeats: int) -> dict:
    """Extra Envoy CPU µs per request over the no-filter listener, per probe
    (best of `repeats`), in `envoy`, which has the `listeners()` beside the
    bench's own: the same Envoy as jwt-guard's runs, so the floor and what
    stands on it are measured alike (in an Envoy of their own, with no
    other VM, the probes measured several µs cheaper). `wrk` is bench.wrk.
    Raises RuntimeError on a wrong status."""
    best: dict[str, float] = {}
    for _ in range(repeats):
        for name in ["none", *PROBES]:
            replies = name == "p_reply"
            ls = Listener(name, name, is_jwt=replies)
            r = wrk(envoy, ls, missing if replies else valid, seconds)
            if not r.ok:
                raise RuntimeError(f"host-cost probe {name}: statuses {r.statuses}")
            us = 1e6 / r.per_cpu
            best[name] = min(best.get(name, us), us)
    return {name: best[name] - best["none"] for name in PROBES}


def table(costs: dict) -> list[str]:
    out = ["| do-nothing module making these calls per request | extra µs/req |",
           "|---|---:|"]
    for name, (_, label) in PROBES.items():
        if name in costs:
            out.append(f"| {label} | {costs[name]:+.1f} |")
    return out
