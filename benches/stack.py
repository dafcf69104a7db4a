"""What `make bench` measures: the listeners, the workloads and their tokens,
and the Envoy process helpers (CPU pinning, CPU time and RSS from /proc).

Envoy config, keys and token minting come from the e2e suite (tests/e2e), so
the benchmark runs exactly the filters and tokens the tests check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from envoy_runner import (WASM, Envoy, EnvoyError, bootstrap, listener,  # noqa: E402
                          native_filter, static_cluster, wasm_filter)
from introspection_server import (AUDIENCE, CLIENT_ID, CLIENT_SECRET,  # noqa: E402
                                  ISSUER, AuthorizationServer, typical_claims)
from model import jwt_config, provider  # noqa: E402
from tokens import AUD, Tok, claims, jwks, session_keys, tamper_sig  # noqa: E402

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from jwt import algorithms as jalg  # noqa: E402

BENCH_DIR = REPO / ".cache" / "bench"
NOOP_WASM = REPO / "target" / "noop" / "wasm32-wasip1" / "release" / "bench_noop.wasm"
ENVOY_CPU = 0   # Envoy (all its threads) runs here ...
WRK_CPU = 1     # ... and wrk here, so neither steals the other's core.
DISTINCT = 2000  # > both caches' 1,000 entries: every request is a miss
OPAQUE_TOKEN = "bench-opaque-token"  # what the introspection workload sends
# The DPoP workload: every proof may be used once (the replay store refuses
# a second use with 401), so each run on `ours_dpop` takes proofs nobody sent
# before. A run gets DPOP_RATE x its seconds of them: more than that listener
# can answer (a few thousand a second here, a fresh ES256 signature each),
# so it never runs out; if it did, the replays would be WRONG statuses.
DPOP_RATE = int(os.environ.get("BENCH_DPOP_RATE", "20000"))
DPOP_HOST = "dpop.bench"  # the Host the DPoP workload sends: its proofs' htu
DPOP_REPLAY_ENTRIES = 10_000_000  # replay_cache.max_entries (its most), >= 4x any pool


# ---------------------------------------------------------------- listeners

@dataclass(frozen=True)
class Listener:
    name: str
    label: str
    is_jwt: bool  # False: answers 200 whatever the token (no filter, noop)


LISTENERS = [
    Listener("none", "no filter", False),
    Listener("noop", "noop wasm", False),
    Listener("native", "native jwt_authn", True),
    Listener("native_cache", "native + jwt_cache", True),
    Listener("ours", "jwt-guard wasm", True),
    Listener("ours_opaque", "jwt-guard wasm, introspection", True),
    Listener("ours_dpop", "jwt-guard wasm, DPoP required", True),
]
BY_NAME = {ls.name: ls for ls in LISTENERS}
# The listeners every JWT workload runs on; the opaque one runs on those
# that can take it (native jwt_authn cannot introspect).
JWT_LISTENERS = ("none", "noop", "native", "native_cache", "ours")
OPAQUE_LISTENERS = ("none", "noop", "ours_opaque")
DPOP_LISTENERS = ("none", "noop", "ours_dpop")  # native jwt_authn has no DPoP

_AS: AuthorizationServer | None = None


def auth_server() -> AuthorizationServer:
    """The introspection endpoint of the `ours_opaque` listener, started
    once per bench: it knows the one opaque token, active for a day."""
    global _AS
    if _AS is None:
        _AS = AuthorizationServer()
        _AS.add(OPAQUE_TOKEN, typical_claims(exp=int(time.time()) + 86400))
    return _AS


def opaque_cfg() -> dict:
    """One introspection provider required on `/`, with the defaults (its
    answers are remembered up to 300 s, so a run sees cache hits)."""
    return jwt_config({"bench_opaque": {
        "issuer": ISSUER, "audiences": [AUDIENCE],
        "introspection": {
            "http_uri": {"uri": auth_server().url, "cluster": "as", "timeout": "1s"},
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        },
    }})


def jwt_cfg() -> dict:
    """The one JwtAuthentication config shared by native, native+cache and
    ours: one provider, an RS256, an ES256 and an EdDSA key in local JWKS,
    required on `/`. Kids make every filter pick the key directly."""
    keys = session_keys()
    keyset = jwks(keys.jwk("rsa", kid="rs", alg="RS256"),
                  keys.jwk("ec256", kid="es", alg="ES256"),
                  keys.jwk("ed", kid="ed", alg="EdDSA"))
    return jwt_config({"bench": provider(keyset, audiences=[AUD])})


def dpop_cfg() -> dict:
    """jwt_cfg() with DPoP required of its provider: ES256 proofs, valid
    for an hour as the tokens are (the proofs are minted when the bench
    starts, its DPoP runs come minutes later), and a replay store far larger
    than the proofs of a bench, so no slot fills."""
    cfg = jwt_cfg()
    for p in cfg["providers"].values():
        p["dpop"] = {"mode": "required", "allowed_algorithms": ["ES256"],
                     "max_age": "3600s",
                     "replay_cache": {"max_entries": DPOP_REPLAY_ENTRIES}}
    return cfg


def _noop_filter() -> dict:
    f = wasm_filter({}, NOOP_WASM)
    # Its own VM: sharing jwt_guard's vm_id with other code would be refused.
    cfg = f["typed_config"]["config"]
    cfg["name"] = cfg["root_id"] = cfg["vm_config"]["vm_id"] = "noop"
    return f


def _with_jwt_cache(cfg: dict) -> dict:
    """jwt_cache_config is a provider field (JwtProvider), not a top-level one."""
    providers = {name: {**p, "jwt_cache_config": {"jwt_cache_size": 1000}}
                 for name, p in cfg["providers"].items()}
    return {**cfg, "providers": providers}


def http_filter(name: str) -> dict | None:
    if name == "ours_opaque":
        return wasm_filter(opaque_cfg())
    if name == "ours_dpop":
        return wasm_filter(dpop_cfg())
    cfg = jwt_cfg()
    return {
        "none": None,
        "noop": _noop_filter(),
        "native": native_filter(cfg),
        "native_cache": native_filter(_with_jwt_cache(cfg)),
        # Ours gets the plain config: its own token cache is on by default.
        "ours": wasm_filter(cfg),
    }[name]


def bench_listener(name: str) -> dict:
    """A listener answering 200 from `direct_response`: no upstream, so the
    numbers are Envoy + filter only."""
    f = http_filter(name)
    ls = listener(name, f or {})
    hcm = ls["filter_chains"][0]["filters"][0]["typed_config"]
    if f is None:
        hcm["http_filters"] = hcm["http_filters"][1:]  # router only
    hcm["route_config"]["virtual_hosts"][0]["routes"] = [{
        "match": {"prefix": "/"},
        "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}},
    }]
    return ls


def bench_envoy(tag: str, names: list[str]) -> Envoy:
    # The `echo` cluster bootstrap() always adds is never routed to.
    extra = [static_cluster("as", auth_server().port)] if "ours_opaque" in names else []
    return Envoy(bootstrap([bench_listener(n) for n in names], echo_port=9,
                           extra_clusters=extra),
                 tag, workdir=BENCH_DIR, concurrency=1)


# ---------------------------------------------------------------- workloads

@dataclass(frozen=True)
class Workload:
    name: str
    label: str
    valid: bool      # jwt listeners must answer 200 if valid, else 401
    tokens_file: Path
    listeners: tuple[str, ...] = JWT_LISTENERS
    ours: str = "ours"  # the jwt-guard listener that runs it
    # Each line may reach `ours` once per Envoy (DPoP proofs): the driver
    # hands every run on it lines no earlier run of that Envoy sent.
    once: bool = False

    def expected(self, ls: Listener) -> int:
        return 200 if self.valid or not ls.is_jwt else 401


def _tok(alg: str, kid: str, sub: str = "alice") -> str:
    key = {"RS256": "rsa", "ES256": "ec256", "EdDSA": "ed"}[alg]
    return Tok(alg=alg, key=key, kid=kid, payload=claims(sub=sub))()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def dpop_lines(proofs: int) -> list[str]:
    """The DPoP workload: one ES256 access token bound (cnf.jkt) to a fresh
    ES256 key, and `proofs` proofs from that key for `GET http://DPOP_HOST/`,
    each with its own jti and iat now. One line per request: the
    Authorization value, then tab-separated `Name: value` headers."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jalg.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    # RFC 7638: the required members, in name order, as compact JSON.
    jkt = _b64(hashlib.sha256(_json({m: jwk[m] for m in ("crv", "kty", "x", "y")})).digest())
    token = Tok(alg="ES256", key="ec256", kid="es",
                payload=claims(sub="alice", cnf={"jkt": jkt}))()
    head = _b64(_json({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}))
    ath = _b64(hashlib.sha256(token.encode()).digest())
    es256 = jalg.get_default_algorithms()["ES256"]
    iat = int(time.time())
    lines = []
    for _ in range(proofs):
        body = _b64(_json({"jti": str(uuid.uuid4()), "htm": "GET",
                           "htu": f"http://{DPOP_HOST}/", "iat": iat, "ath": ath}))
        signing_input = f"{head}.{body}"
        proof = f"{signing_input}.{_b64(es256.sign(signing_input.encode(), key))}"
        lines.append(f"DPoP {token}\tHost: {DPOP_HOST}\tDPoP: {proof}")
    return lines


def make_workloads(dpop_proofs: int = 1000) -> tuple[list[Workload], Workload]:
    """Mint the tokens (exp one hour ahead) and write one file per workload:
    one Authorization value per line, read by benches/bench.lua. Returns the
    measured workloads and the warm-up one (for the opaque and DPoP
    listeners, their own workload is their warm-up: `warmup_for`).
    `dpop_proofs`: how many distinct DPoP proofs to mint (`dpop_pool`)."""
    rs = _tok("RS256", "rs")
    specs = [
        ("rs256", "same valid RS256 token", True, [rs]),
        ("es256", "same valid ES256 token", True, [_tok("ES256", "es")]),
        ("eddsa", "same valid EdDSA token", True, [_tok("EdDSA", "ed")]),
        ("rs256_2k", f"{DISTINCT:,} distinct RS256 tokens", True,
         [_tok("RS256", "rs", f"user-{i}") for i in range(DISTINCT)]),
        ("es256_2k", f"{DISTINCT:,} distinct ES256 tokens", True,
         [_tok("ES256", "es", f"user-{i}") for i in range(DISTINCT)]),
        ("missing", "missing token", False, []),
        ("garbage", "garbage token (Bearer abc.def.ghi)", False, ["abc.def.ghi"]),
        ("badsig", "bad RS256 signature", False, [tamper_sig(rs)]),
    ]
    # Warm-up: every valid token of every workload, interleaved, so one run
    # exercises all three algorithms and fills the token caches.
    rs_k, es_k = specs[3][3], specs[4][3]
    mixed = [specs[0][3][0], specs[1][3][0], specs[2][3][0]]
    mixed += [t for pair in zip(rs_k, es_k) for t in pair]
    specs.append(("warmup", "all valid tokens, interleaved", True, mixed))
    out_dir = BENCH_DIR / "tokens"
    out_dir.mkdir(parents=True, exist_ok=True)
    workloads = []
    for name, label, valid, toks in specs:
        path = out_dir / f"{name}.txt"
        path.write_text("".join(f"Bearer {t}\n" for t in toks))
        workloads.append(Workload(name, label, valid, path))
    opaque = out_dir / "opaque.txt"
    opaque.write_text(f"Bearer {OPAQUE_TOKEN}\n")
    workloads.insert(-1, Workload("opaque", "same opaque token (introspection, cache hit)",
                                  True, opaque, OPAQUE_LISTENERS, "ours_opaque"))
    if dpop_proofs * 4 > DPOP_REPLAY_ENTRIES:
        raise ValueError(f"{dpop_proofs:,} DPoP proofs: the replay store holds "
                         f"{DPOP_REPLAY_ENTRIES // 4:,} at most without full slots")
    dpop = out_dir / "dpop.txt"
    dpop.write_text("".join(f"{line}\n" for line in dpop_lines(dpop_proofs)))
    workloads.insert(-1, Workload(
        "dpop", "same ES256 token, bound, a fresh ES256 DPoP proof per request",
        True, dpop, DPOP_LISTENERS, "ours_dpop", once=True))
    return workloads[:-1], workloads[-1]


def dpop_pool(seconds: float) -> int:
    """Proofs for `seconds` of requests to one Envoy's `ours_dpop` at
    DPOP_RATE, plus the requests in flight when runs end."""
    return int(DPOP_RATE * seconds) + 1000


def warmup_for(ls: Listener, workloads: list[Workload], warmup: Workload) -> Workload:
    """The warm-up a listener gets: its own workload if only one suits it."""
    for wl in workloads:
        if wl.ours == ls.name and ls.name != "ours":
            return wl
    return warmup


# ---------------------------------------------------------------- processes

def start_pinned(envoy: Envoy, cpu: int = ENVOY_CPU) -> Envoy:
    """Start Envoy on one CPU, like `taskset -c 0 envoy ...`: the affinity is
    set on this process around the spawn, so Envoy and every thread it ever
    creates inherit it (pinning after start could miss early threads)."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        envoy.start()
    finally:
        os.sched_setaffinity(0, saved)
    return envoy


def check_pinned(pid: int, cpu: int = ENVOY_CPU) -> None:
    for task in Path(f"/proc/{pid}/task").iterdir():
        if os.sched_getaffinity(int(task.name)) != {cpu}:
            raise EnvoyError(f"envoy thread {task.name} is not pinned to CPU {cpu}")


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # comm may contain spaces
    return (int(fields[11]) + int(fields[12])) / _TICK  # fields 14 and 15


def busy_seconds(cpus: tuple[int, ...] = (ENVOY_CPU, WRK_CPU)) -> float:
    """user + nice + system time of these CPUs (all processes), in seconds.
    Minus Envoy's and wrk's own time it shows load from elsewhere (other
    containers on the same VM are invisible to ps). IRQ and softirq time
    are left out: loopback packet processing lands there and is ours."""
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *vals = line.split()
        if name in {f"cpu{c}" for c in cpus}:
            total += int(vals[0]) + int(vals[1]) + int(vals[2])
    return total / _TICK


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise EnvoyError(f"no VmRSS for pid {pid}")


def start_all(envoys: list[Envoy], pinned: bool = True) -> None:
    """Start, wait until ready, check every listener is up; raise EnvoyError."""
    for e in envoys:
        start_pinned(e) if pinned else e.start()
    for e in envoys:
        try:
            e.wait_ready(timeout=120)
        except EnvoyError:
            raise EnvoyError(f"envoy {e.name} did not start ({e.log_path}):\n"
                             f"{e.tail(10, problems_only=True)}") from None
        ports = e.listener_ports()
        config = json.loads(e.config_path.read_text())
        want = [ls["name"] for ls in config["static_resources"]["listeners"]]
        missing = [n for n in want if n not in ports]
        if missing:
            raise EnvoyError(f"envoy {e.name}: listeners not up: {missing}\n"
                             f"{e.tail(problems_only=True)}")
        e.ports = ports  # type: ignore[attr-defined]
        if pinned:
            check_pinned(e.proc.pid)


def wasm_sizes() -> dict[str, int]:
    return {"jwt-guard": WASM.stat().st_size, "noop": NOOP_WASM.stat().st_size}
