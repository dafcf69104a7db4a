"""jwt-guard demo: Envoy with our wasm filter in front of an echo upstream.

Run with `make demo`. It generates an RSA key (so its JWKS goes into
envoy/demo.json's provider and tokens are fresh), starts the echo upstream and
Envoy on 127.0.0.1:$DEMO_PORT (default 10000), prints curl commands with the
expected answers, runs them once itself (OK / MISMATCH) and keeps running
until Ctrl-C.

  DEMO_PORT=10001     another listener port
  DEMO_ONESHOT=1      exit after the self-check (non-zero on any mismatch)
  DEMO_FILTER=native  use Envoy's own jwt_authn instead of the wasm (reference)
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
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


def demo_config(key) -> dict:
    cfg = json.loads((REPO / "envoy" / "demo.json").read_text())
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=KID, alg="RS256", use="sig")
    cfg["providers"]["demo"]["local_jwks"]["inline_string"] = json.dumps({"keys": [jwk]})
    return cfg


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
    flt = native_filter(cfg) if use_native else wasm_filter(cfg)
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
        ok = self_check(port, key, cfg)
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


def self_check(port: int, key, cfg: dict) -> bool:
    valid = mint(key, cfg)
    expired = mint(key, cfg, iat=Rel(-7200), exp=Rel(-3600))
    wrong_aud = mint(key, cfg, aud="https://someone-else.example.com")
    cases = [  # (what, path, token, expected status)
        ("no token", "/api/hello", None, 401),
        ("valid token", "/api/hello", valid, 200),
        ("expired token", "/api/hello", expired, 401),
        ("wrong audience", "/api/hello", wrong_aud, 403),
        ("/public without token", "/public/info", None, 200),
    ]
    all_ok = True
    for what, path, token, expected in cases:
        headers = [("host", f"127.0.0.1:{port}")]  # what curl sends
        curl = ["curl", "-i"]
        if token:
            headers.append(("authorization", f"Bearer {token}"))
            curl += ["-H", f"Authorization: Bearer {token}"]
        curl.append(f"http://127.0.0.1:{port}{path}")
        print(f"# {what}: expect {expected}")
        print(" ".join(shlex.quote(a) for a in curl))
        resp = send(port, Resolved("GET", path, headers, None, {}, None))
        got = resp.status
        detail = (resp.body.decode(errors="replace") if not resp.from_upstream
                  else f"upstream saw x-user={dict(resp.upstream()['headers']).get('x-user')}")
        verdict = "OK" if got == expected else "MISMATCH"
        all_ok &= got == expected
        print(f"  -> {got} {detail}   {verdict}\n", flush=True)
    print("self-check:", "all OK" if all_ok else "MISMATCH found")
    return all_ok


if __name__ == "__main__":
    sys.exit(main())
