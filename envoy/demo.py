"""jwt-guard demo: Envoy with our wasm filter in front of an echo upstream.

Run with `make demo`. It generates an RSA key (so its JWKS goes into
envoy/demo.json's provider and tokens are fresh), starts the echo upstream and
Envoy on 127.0.0.1:$DEMO_PORT (default 10000), prints curl commands with the
expected answers, runs them once itself (OK / MISMATCH) and keeps running
until Ctrl-C.

  DEMO_PORT=10001     another listener port
  DEMO_ONESHOT=1      exit after the self-check (non-zero on any mismatch)
  DEMO_FILTER=native  use Envoy's own jwt_authn instead of the wasm (reference);
                      jwt-guard's extension fields (the scope rule) are stripped,
                      since the native filter refuses them, and their cases skipped
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))  # share the e2e harness

from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from jwt.algorithms import RSAAlgorithm  # noqa: E402

from client import send  # noqa: E402
from echo import EchoServer  # noqa: E402
from envoy_runner import (WASM, Envoy, EnvoyError, bootstrap, listener,  # noqa: E402
                          native_filter, wasm_filter)
from model import Resolved  # noqa: E402
from tokens import Rel, Tok  # noqa: E402

KID = "demo-1"

# jwt-guard's additive fields (docs/configuration.md, "Beyond Envoy"): Envoy's own
# jwt_authn refuses a config that has any of them.
EXTENSION_TOP = ("problem_details",)
EXTENSION_RULE = ("authorize",)
EXTENSION_PROVIDER = ("allowed_algorithms", "required_typ", "max_auth_age", "required_claims",
                      "min_rsa_key_bits", "reject_unknown_crit", "honor_key_use")


def demo_config(key) -> dict:
    cfg = json.loads((REPO / "envoy" / "demo.json").read_text())
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=KID, alg="RS256", use="sig")
    cfg["providers"]["demo"]["local_jwks"]["inline_string"] = json.dumps({"keys": [jwk]})
    return cfg


def without_extensions(cfg: dict) -> dict:
    """The config as Envoy's native filter accepts it."""
    out = {k: v for k, v in cfg.items() if k not in EXTENSION_TOP}
    out["providers"] = {name: {k: v for k, v in p.items() if k not in EXTENSION_PROVIDER}
                        for name, p in cfg["providers"].items()}
    out["rules"] = [{k: v for k, v in r.items() if k not in EXTENSION_RULE}
                    for r in cfg.get("rules", [])]
    return out


def mint(key, cfg: dict, **overrides) -> str:
    prov = cfg["providers"]["demo"]
    payload = {"iss": prov["issuer"], "aud": prov["audiences"][0], "sub": "demo-user",
               "iat": Rel(0), "exp": Rel(3600)}
    payload.update(overrides)
    return Tok(alg="RS256", key=key, kid=KID, payload=payload)()


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    port = int(os.environ.get("DEMO_PORT", "10000"))
    use_native = os.environ.get("DEMO_FILTER") == "native"
    oneshot = os.environ.get("DEMO_ONESHOT") == "1"
    if not use_native and not WASM.exists():
        print(f"{WASM} not found: run `make build` first", file=sys.stderr)
        return 2

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cfg = demo_config(key)
    flt = native_filter(without_extensions(cfg)) if use_native else wasm_filter(cfg)
    echo = EchoServer().start()
    envoy = Envoy(bootstrap([listener("demo", flt, port=port)], echo.port), "demo",
                  workdir=REPO / ".cache" / "demo")
    try:
        envoy.start()
        envoy.wait_ready(timeout=60)
        if "demo" not in envoy.listener_ports():
            raise EnvoyError(f"listener not up\n{envoy.tail()}")
        print(f"jwt-guard demo ({'native jwt_authn' if use_native else 'wasm'}) on "
              f"127.0.0.1:{port}; Envoy log: {envoy.log_path}\n")
        ok = self_check(port, key, cfg, extensions=not use_native)
        if oneshot:
            return 0 if ok else 1
        print("\nRunning; Ctrl-C to stop.")
        threading.Event().wait()
    except KeyboardInterrupt:
        print()
        return 0
    except EnvoyError as e:
        print(f"Envoy failed to start:\n{e}", file=sys.stderr)
        return 1
    finally:
        envoy.stop()
        echo.stop()


@dataclass
class Case:
    what: str
    path: str
    token: str | None
    status: int
    www_authenticate: str | None = None  # checked when given
    extension: bool = False              # needs jwt-guard's extensions (wasm only)


def cases(port: int, key, cfg: dict) -> list[Case]:
    valid = mint(key, cfg)  # no scope claim
    reader = mint(key, cfg, scope="orders:read")
    expired = mint(key, cfg, iat=Rel(-7200), exp=Rel(-3600))
    wrong_aud = mint(key, cfg, aud="https://someone-else.example.com")
    # curl sends Host: 127.0.0.1:<port>; the realm is built from it.
    orders_realm = f'Bearer realm="http://127.0.0.1:{port}/api/orders"'
    return [
        Case("no token", "/api/hello", None, 401),
        Case("valid token", "/api/hello", valid, 200),
        Case("expired token", "/api/hello", expired, 401),
        Case("wrong audience", "/api/hello", wrong_aud, 403),
        Case("/public without token", "/public/info", None, 200),
        # /api/orders: authenticated is not enough, the token needs the scope.
        Case("valid token without scope orders:read", "/api/orders", valid, 403,
             f'{orders_realm}, error="insufficient_scope", scope="orders:read"',
             extension=True),
        Case("token with scope orders:read", "/api/orders", reader, 200, extension=True),
    ]


def self_check(port: int, key, cfg: dict, extensions: bool = True) -> bool:
    all_ok = True
    for case in cases(port, key, cfg):
        if case.extension and not extensions:
            print(f"# {case.what}: skipped (jwt-guard extension; native filter)\n")
            continue
        headers = [("host", f"127.0.0.1:{port}")]  # what curl sends
        curl = ["curl", "-i"]
        if case.token:
            headers.append(("authorization", f"Bearer {case.token}"))
            curl += ["-H", f"Authorization: Bearer {case.token}"]
        curl.append(f"http://127.0.0.1:{port}{case.path}")
        expect = f"{case.status}"
        if case.www_authenticate:
            expect += f" with WWW-Authenticate: {case.www_authenticate}"
        print(f"# {case.what}: expect {expect}")
        print(" ".join(shlex.quote(a) for a in curl))
        resp = send(port, Resolved("GET", case.path, headers, None, {}, None))
        got_www = resp.header("www-authenticate")
        detail = (resp.body.decode(errors="replace") if not resp.from_upstream
                  else f"upstream saw x-user={dict(resp.upstream()['headers']).get('x-user')}")
        if case.www_authenticate:
            detail += f"\n     WWW-Authenticate: {got_www}"
        ok = resp.status == case.status and (case.www_authenticate is None
                                             or got_www == case.www_authenticate)
        all_ok &= ok
        print(f"  -> {resp.status} {detail}   {'OK' if ok else 'MISMATCH'}\n", flush=True)
    print("self-check:", "all OK" if all_ok else "MISMATCH found")
    return all_ok


if __name__ == "__main__":
    sys.exit(main())
