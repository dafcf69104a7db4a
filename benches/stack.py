"""What `make bench` measures: the listeners, the workloads and their tokens,
and the Envoy process helpers (CPU pinning, CPU time and RSS from /proc).

Envoy config, keys and token minting come from the e2e suite (tests/e2e), so
the benchmark runs exactly the filters and tokens the tests check.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import multiprocessing
import os
import re
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

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402
from jwt import algorithms as jalg  # noqa: E402

BENCH_DIR = REPO / ".cache" / "bench"
# Another build of jwt-guard (`make bench BASELINE=<git rev>` builds one):
# run beside ours on the JWT workloads, in the same Envoy and the same run,
# so a change's cost is measured against the code before it, not against a
# run on another day.
BASELINE_WASM = Path(os.environ["BENCH_BASELINE_WASM"]) if os.environ.get(
    "BENCH_BASELINE_WASM") else None
NOOP_WASM = REPO / "target" / "noop" / "wasm32-wasip1" / "release" / "bench_noop.wasm"
ENVOY_CPU = 0   # Envoy (all its threads) runs here ...
WRK_CPU = 1     # ... and wrk here, so neither steals the other's core.
DISTINCT = 2000  # > both caches' 1,000 entries: every request is a miss
OPAQUE_TOKEN = "bench-opaque-token"  # what the introspection workload sends
# The DPoP workloads: every proof may be used once (the replay store refuses
# a second use with 401), so each run on `ours_dpop` takes proofs nobody sent
# before. A run gets its workload's rate x its seconds of them: DPOP_RATE
# for ES256 and EdDSA proofs, more than that listener can answer (a few
# thousand a second here, a fresh signature each), so it never runs out; if
# it did, the replays would be WRONG statuses. An RS256 proof takes Python
# about 250 µs to sign, so RS256 gets its own, lower rate: above what the
# listener could answer even if a proof cost it nothing but the RSA-2048
# verification (80 µs here) and the host calls of a cache hit, about 8,000
# a second on the VM of docs/performance.md (2,500 measured in a short run).
DPOP_RATE = int(os.environ.get("BENCH_DPOP_RATE", "20000"))
DPOP_RS256_RATE = int(os.environ.get("BENCH_DPOP_RS256_RATE", "10000"))
DPOP_HOST = "dpop.bench"  # the Host the DPoP workloads send: their proofs' htu
DPOP_REPLAY_ENTRIES = 10_000_000  # replay_cache.max_entries (its most), >= 4x all pools
DPOP_ALGS = ["ES256", "EdDSA", "RS256"]  # the algorithms `ours_dpop` takes proofs in
# The new-key workloads' clients: more than the 256 proof keys a worker
# keeps (src/dpop/keys.rs), which starts over when full. Cycling through
# them, every proof's key is one the worker does not have, while their
# 600 bound tokens stay in its 1,000-entry token cache.
NEW_KEYS = 600


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
    *([Listener("ours_base", "jwt-guard wasm, baseline build", True)] if BASELINE_WASM else []),
    Listener("ours_opaque", "jwt-guard wasm, introspection", True),
    Listener("ours_dpop", "jwt-guard wasm, DPoP required", True),
]
BY_NAME = {ls.name: ls for ls in LISTENERS}
# The listeners every JWT workload runs on; the opaque one runs on those
# that can take it (native jwt_authn cannot introspect).
JWT_LISTENERS = ("none", "noop", "native", "native_cache", "ours",
                 *(("ours_base",) if BASELINE_WASM else ()))
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
    """jwt_cfg() with DPoP required of its provider: ES256, EdDSA and RS256
    proofs (one listener for all DPoP workloads; ES256 comes first in the
    list a proof's `alg` is looked up in, so `dpop` costs what it did with
    ES256 alone), valid for an hour as the tokens are (the proofs are
    minted when the bench starts, its DPoP runs come minutes later), and a
    replay store far larger than the proofs of a bench, so no slot fills."""
    cfg = jwt_cfg()
    for p in cfg["providers"].values():
        p["dpop"] = {"mode": "required", "allowed_algorithms": DPOP_ALGS,
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


def _baseline_filter(cfg: dict) -> dict:
    f = wasm_filter(cfg, BASELINE_WASM)
    # Other code than ours: a VM of its own (one vm_id must be one module).
    f["typed_config"]["config"]["vm_config"]["vm_id"] = "jwt_guard_baseline"
    return f


def http_filter(name: str) -> dict | None:
    if name == "ours_base":
        return _baseline_filter(jwt_cfg())
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


def bench_envoy(tag: str, names: list[str], concurrency: int = 1,
                extra_args: list[str] | None = None,
                extra_listeners: list[dict] | None = None) -> Envoy:
    # The `echo` cluster bootstrap() always adds is never routed to.
    extra = [static_cluster("as", auth_server().port)] if "ours_opaque" in names else []
    return Envoy(bootstrap([bench_listener(n) for n in names] + (extra_listeners or []),
                           echo_port=9, extra_clusters=extra),
                 tag, workdir=BENCH_DIR, concurrency=concurrency, extra_args=extra_args)


# Envoy logs its wasm VMs at this level: the base VM's creation, before V8
# loads (compiles) the module, and the first worker's copy after it.
WASM_DEBUG = ["--component-log-level", "wasm:debug"]
_LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]")


def wasm_load_ms(log: str) -> float | None:
    """Milliseconds from Envoy's "Base Wasm created" to its first
    "Thread-Local Wasm created" (a WASM_DEBUG log): V8 compiling the module
    (all of it, at load), instantiating it and running its start code, once
    per Envoy; the other workers' copies reuse the compiled code. None if
    the log lacks either line."""
    base = first = None
    for line in log.splitlines():
        if base is None and "Base Wasm created" in line:
            base = line
        elif base is not None and "Thread-Local Wasm created" in line:
            first = line
            break
    stamps = [_LOG_TIME.match(ln) if ln else None for ln in (base, first)]
    if not all(stamps):
        return None
    t0, t1 = (datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
              for m in stamps if m)
    return (t1 - t0).total_seconds() * 1000


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
    # hands every run on it lines no earlier run of that Envoy sent, `rate`
    # of them per second of run.
    once: bool = False
    rate: int = 0

    def expected(self, ls: Listener) -> int:
        return 200 if self.valid or not ls.is_jwt else 401


def _tok(alg: str, kid: str, sub: str = "alice") -> str:
    key = {"RS256": "rsa", "ES256": "ec256", "EdDSA": "ed"}[alg]
    return Tok(alg=alg, key=key, kid=kid, payload=claims(sub=sub))()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# ---------------------------------------------------------------- DPoP

@dataclass(frozen=True)
class DpopSpec:
    """A DPoP workload: `keys` clients, each a key of `alg` and an access
    token bound to it; request n sends a fresh proof from client n mod
    `keys`, with that client's token."""
    name: str
    label: str
    alg: str
    keys: int
    rate: int  # proofs per second of run: DPOP_RATE or DPOP_RS256_RATE


def _new_key_label(alg: str) -> str:
    return (f"{NEW_KEYS} {alg} clients in turn: a fresh proof per request, from a key the "
            f"worker has not seen (its bound token cached)")


DPOP_SPECS = [
    DpopSpec("dpop", "same ES256 token, bound, a fresh ES256 DPoP proof per request",
             "ES256", 1, DPOP_RATE),
    DpopSpec("dpop_es256", _new_key_label("ES256"), "ES256", NEW_KEYS, DPOP_RATE),
    DpopSpec("dpop_eddsa", _new_key_label("EdDSA"), "EdDSA", NEW_KEYS, DPOP_RATE),
    DpopSpec("dpop_rs256", _new_key_label("RS256 (2048-bit)"), "RS256", NEW_KEYS,
             DPOP_RS256_RATE),
]

# RFC 7638: the members a key's thumbprint covers, in name order. A proof's
# `jwk` carries just these.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"),
                       "RSA": ("e", "kty", "n")}
_TO_JWK = {"ES256": jalg.ECAlgorithm, "EdDSA": jalg.OKPAlgorithm, "RS256": jalg.RSAAlgorithm}


def _proof_jwk(alg: str, key) -> dict:
    jwk = _TO_JWK[alg].to_jwk(key.public_key(), as_dict=True)
    return {m: jwk[m] for m in ("kty", "crv", "x", "y", "n", "e") if m in jwk}


def _thumbprint(jwk: dict) -> str:
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    return _b64(hashlib.sha256(_json({m: jwk[m] for m in members})).digest())


def _der(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load(der: bytes):
    # Our own keys: skipping RSA's consistency check takes 35 ms off each.
    return serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)


def _new_rsa_key(_: int) -> bytes:
    return _der(rsa.generate_private_key(public_exponent=65537, key_size=2048))


RSA_KEYS_FILE = BENCH_DIR / "dpop-keys" / "rs256.txt"  # base64 PKCS#8 DER, one a line


def _client_keys(alg: str, n: int, procs) -> list[bytes]:
    """`n` private keys of `alg`, PKCS#8 DER. EC and Ed25519 keys are made
    afresh (15 to 30 µs each); a 2048-bit RSA key takes about 50 ms, so
    those are made once, in parallel, and kept in RSA_KEYS_FILE."""
    if alg == "ES256":
        return [_der(ec.generate_private_key(ec.SECP256R1())) for _ in range(n)]
    if alg == "EdDSA":
        return [_der(ed25519.Ed25519PrivateKey.generate()) for _ in range(n)]
    have = RSA_KEYS_FILE.read_text().split() if RSA_KEYS_FILE.exists() else []
    if len(have) < n:
        t0 = time.monotonic()
        made = procs.map(_new_rsa_key, range(n - len(have)))
        have += [base64.b64encode(d).decode() for d in made]
        RSA_KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
        RSA_KEYS_FILE.write_text("".join(f"{k}\n" for k in have))
        print(f"  made {len(made)} RSA-2048 client keys in {time.monotonic() - t0:.0f} s, "
              f"kept in {RSA_KEYS_FILE.relative_to(REPO)}", flush=True)
    return [base64.b64decode(k) for k in have[:n]]


# Set before the minting processes fork (they inherit them): per DPoP
# workload, its alg and per client its key (DER), proof header segment,
# line prefix (token and Host) and ath; and the proofs' iat.
_CLIENTS: dict[str, tuple] = {}
_IAT = 0
_LOADED: dict[str, list] = {}  # in a minting process: the keys it loaded


def _mint(job: tuple[str, int, int]) -> str:
    """Lines first .. first + count - 1 of a DPoP workload (0-based): line
    n has a proof from client n mod its clients, with its token. Runs in a
    minting process."""
    name, first, count = job
    alg, ders, heads, prefixes, aths = _CLIENTS[name]
    if name not in _LOADED:
        _LOADED[name] = [_load(d) for d in ders]
    keys = _LOADED[name]
    signer = jalg.get_default_algorithms()[alg]
    out = []
    for n in range(first, first + count):
        i = n % len(keys)
        body = _b64(_json({"jti": str(uuid.uuid4()), "htm": "GET",
                           "htu": f"http://{DPOP_HOST}/", "iat": _IAT, "ath": aths[i]}))
        signing_input = f"{heads[i]}.{body}"
        out.append(f"{prefixes[i]}{signing_input}."
                   f"{_b64(signer.sign(signing_input.encode(), keys[i]))}\n")
    return "".join(out)


def _make_clients(spec: DpopSpec, procs) -> None:
    """`spec`'s clients: a key each, and an ES256 access token bound to it
    (`cnf.jkt`, RFC 7638 thumbprint), signed by the provider's ES256 key."""
    heads, prefixes, aths = [], [], []
    ders = _client_keys(spec.alg, spec.keys, procs)
    for i, der in enumerate(ders):
        jwk = _proof_jwk(spec.alg, _load(der))
        sub = "alice" if spec.keys == 1 else f"client-{i}"
        token = Tok(alg="ES256", key="ec256", kid="es",
                    payload=claims(sub=sub, cnf={"jkt": _thumbprint(jwk)}))()
        heads.append(_b64(_json({"typ": "dpop+jwt", "alg": spec.alg, "jwk": jwk})))
        prefixes.append(f"DPoP {token}\tHost: {DPOP_HOST}\tDPoP: ")
        aths.append(_b64(hashlib.sha256(token.encode()).digest()))
    _CLIENTS[spec.name] = (spec.alg, ders, heads, prefixes, aths)


def mint_dpop(pools: dict[str, int], out_dir: Path) -> None:
    """Writes each DPoP workload's file, `pools[name]` lines (none for a
    workload not named), one per request: `DPoP <token>` (the Authorization
    value), then tab-separated `Name: value` headers: its Host, and its proof
    for `GET http://DPOP_HOST/`, with its own jti and iat now. The proofs
    are signed by one process per CPU (RS256 takes about 250 µs a proof)."""
    global _IAT
    ctx = multiprocessing.get_context("fork")
    cpus = len(os.sched_getaffinity(0))
    wanted = [s for s in DPOP_SPECS if pools.get(s.name, 0) > 0]
    with ctx.Pool(cpus) as procs:
        for spec in wanted:
            _make_clients(spec, procs)
    _IAT = int(time.time())
    with ctx.Pool(cpus) as procs:  # forked now: they see _CLIENTS and _IAT
        for spec in DPOP_SPECS:
            n, t0 = pools.get(spec.name, 0), time.monotonic()
            chunk = 1_000 if spec.alg == "RS256" else 10_000
            jobs = [(spec.name, first, min(chunk, n - first)) for first in range(0, n, chunk)]
            with open(out_dir / f"{spec.name}.txt", "w") as f:
                for text in procs.imap(_mint, jobs):
                    f.write(text)
            if n:
                print(f"  {spec.name}: {n:,} proofs from {spec.keys} {spec.alg} "
                      f"key{'s' if spec.keys > 1 else ''} in {time.monotonic() - t0:.1f} s",
                      flush=True)
    _CLIENTS.clear()


def dpop_pool(seconds: float, rate: int = DPOP_RATE) -> int:
    """Proofs for `seconds` of requests to one Envoy's `ours_dpop` at
    `rate` a second, plus the requests in flight when runs end; none for
    no seconds."""
    return int(rate * seconds) + 1000 if seconds > 0 else 0


def make_workloads(dpop_proofs: dict[str, int] | None = None) -> tuple[list[Workload], Workload]:
    """Mint the tokens (exp one hour ahead) and write one file per workload:
    one Authorization value per line, read by benches/bench.lua. Returns the
    measured workloads and the warm-up one (for the opaque and DPoP
    listeners, their first own workload is their warm-up: `warmup_for`).
    `dpop_proofs`: how many distinct proofs to mint per DPoP workload
    (`dpop_pool`); a workload not named gets none. Default: 1,000 for
    `dpop`."""
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
    pools = {"dpop": 1000} if dpop_proofs is None else dpop_proofs
    if sum(pools.values()) * 4 > DPOP_REPLAY_ENTRIES:
        raise ValueError(f"{sum(pools.values()):,} DPoP proofs: the replay store holds "
                         f"{DPOP_REPLAY_ENTRIES // 4:,} at most without full slots")
    mint_dpop(pools, out_dir)
    for spec in DPOP_SPECS:
        workloads.insert(-1, Workload(spec.name, spec.label, True, out_dir / f"{spec.name}.txt",
                                      DPOP_LISTENERS, "ours_dpop", once=True, rate=spec.rate))
    return workloads[:-1], workloads[-1]


def warmup_for(ls: Listener, workloads: list[Workload], warmup: Workload) -> Workload:
    """The warm-up a listener gets: its first own workload (`dpop` for
    `ours_dpop`), if it has any."""
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


def wasm_budget() -> int | None:
    """The module's size budget in bytes: WASM_BUDGET in the Makefile, its
    one home (`make build` fails above it)."""
    m = re.search(r"^WASM_BUDGET\s*:?=\s*(\d+)\s*$", (REPO / "Makefile").read_text(), re.M)
    return int(m.group(1)) if m else None


def wasm_sizes() -> dict[str, int]:
    sizes = {"jwt-guard": WASM.stat().st_size, "noop": NOOP_WASM.stat().st_size}
    if BASELINE_WASM:
        sizes["jwt-guard baseline build"] = BASELINE_WASM.stat().st_size
    return sizes
