"""Prices of the host calls a filter makes, measured with the do-nothing
module (benches/noop) told to make exactly those calls on every request.

jwt-guard's request path needs at least: the request headers, the time, and
(on success) removing the token header, or (on failure) a local reply. What
these cost in Envoy's V8 host is the floor under our own work, so the report
puts them next to our extra µs per request.
"""

from __future__ import annotations

from stack import (BENCH_DIR, NOOP_WASM, Listener, Workload, bench_listener, listener,
                   start_all, wasm_filter)
from envoy_runner import Envoy, bootstrap

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


def measure(wrk, valid: Workload, missing: Workload, seconds: int, repeats: int) -> dict:
    """Extra Envoy CPU µs per request over the no-filter listener, per probe
    (best of `repeats`); `wrk` is bench.wrk. Raises RunError on a wrong status."""
    envoy = Envoy(bootstrap([bench_listener("none")] +
                            [_probe_listener(n, c) for n, (c, _) in PROBES.items()],
                            echo_port=9), "hostcost", workdir=BENCH_DIR, concurrency=1)
    start_all([envoy])
    best: dict[str, float] = {}
    try:
        for _ in range(repeats):
            for name in ["none", *PROBES]:
                replies = name == "p_reply"
                ls = Listener(name, name, is_jwt=replies)
                r = wrk(envoy, ls, missing if replies else valid, seconds)
                if not r.ok:
                    raise RuntimeError(f"host-cost probe {name}: statuses {r.statuses}")
                us = 1e6 / r.per_cpu
                best[name] = min(best.get(name, us), us)
    finally:
        envoy.stop()
    return {name: best[name] - best["none"] for name in PROBES}


def table(costs: dict) -> list[str]:
    out = ["| do-nothing module making these calls per request | extra µs/req |",
           "|---|---:|"]
    for name, (_, label) in PROBES.items():
        if name in costs:
            out.append(f"| {label} | {costs[name]:+.1f} |")
    return out
