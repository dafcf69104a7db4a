"""Markdown report of a `make bench` run (printed and saved to .cache/bench)."""

from __future__ import annotations

import platform

import hostcost
from stack import LISTENERS, NEW_KEYS, Workload, wasm_budget


def _best(runs, listener: str, workload: str, metric: str = "rps"):
    """Correct run of a (listener, workload) with the highest `metric` (rps
    or per_cpu). Noise only ever makes a run worse (a neighbour takes the
    CPU, or pollutes its caches), so the best of a few is the steadiest
    estimate; each metric takes its own best, latencies go with req/s."""
    ok = [r for r in runs if r.listener == listener and r.workload == workload and r.ok]
    return max(ok, key=lambda r: getattr(r, metric)) if ok else None


def _extra(runs, listener: str, workload: str) -> float | None:
    """Envoy CPU µs per request above the no-filter listener's (best runs)."""
    r = _best(runs, listener, workload, "per_cpu")
    base = _best(runs, "none", workload, "per_cpu")
    if r is None or base is None:
        return None
    return 1e6 / r.per_cpu - 1e6 / base.per_cpu


def _extra_us(runs, listener: str, workload: str) -> str:
    x = _extra(runs, listener, workload)
    return "n/a" if x is None else f"{x:+.1f}"


def _lat(us: int) -> str:
    return f"{us} µs" if us < 10_000 else f"{us / 1000:.1f} ms"


def _k(x: float) -> str:
    return f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}"


def _ratio(runs, workload: str, a: str, b: str, metric: str) -> str:
    ra, rb = _best(runs, a, workload, metric), _best(runs, b, workload, metric)
    if ra is None or rb is None:
        return "n/a"
    return f"{getattr(ra, metric) / getattr(rb, metric):.2f}"


def _status(runs, listener: str, workload: str, own: bool = False) -> str:
    """`own`: the workload's own jwt-guard listener, where a `once` run
    that sent its lines again ran out of them."""
    mine = [r for r in runs if r.listener == listener and r.workload == workload]
    if not mine:
        return "not run"
    bad = [r for r in mine if not r.ok]
    sock = sum(r.socket_errors for r in mine)
    note = f", {sock} socket errors" if sock else ""
    again = sum(r.wrapped for r in mine) if own else 0
    note += f", ran out of DPoP proofs ({again:,} sent again)" if again else ""
    if not bad:
        return f"ok: all {mine[0].expected} ({len(mine)} runs{note})"
    seen = ", ".join(f"{c}×{n}" for c, n in sorted(bad[0].statuses.items())) or "none"
    return f"**WRONG** {len(bad)}/{len(mine)} runs (want {bad[0].expected}, got {seen}){note}"


def workload_table(wl: Workload, runs) -> list[str]:
    lines = [f"### {wl.name}: {wl.label}", "",
             "| listener | req/s | req per CPU-s | extra µs/req | p50 | p99 "
             "| Envoy CPU | other load | status |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for ls in (ls for ls in LISTENERS if ls.name in wl.listeners):
        r = _best(runs, ls.name, wl.name)
        c = _best(runs, ls.name, wl.name, "per_cpu")
        status = _status(runs, ls.name, wl.name, ls.name == wl.ours)
        if r is None or c is None:
            lines.append(f"| {ls.label} | – | – | – | – | – | – | – | {status} |")
            continue
        extra = "(base)" if ls.name == "none" else _extra_us(runs, ls.name, wl.name)
        lines.append(
            f"| {ls.label} | {r.rps:,.0f} | {c.per_cpu:,.0f} | {extra} | {_lat(r.p50_us)} "
            f"| {_lat(r.p99_us)} | {r.cpu / r.seconds:.2f} | {r.other:.2f} | {status} |")
    nones = [r for r in runs if r.listener == "none" and r.workload == wl.name]
    lines += ["", "No-filter runs in order (drift), req/s (other load): "
              + ", ".join(f"{_k(r.rps)} ({r.other:.2f})" for r in nones), ""]
    for ref, label in (("native", "native"), ("native_cache", "native+cache"),
                       ("ours_base", "baseline build")):
        if ref in wl.listeners:
            lines.append(f"- ours ÷ {label}: req per CPU-s "
                         f"**{_ratio(runs, wl.name, wl.ours, ref, 'per_cpu')}**, "
                         f"req/s {_ratio(runs, wl.name, wl.ours, ref, 'rps')}")
    return lines + [""]


def _against(runs, ours: tuple[str, str], ref: tuple[str, str], what: str,
             ref_name: str, target: str) -> list[str]:
    """`what`: the extra µs per request of `ours` (listener, workload) and of
    `ref`, and their ratio, same run."""
    x, y = _extra(runs, *ours), _extra(runs, *ref)
    if x is None or y is None:
        return [f"{what}: n/a", ""]
    ratio = x / y if y > 0 else float("nan")
    return [f"{what}{ref_name}: {x:+.1f} µs against {y:+.1f} µs extra per request, "
            f"**{ratio:.2f}×**{target}.", ""]


def opaque_line(workloads, runs) -> list[str]:
    """The introspection cache hit against the JWT cache hit, same run."""
    names = {wl.name: wl for wl in workloads}
    if "opaque" not in names or "rs256" not in names:
        return []
    return _against(runs, ("ours_opaque", "opaque"), ("ours", "rs256"),
                    "Opaque token (introspection cache hit) against the JWT cache hit",
                    " (rs256)", " (target ≤ 1.2×)")


def dpop_line(workloads, runs) -> list[str]:
    """A DPoP request (the token cached, a fresh ES256 proof from a key the
    worker knows checked and recorded) against a distinct ES256 JWT (one
    ES256 verification), same run."""
    names = {wl.name: wl for wl in workloads}
    if "dpop" not in names or "es256_2k" not in names:
        return []
    return _against(runs, ("ours_dpop", "dpop"), ("ours", "es256_2k"),
                    "DPoP (a fresh ES256 proof per request from one client, whose key the "
                    "worker knows after the first, the token cached) against distinct "
                    "ES256 JWTs", " (es256_2k)", "")


# The new-key DPoP workloads, and what each is compared with in the same
# run: distinct JWTs of its algorithm (one verification with a known key
# each), or for EdDSA, which has no such workload, the known-key ES256 proof.
NEW_KEY = [("dpop_es256", "ES256", "ours", "es256_2k", "against distinct ES256 JWTs"),
           ("dpop_eddsa", "EdDSA", "ours_dpop", "dpop",
            "no distinct EdDSA JWT workload, so against the known-key ES256 proof"),
           ("dpop_rs256", "RS256", "ours", "rs256_2k", "against distinct RS256 JWTs")]


def dpop_new_key_lines(workloads, runs) -> list[str]:
    """Per new-key DPoP workload (a proof whose key the worker has not
    seen, the token cached): its extra µs per request, and against its
    comparison; then the known key against the new one, both ES256: what
    parsing a new key costs."""
    names = {wl.name for wl in workloads}
    lines = []
    for name, alg, ref_ls, ref, ref_label in NEW_KEY:
        if name not in names:
            continue
        x, y = _extra(runs, "ours_dpop", name), _extra(runs, ref_ls, ref)
        head = f"- {alg} (`{name}`): "
        if x is None:
            lines.append(head + "n/a")
            continue
        if y is None:
            lines.append(head + f"{x:+.1f} µs extra per request; {ref_label} (`{ref}`): n/a")
            continue
        ratio = x / y if y > 0 else float("nan")
        lines.append(head + f"{x:+.1f} µs extra per request; {ref_label} (`{ref}`), "
                     f"{y:+.1f} µs: **{ratio:.2f}×**")
    if not lines:
        return []
    known, new = _extra(runs, "ours_dpop", "dpop"), _extra(runs, "ours_dpop", "dpop_es256")
    if "dpop" in names and "dpop_es256" in names:
        if known is None or new is None:
            lines.append("- A known key against a new one (dpop against dpop_es256): n/a")
        else:
            lines.append(f"- A known key against a new one, both ES256 (`dpop` against "
                         f"`dpop_es256`): {known:+.1f} µs against {new:+.1f} µs: a new key "
                         f"costs **{new - known:+.1f} µs** once (parsing it, its table, its "
                         f"thumbprint; the worker keeps it after)")
    return [f"DPoP from keys the worker has not seen ({NEW_KEYS:,} clients in turn, more than "
            f"the 256 keys it keeps; a fresh proof each, the token cached), same run:", "",
            *lines, ""]


def baseline_lines(workloads, runs) -> list[str]:
    """This build against the baseline build, per JWT workload, same run."""
    rows = [wl for wl in workloads if "ours_base" in wl.listeners]
    if not rows:
        return []
    lines = ["This build against the baseline build (BENCH_BASELINE_WASM), same Envoy, "
             "same run:", "",
             "| workload | this ÷ baseline (req/CPU-s) | this extra µs/req "
             "| baseline extra µs/req |", "|---|---:|---:|---:|"]
    for wl in rows:
        lines.append(f"| {wl.name} | {_ratio(runs, wl.name, 'ours', 'ours_base', 'per_cpu')} "
                     f"| {_extra_us(runs, 'ours', wl.name)} "
                     f"| {_extra_us(runs, 'ours_base', wl.name)} |")
    return lines + [""]


def summary_table(workloads, runs) -> list[str]:
    lines = ["| workload | ours ÷ native (req/CPU-s) | ours ÷ native (req/s) "
             "| ours ÷ native+cache (req/CPU-s) | ours ÷ native+cache (req/s) "
             "| ours extra µs/req | native extra µs/req | noop extra µs/req |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for wl in workloads:
        w, ours = wl.name, wl.ours
        lines.append(
            f"| {w} | {_ratio(runs, w, ours, 'native', 'per_cpu')} "
            f"| {_ratio(runs, w, ours, 'native', 'rps')} "
            f"| {_ratio(runs, w, ours, 'native_cache', 'per_cpu')} "
            f"| {_ratio(runs, w, ours, 'native_cache', 'rps')} "
            f"| {_extra_us(runs, ours, w)} | {_extra_us(runs, 'native', w)} "
            f"| {_extra_us(runs, 'noop', w)} |")
    return lines


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def _per_cpu_ratio(runs, workload: str, ours: str = "ours") -> float | None:
    a, b = _best(runs, ours, workload, "per_cpu"), _best(runs, "native", workload, "per_cpu")
    return None if a is None or b is None else a.per_cpu / b.per_cpu


def targets(workloads, runs, costs: dict, sizes: dict[str, int],
            budget: int | None) -> list[str]:
    """The goals this filter is held to, checked against this run's own
    numbers: met, not met, or n/a when the run lacks a number (a workload
    left out, BENCH_HOSTCOST=0)."""
    names = {wl.name for wl in workloads}
    rows = []

    def ratio_row(wl: str, label: str, goal: float, stretch: float | None = None) -> None:
        x = _per_cpu_ratio(runs, wl) if wl in names else None
        ok = None if x is None else x >= goal
        verdict = _verdict(ok)
        if stretch is not None and x is not None:
            verdict += f" (stretch {stretch:g}: {'met' if x >= stretch else 'not met'})"
        goal_s = f"≥ {goal:g}×" + (f" (stretch {stretch:g}×)" if stretch is not None else "")
        rows.append(f"| {label} (`{wl}`), ours ÷ native req per CPU-s "
                    f"| {'n/a' if x is None else f'{x:.2f}×'} | {goal_s} | {verdict} |")

    ratio_row("rs256_2k", "distinct RS256 tokens", 0.6, 0.8)
    ratio_row("badsig", "bad signature", 0.6)
    ratio_row("es256_2k", "distinct ES256 tokens", 1.2)
    for wl, probe, factor, plus, label in (
            ("missing", "p_reply", 1.3, 0.0, "no token"),
            ("garbage", "p_reply", 1.3, 0.0, "garbage token"),
            ("rs256", "p_all", 1.0, 1.5, "cache hit, RS256"),
            ("es256", "p_all", 1.0, 1.5, "cache hit, ES256"),
            ("eddsa", "p_all", 1.0, 1.5, "cache hit, EdDSA")):
        x = _extra(runs, "ours", wl) if wl in names else None
        floor = costs.get(probe)
        limit = None if floor is None else floor * factor + plus
        ok = None if x is None or limit is None else x <= limit
        goal = (f"≤ {factor:g} × `{probe}`" if plus == 0 else f"≤ `{probe}` + {plus:g} µs")
        goal += "" if limit is None else f" = {limit:+.1f} µs"
        rows.append(f"| {label} (`{wl}`), extra µs/req | {'n/a' if x is None else f'{x:+.1f}'} "
                    f"| {goal} | {_verdict(ok)} |")
    size = sizes.get("jwt-guard")
    ok = None if size is None or budget is None else size <= budget
    rows.append(f"| .wasm size | {'n/a' if size is None else f'{size / 1024:,.0f} KiB'} "
                f"| ≤ {'n/a' if budget is None else f'{budget / 1024:,.0f} KiB'} "
                f"(WASM_BUDGET) | {_verdict(ok)} |")
    return ["## Targets", "",
            "Each from this run's numbers (the host-call probes `p_reply`: noop making "
            "headers, time and a local 401; `p_all`: headers, time, remove; see "
            "Host-call prices).", "",
            "| target | this run | goal | |", "|---|---:|---:|---|", *rows, ""]


def memory_lines(memory, sizes: dict[str, int]) -> list[str]:
    """RSS with 1 worker per listener kind and with more for some (none,
    noop, ours), V8's load time of the module, and the modules' sizes."""
    rss, multi, n = memory.rss, memory.rss_multi, memory.multi_workers
    out = ["## Memory and size", "",
           "One Envoy per row (a no-filter listener plus the row's), VmRSS after "
           f"the same warm-up (all valid tokens, filling the caches); with {n} workers, "
           f"the same Envoy with `--concurrency {n}` (a VM per worker).", "",
           "| Envoy with | VmRSS, 1 worker | added over no filter | added over noop wasm "
           f"| VmRSS, {n} workers | added over no filter | added over noop wasm |",
           "|---|---:|---:|---:|---:|---:|---:|"]

    def cells(d: dict[str, int], name: str) -> str:
        if name not in d:
            return "– | | |"
        added = f"{(d[name] - d.get('none', d[name])) / 1024:+.1f} MiB"
        over_noop = (f"{(d[name] - d['noop']) / 1024:+.1f} MiB"
                     if name == "ours" and "noop" in d else "")
        return f"{d[name] / 1024:.1f} MiB | {added} | {over_noop} |"

    for ls in LISTENERS:
        if ls.name in rss or ls.name in multi:
            out.append(f"| {ls.label} | {cells(rss, ls.name)} {cells(multi, ls.name)}")
    out += ["", "| module | .wasm size |", "|---|---:|"]
    out += [f"| {name} | {size / 1024:,.0f} KiB ({size:,} bytes) |"
            for name, size in sizes.items()]
    if memory.load_ms:
        loads = ", ".join(f"{ms:,.0f} ms ({w} worker{'s' if w > 1 else ''})"
                          for w, ms in sorted(memory.load_ms.items()))
        out += ["", f"V8 load of jwt-guard's module: {loads}. From Envoy's log "
                "(`--component-log-level wasm:debug`): \"Base Wasm created\" to the first "
                "\"Thread-Local Wasm created\": V8 compiling the whole module (Envoy's V8 "
                "compiles every function at load), instantiating it and running its start "
                "code, once per Envoy; the other workers' VMs reuse the compiled code."]
    return out + [""]


def render(when: str, workloads, runs, memory, sizes: dict[str, int],
           costs: dict, settings: dict, elapsed: float) -> str:
    out = [
        f"# jwt-guard bench, {when}", "",
        f"{_cpu_model()}; Envoy --concurrency 1 on CPU 0, wrk -t1 "
        f"-c{settings['connections']} on CPU 1; {settings['seconds']:g} s per run, best of "
        f"{settings['repeats']} (each metric its own best); listeners answer from direct_response. "
        f"Run time {elapsed / 60:.1f} min.", "",
        "Ratios > 1: ours does better. Req per CPU-s = requests / Envoy CPU seconds "
        "(user + system, all threads); extra µs/req = Envoy CPU per request minus the "
        "no-filter listener's on the same workload. Times are indicative only "
        "(noisy machine, nothing asserted). Envoy CPU: cores Envoy used during the "
        "run (< 1: it waited on wrk and loopback round trips); other load: CPU "
        "used on the two CPUs by anything but Envoy and wrk (high: a disturbed run).",
        "",
        "## Summary", "", *summary_table(workloads, runs), "",
        *targets(workloads, runs, costs, sizes, wasm_budget()),
        *baseline_lines(workloads, runs),
        *opaque_line(workloads, runs),
        *dpop_line(workloads, runs),
        *dpop_new_key_lines(workloads, runs),
        *memory_lines(memory, sizes),
    ]
    if costs:
        out += ["## Host-call prices", "",
                "The floor under any filter's work: the do-nothing module "
                "(benches/noop) making the host calls jwt-guard makes, on the "
                "same token (the 401 row: no token). Same Envoy, same wrk settings.", "",
                *hostcost.table(costs)]
    out += ["", "## Per workload", ""]
    for wl in workloads:
        out += workload_table(wl, runs)
    return "\n".join(out)
