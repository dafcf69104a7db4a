"""`make soak`: jwt-guard under sustained load with a mix of good and bad
tokens across several providers. Not part of `make test` (it runs minutes).

One Envoy (two workers) with jwt-guard and three providers (RS256, ES256,
EdDSA; 300 distinct valid tokens each, so both cache hits and misses), driven
by wrk with a tagged request stream: valid tokens of each provider, expired,
bad signatures, a wrong audience, garbage and no token. Envoy echoes each
request's tag into its response, so every answer is checked against its tag's
expected status. Envoy's RSS is read at the start, in the middle and at the
end of the run.

Environment: SOAK_SECONDS (300), SOAK_CONNECTIONS (16).
Exit 1 if any answer was wrong or any 5xx was seen, 2 if it could not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter

from stack import BENCH_DIR, rss_kib
from envoy_runner import Envoy, EnvoyError, bootstrap, listener, wasm_filter
from model import jwt_config, provider
from tokens import AUD, Tok, claims, jwks, session_keys, tamper_sig

SECONDS = int(os.environ.get("SOAK_SECONDS", "300"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "16"))
LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "soak.lua")
PROVIDERS = {"rs": ("RS256", "rsa"), "es": ("ES256", "ec256"), "ed": ("EdDSA", "ed")}
DISTINCT = 300

# tag -> expected status
EXPECTED = {"valid-rs": 200, "valid-es": 200, "valid-ed": 200, "expired": 401,
            "badsig-rs": 401, "badsig-es": 401, "wrong-aud": 403, "garbage": 401,
            "missing": 401}


def config() -> dict:
    keys = session_keys()
    providers = {
        name: provider(jwks(keys.jwk(key, kid=name, alg=alg)),
                       issuer=f"https://{name}.example", audiences=[AUD])
        for name, (alg, key) in PROVIDERS.items()
    }
    rules = [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
        {"provider_name": n} for n in PROVIDERS]}}}]
    return jwt_config(providers, rules)


def tok(name: str, **claim_overrides) -> str:
    alg, key = PROVIDERS[name]
    return Tok(alg=alg, key=key, kid=name,
               payload=claims(iss=f"https://{name}.example", **claim_overrides))()


def requests_file() -> str:
    lines = []
    for i in range(DISTINCT):
        for name in PROVIDERS:
            lines.append(("valid-" + name, tok(name, sub=f"user-{i}")))
        if i % 10 == 0:
            lines += [("expired", tok("rs", exp=int(time.time()) - 3600)),
                      ("badsig-rs", tamper_sig(tok("rs", sub=f"x{i}"))),
                      ("badsig-es", tamper_sig(tok("es", sub=f"x{i}"))),
                      ("wrong-aud", tok("ed", aud="someone-else")),
                      ("garbage", "abc.def.ghi"), ("missing", "")]
    path = BENCH_DIR / "soak-requests.txt"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{tag}\t{'Bearer ' + t if t else ''}\n" for tag, t in lines))
    return str(path)


def soak_listener() -> dict:
    ls = listener("soak", wasm_filter(config()))
    hcm = ls["filter_chains"][0]["filters"][0]["typed_config"]
    tag = [{"header": {"key": "x-tag", "value": "%REQ(x-tag)%"}}]
    hcm["route_config"]["virtual_hosts"][0]["routes"] = [{
        "match": {"prefix": "/"},
        "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}},
        "response_headers_to_add": tag,
    }]
    # Local replies (our 401/403) carry the tag too.
    hcm["local_reply_config"] = {"mappers": [{
        "filter": {"status_code_filter": {"comparison": {
            "op": "GE", "value": {"default_value": 0, "runtime_key": "soak.any"}}}},
        "headers_to_add": tag,
    }]}
    return ls


def main() -> int:
    subprocess.run(["wrk", "--version"], capture_output=True)  # presence checked by make
    print(f"soak: {SECONDS} s, {CONNECTIONS} connections; minting tokens", flush=True)
    reqs = requests_file()
    envoy = Envoy(bootstrap([soak_listener()], echo_port=9), "soak", workdir=BENCH_DIR,
                  concurrency=2)
    try:
        envoy.start()
        port = envoy.serve(["soak"])["soak"]
    except EnvoyError as e:
        print(f"soak: cannot start envoy: {e}", file=sys.stderr)
        return 2
    rss: list[tuple[str, float]] = []
    try:
        pid = envoy.proc.pid
        rss.append(("start (idle)", rss_kib(pid) / 1024))
        marks = {"after 10%": 0.1, "middle": 0.5, "after 90%": 0.9}

        def sample() -> None:
            t0 = time.monotonic()
            for label, frac in marks.items():
                time.sleep(max(0.0, t0 + frac * SECONDS - time.monotonic()))
                if envoy.exited() is None:
                    rss.append((label, rss_kib(pid) / 1024))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency",
                              "-s", LUA, f"http://127.0.0.1:{port}/", "--", reqs],
                             capture_output=True, text=True, timeout=SECONDS + 60)
        sampler.join(timeout=5)
        if envoy.exited() is not None:
            print(f"soak: envoy exited during the run\n{envoy.tail()}", file=sys.stderr)
            return 1
        rss.append(("end", rss_kib(pid) / 1024))
        log = envoy.log_path.read_text(errors="replace")
    finally:
        envoy.stop()
    counts: Counter = Counter()
    for tag, status, n in re.findall(r"^SOAK (\S+) (\d+) (\d+)$", out.stdout, re.M):
        counts[(tag, int(status))] += int(n)
    m = re.search(r"SOAK_SUMMARY requests=(\d+) duration_us=(\d+) p99_us=(\d+) errors=(\d+)",
                  out.stdout)
    if out.returncode != 0 or m is None:
        print(f"soak: wrk failed\n{out.stdout}\n{out.stderr}", file=sys.stderr)
        return 2
    requests, duration, p99, errors = (int(x) for x in m.groups())
    print(f"\nrequests: {requests:,} in {duration / 1e6:.0f} s "
          f"({requests / (duration / 1e6):,.0f}/s), p99 {p99 / 1000:.1f} ms, "
          f"socket errors {errors}")
    print("\n| tag | expected | answers | wrong |\n|---|---:|---:|---:|")
    wrong = 0
    for tag, want in EXPECTED.items():
        got = {s: n for (t, s), n in counts.items() if t == tag}
        bad = sum(n for s, n in got.items() if s != want)
        wrong += bad
        print(f"| {tag} | {want} | {sum(got.values()):,} | {bad:,} {'' if not bad else got} |")
    unknown = {k: n for k, n in counts.items() if k[0] not in EXPECTED}
    server_errors = sum(n for (_, s), n in counts.items() if s >= 500)
    print(f"\nuntagged/unknown answers: {sum(unknown.values())}; 5xx: {server_errors}")
    print("\n| when | Envoy VmRSS |\n|---|---:|")
    for label, mib in rss:
        print(f"| {label} | {mib:.1f} MiB |")
    panics = len(re.findall(r"panicked|wasm.*fail", log))
    print(f"\nwasm panics/failures in the Envoy log: {panics}")
    ok = wrong == 0 and not unknown and server_errors == 0 and panics == 0 and errors == 0
    print("soak: OK" if ok else "soak: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
