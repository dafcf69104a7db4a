"""`make bench`: jwt-guard against Envoy's native jwt_authn, one Envoy worker.

One Envoy (--concurrency 1, pinned to CPU 0) serves listeners that all
answer from `direct_response`: no filter, a do-nothing wasm filter, native
jwt_authn, native with its JWT cache, jwt-guard, and jwt-guard with an
introspection provider and with DPoP. wrk (pinned to CPU 1) drives each
listener with each workload it can take; see benches/README.md.

Environment: BENCH_SECONDS (3) per run, BENCH_REPEATS (2), BENCH_CONNECTIONS
(8), BENCH_WORKLOADS (comma list of workload names; default all),
BENCH_HOSTCOST (1: also price the host calls with benches/noop; 0: skip),
BENCH_DPOP_RATE (20000 ES256 and EdDSA DPoP proofs per second of run) and
BENCH_DPOP_RS256_RATE (10000 RS256 ones), stack.py.

Exits 1 if any run got a status other than the expected one, 2 if an Envoy
or wrk could not run. Speeds are reported, never asserted: machines are noisy.
"""

from __future__ import annotations

import datetime
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from stack import (BENCH_DIR, BY_NAME, DPOP_SPECS, LISTENERS, WRK_CPU, EnvoyError, Listener,
                   Workload, bench_envoy, busy_seconds, cpu_seconds, dpop_pool,
                   WASM_DEBUG, make_workloads, rss_kib, start_all, warmup_for, wasm_load_ms,
                   wasm_sizes)
import hostcost
import report

LUA = Path(__file__).resolve().parent / "bench.lua"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))  # wrk takes whole seconds
REPEATS = int(os.environ.get("BENCH_REPEATS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WARMUP_SECONDS = 1
HOSTCOST = os.environ.get("BENCH_HOSTCOST", "1") != "0"
RSS_WARMUP_SECONDS = 2  # long enough to fill jwt-guard's 1,000-entry cache


class RunError(RuntimeError):
    pass


@dataclass
class Run:
    listener: str
    workload: str
    requests: int
    seconds: float       # wrk's measured duration
    cpu: float           # Envoy CPU seconds (user + system) during the run
    p50_us: int
    p99_us: int
    statuses: dict[int, int]
    socket_errors: int
    expected: int
    other: float         # CPU-seconds per second used by neither Envoy nor wrk
    wrapped: int = 0     # requests sent again after the last of a `once` run's lines

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.statuses == {self.expected: self.requests}

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def per_cpu(self) -> float:
        """Requests per Envoy CPU-second: what a filter costs, even when wrk
        rather than Envoy is the bottleneck."""
        return self.requests / self.cpu if self.cpu > 0 else float("nan")


# Per (Envoy pid, workload): the first line of a `once` workload's file that
# no run against that Envoy has sent yet.
_UNSENT: dict[tuple[int, str], int] = {}


def _lines_for(envoy, ls: Listener, wl: Workload, seconds: int) -> list[str]:
    """bench.lua's arguments after the file: for a `once` workload, the
    first line and the number of lines this run may send, the workload's
    rate a second. Its own listener gets lines no earlier run there sent;
    the others, which check nothing, the first ones."""
    if not wl.once:
        return []
    first = _UNSENT.get((envoy.proc.pid, wl.name), 0) if ls.name == wl.ours else 0
    return [str(first + 1), str(wl.rate * seconds)]


def _sent(envoy, ls: Listener, wl: Workload, run: "Run") -> None:
    """Moves past what a run on a `once` workload's own listener may have
    sent: its answered requests, its socket errors, and one request in
    flight per connection when it stopped."""
    if wl.once and ls.name == wl.ours:
        key = (envoy.proc.pid, wl.name)
        _UNSENT[key] = (_UNSENT.get(key, 0) + run.requests + run.socket_errors
                        + CONNECTIONS)


_LINE = re.compile(r"^BENCH requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
                   r"errors=([\d,]+) statuses=([\d:,]*) wrapped=(\d+)$", re.M)


def wrk(envoy, ls: Listener, wl: Workload, seconds: int) -> Run:
    """One wrk run against one listener; Envoy's CPU time is read around it."""
    cmd = ["taskset", "-c", str(WRK_CPU), "wrk", "-t1", f"-c{CONNECTIONS}",
           f"-d{seconds}s", "--latency", "-s", str(LUA),
           f"http://127.0.0.1:{envoy.ports[ls.name]}/", "--", str(wl.tokens_file),
           *_lines_for(envoy, ls, wl, seconds)]
    pid = envoy.proc.pid
    cpu0, busy0, wrk0 = cpu_seconds(pid), busy_seconds(), _children_cpu()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RunError(f"wrk failed to run: {e}") from e
    cpu1, busy1, wrk1 = cpu_seconds(pid), busy_seconds(), _children_cpu()
    if envoy.exited() is not None:
        raise RunError(f"envoy exited during {ls.name}/{wl.name}\n{envoy.tail()}")
    m = _LINE.search(out.stdout)
    if out.returncode != 0 or m is None:
        raise RunError(f"wrk {ls.name}/{wl.name} rc={out.returncode}\n"
                       f"{out.stdout}\n{out.stderr}")
    statuses = {int(c): int(n) for c, n in
                (kv.split(":") for kv in m.group(6).split(",") if kv)}
    duration = int(m.group(2)) / 1e6
    other = (busy1 - busy0) - (cpu1 - cpu0) - (wrk1 - wrk0)
    run = Run(ls.name, wl.name, int(m.group(1)), duration, cpu1 - cpu0,
              int(m.group(3)), int(m.group(4)), statuses,
              sum(int(x) for x in m.group(5).split(",")[:4]),  # not `status`
              wl.expected(ls), max(0.0, other) / duration, int(m.group(7)))
    _sent(envoy, ls, wl, run)
    return run


def _children_cpu() -> float:
    """CPU time of our finished children: wrk, once subprocess.run reaped it
    (Envoy is only reaped when stopped, so it is not in there)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def schedule(filters: list[str]) -> list[str]:
    """Per workload: no-filter before, between and after the repeats, and the
    filter order reversed on every other repeat, so drift (thermal, noisy
    neighbours) shows in the no-filter runs and does not favour one filter:
    none b c d e none e d c b none."""
    order = ["none"]
    for rep in range(REPEATS):
        order += filters if rep % 2 == 0 else filters[::-1]
        order.append("none")
    return order


def _flag(r: Run, wl: Workload) -> str:
    """What the progress line says of a run that went wrong."""
    flag = "" if r.ok else f"  WRONG {r.statuses}"
    if r.wrapped and r.listener == wl.ours:
        flag += (f"  ran out of proofs, {r.wrapped:,} sent again: raise "
                 f"BENCH_DPOP_RATE (BENCH_DPOP_RS256_RATE for RS256)")
    return flag


def measure_speed(workloads: list[Workload], warmup: Workload, runs: list[Run],
                  all_workloads: list[Workload]) -> dict:
    """The runs of every workload, then (with HOSTCOST) the host-call
    probes' prices, measured in the same Envoy."""
    probes = hostcost.listeners() if HOSTCOST else []
    envoy = bench_envoy("bench", [ls.name for ls in LISTENERS], extra_listeners=probes)
    start_all([envoy])
    try:
        # Warm-up: lets V8 tier the wasm code up to optimized code and fills
        # allocator arenas before anything is timed. Checked like a run: a
        # listener that answers wrong is a broken setup, found in seconds.
        for ls in LISTENERS:
            r = wrk(envoy, ls, warmup_for(ls, all_workloads, warmup), WARMUP_SECONDS)
            if not r.ok:
                raise RunError(f"warm-up of {ls.name}: statuses {r.statuses}, "
                               f"expected all {r.expected}")
        for wl in workloads:
            ours = BY_NAME[wl.ours]
            if wl.once and warmup_for(ours, all_workloads, warmup) != wl:
                # Its tokens are not its listener's warm-up's: a run on
                # that listener first puts them in its token cache. Not a
                # result, unless it is WRONG.
                r = wrk(envoy, ours, wl, WARMUP_SECONDS)
                print(f"  {wl.name:9} {ours.name:13} warm-up, {r.requests:,} requests"
                      f"{_flag(r, wl)}", flush=True)
                if not r.ok:
                    runs.append(r)
            filters = [ls.name for ls in LISTENERS
                       if ls.name != "none" and ls.name in wl.listeners]
            for name in schedule(filters):
                r = wrk(envoy, BY_NAME[name], wl, SECONDS)
                runs.append(r)
                print(f"  {wl.name:9} {name:13} {r.rps:9.0f} req/s "
                      f"{r.per_cpu:9.0f} req/CPU-s  other load {r.other:.2f}{_flag(r, wl)}",
                      flush=True)
        if not HOSTCOST:
            return {}
        print("host-call prices: the noop module making jwt-guard's calls, same Envoy",
              flush=True)
        by_name = {w.name: w for w in all_workloads}
        return hostcost.measure(envoy, wrk, by_name["rs256"], by_name["missing"], SECONDS,
                                REPEATS)
    finally:
        envoy.stop()


# Listener kinds whose Envoy is also measured with 4 workers: what each more
# worker costs (its own VM and caches) with jwt-guard, against none and noop.
RSS_MULTI = ("none", "noop", "ours")
RSS_MULTI_WORKERS = 4


@dataclass
class Memory:
    rss: dict[str, int]            # listener -> VmRSS KiB, 1 worker
    rss_multi: dict[str, int]      # listener -> VmRSS KiB, multi_workers workers
    load_ms: dict[int, float]      # workers -> V8 load of jwt-guard's module, ms
    multi_workers: int = RSS_MULTI_WORKERS


def _rss_envoy(ls: Listener, warmup: Workload, all_workloads: list[Workload],
               workers: int, mem: Memory) -> None:
    """One Envoy (a no-filter listener plus `ls`) with `workers` workers:
    its VmRSS after the warm-up, and for jwt-guard's own listener how long
    V8 took to load the module (from the Envoy's log)."""
    names = ["none"] if ls.name == "none" else ["none", ls.name]
    ours = ls.name == "ours"
    envoy = bench_envoy(f"rss-{ls.name}-{workers}w", names, concurrency=workers,
                        extra_args=WASM_DEBUG if ours else None)
    start_all([envoy])
    try:
        if ours:
            # Back to info once loaded: at debug, jwt-guard would log every
            # denial during the warm-up.
            _admin_post(envoy, "/logging?wasm=info")
        r = wrk(envoy, ls, warmup_for(ls, all_workloads, warmup), RSS_WARMUP_SECONDS)
        if not r.ok:
            raise RunError(f"RSS warm-up of {ls.name} ({workers} workers): "
                           f"statuses {r.statuses}")
        (mem.rss if workers == 1 else mem.rss_multi)[ls.name] = rss_kib(envoy.proc.pid)
    finally:
        envoy.stop()
    if ours:
        ms = wasm_load_ms(envoy.log_text())
        if ms is not None:
            mem.load_ms[workers] = ms


def _admin_post(envoy, path: str) -> None:
    try:
        req = urllib.request.Request(envoy.admin + path, method="POST")
        with urllib.request.urlopen(req, timeout=5):
            pass
    except OSError as e:
        raise RunError(f"envoy admin {path}: {e}") from e


def measure_rss(warmup: Workload, all_workloads: list[Workload]) -> Memory:
    """VmRSS of one Envoy per listener kind (a no-filter listener plus that
    one) after the same warm-up: all valid tokens, filling the token caches;
    then of none, noop and jwt-guard again with 4 workers (all pinned to the
    same CPU: memory, not speed). Envoys run one at a time so they do not
    compete for the CPU."""
    mem = Memory({}, {}, {})
    for ls in LISTENERS:
        _rss_envoy(ls, warmup, all_workloads, 1, mem)
    for name in RSS_MULTI:
        _rss_envoy(BY_NAME[name], warmup, all_workloads, RSS_MULTI_WORKERS, mem)
    return mem


def main() -> int:
    t0 = time.monotonic()
    wanted = [w for w in os.environ.get("BENCH_WORKLOADS", "").split(",") if w]
    # Proofs per DPoP workload, for the most one Envoy's DPoP listener
    # takes of it. The first is that listener's warm-up (warmup_for): of
    # the speed Envoy, and of the RSS Envoy (RSS_WARMUP_SECONDS). Each
    # other one gets a warm-up of its own on the speed Envoy if measured.
    # Then the runs of those measured.
    pools = {}
    for i, spec in enumerate(DPOP_SPECS):
        runs_s = REPEATS * SECONDS if not wanted or spec.name in wanted else 0
        speed_s = WARMUP_SECONDS + runs_s if i == 0 or runs_s else 0
        pools[spec.name] = dpop_pool(max(speed_s, RSS_WARMUP_SECONDS if i == 0 else 0),
                                     spec.rate)
    print(f"minting tokens and {sum(pools.values()):,} DPoP proofs; {SECONDS:g} s per run, "
          f"{REPEATS} repeats, {CONNECTIONS} connections", flush=True)
    all_workloads, warmup = make_workloads(pools)
    workloads = [wl for wl in all_workloads if not wanted or wl.name in wanted]
    runs: list[Run] = []
    try:
        print(f"RSS: one Envoy per listener kind, and {', '.join(RSS_MULTI)} with "
              f"{RSS_MULTI_WORKERS} workers", flush=True)
        memory = measure_rss(warmup, all_workloads)
        print("speed: one Envoy, all listeners", flush=True)
        costs = measure_speed(workloads, warmup, runs, all_workloads)
    except (EnvoyError, RunError, RuntimeError) as e:
        print(f"bench: cannot run: {e}", file=sys.stderr)
        return 2
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    text = report.render(when, workloads, runs, memory, wasm_sizes(), costs,
                         settings=dict(seconds=SECONDS, repeats=REPEATS,
                                       connections=CONNECTIONS),
                         elapsed=time.monotonic() - t0)
    print()
    print(text)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "latest.md").write_text(text)
    print(f"written to {BENCH_DIR / 'latest.md'}")
    wrong = [r for r in runs if not r.ok]
    if wrong:
        print(f"bench: {len(wrong)} run(s) with WRONG statuses", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
