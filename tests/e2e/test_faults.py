"""Faults around configuration: a listener served over LDS (a watched file)
is updated while a stream of requests runs against it.

- an invalid jwt-guard config: Envoy rejects the update (our on_configure
  fails with the JSON path in the log) and keeps serving the old config;
- a valid new config with a new vm_id: Envoy starts a new VM (a VM restart)
  and the new rules apply;
- at no point does a request without a valid token reach the upstream.

Remote JWKS faults (IdP down, slow, 500, garbage, oversize) are in
test_remote_jwks.py.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from echo import EchoServer
from envoy_runner import CACHE, Envoy, listener, wasm_filter
from model import jwt_config, provider
from tokens import AUD, Tok, claims, jwks, session_keys, tamper_sig

pytestmark = pytest.mark.skipif(os.environ.get("JWT_GUARD_NATIVE_ONLY") == "1",
                                reason="wasm-only")

WORKDIR = CACHE / "faults"


def _cfg(audiences: list[str]) -> dict:
    keyset = jwks(session_keys().jwk("rsa", kid="k1"))
    return jwt_config({"p": provider(keyset, audiences=audiences)})


def _listener(cfg: dict, vm_id: str, port: int) -> dict:
    f = wasm_filter(cfg)
    f["typed_config"]["config"]["vm_config"]["vm_id"] = vm_id
    return listener("guarded", f, port=port)


def _write_lds(path: Path, version: str, ls: dict) -> None:
    """Replace the LDS file atomically (rename), as Envoy's watcher expects."""
    doc = {"version_info": version, "resources": [
        {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", **ls}]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


def _stat(envoy: Envoy, name: str) -> int:
    import urllib.request
    with urllib.request.urlopen(f"{envoy.admin}/stats?filter=^{name}$&format=json",
                                timeout=5) as r:
        stats = json.load(r).get("stats", [])
    return next((int(s.get("value", 0)) for s in stats if s.get("name") == name), 0)


def _wait(pred, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)  # polling interval
    raise AssertionError(f"timed out waiting for {what}")


def _get(port: int, token: str | None) -> str:
    """`upstream 200`, `local 401`, ... or the connection error's name."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", "/orders", headers=headers)
        r = conn.getresponse()
        r.read()
        return f"{'upstream' if r.getheader('x-echo') == '1' else 'local'} {r.status}"
    except OSError as e:
        return type(e).__name__
    finally:
        conn.close()


class Stream:
    """Requests in a loop from a thread, counted per (kind, outcome)."""

    def __init__(self, port: int, tokens: dict[str, str | None]) -> None:
        self.port, self.tokens = port, tokens
        self.seen: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for kind, tok in self.tokens.items():
                self.seen[(kind, _get(self.port, tok))] += 1

    def __enter__(self) -> "Stream":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _free_port() -> int:
    # The listener must keep one port across updates (an LDS update with
    # port 0 would be a new address); bound and released just before use.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_update_keeps_old_config_and_new_vm_applies_new_rules_without_a_gap():
    WORKDIR.mkdir(parents=True, exist_ok=True)
    lds = WORKDIR / "lds.json"
    echo = EchoServer().start()
    port = _free_port()
    _write_lds(lds, "1", _listener(_cfg([AUD]), "jwt_guard_v1", port))
    boot = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "node": {"id": "faults", "cluster": "faults"},
        "dynamic_resources": {"lds_config": {
            "resource_api_version": "V3",
            "path_config_source": {"path": str(lds), "watched_directory": {"path": str(WORKDIR)}},
        }},
        "static_resources": {"clusters": [{
            "name": "echo", "type": "STATIC", "connect_timeout": "2s",
            "load_assignment": {"cluster_name": "echo", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {
                    "address": "127.0.0.1", "port_value": echo.port}}}}]}]},
        }]},
    }
    envoy = Envoy(boot, "faults", workdir=WORKDIR, concurrency=2).start()
    try:
        envoy.serve(["guarded"])
        good = Tok(kid="k1")()
        other_aud = Tok(kid="k1", payload=claims(aud="other"))()
        tokens = {"good": good, "other-aud": other_aud, "forged": tamper_sig(good),
                  "expired": Tok(kid="k1", payload=claims(exp=int(time.time()) - 3600))(),
                  "missing": None}
        assert _get(port, good) == "upstream 200"
        assert _get(port, tamper_sig(good)) == "local 401"

        with Stream(port, tokens) as stream:
            time.sleep(0.5)
            # 1. An invalid jwt-guard config: refused, the old one keeps serving.
            rejected = _stat(envoy, "listener_manager.lds.update_rejected")
            bad = _cfg([AUD])
            bad["providers"]["p"]["no_such_field"] = 1
            _write_lds(lds, "2", _listener(bad, "jwt_guard_v2", port))
            _wait(lambda: _stat(envoy, "listener_manager.lds.update_rejected") > rejected,
                  "the bad update to be rejected")
            log = envoy.log_path.read_text(errors="replace")
            assert "jwt-guard: config error: providers.p.no_such_field: unknown field" in log
            time.sleep(0.5)
            assert _get(port, good) == "upstream 200"
            assert _get(port, other_aud) == "local 403"

            # 2. A valid config with a new vm_id (a new VM) and other audiences.
            ok = _stat(envoy, "listener_manager.lds.update_success")
            _write_lds(lds, "3", _listener(_cfg(["other"]), "jwt_guard_v3", port))
            _wait(lambda: _stat(envoy, "listener_manager.lds.update_success") > ok,
                  "the good update to apply")
            _wait(lambda: _get(port, other_aud) == "upstream 200", "the new rules to serve")
            time.sleep(0.5)
            assert _get(port, good) == "local 403"
        seen = stream.seen
    finally:
        envoy.stop()
        echo.stop()

    print("faults: request stream across both updates:", dict(sorted(seen.items(), key=str)))
    reached = {kind: n for (kind, outcome), n in seen.items() if outcome.startswith("upstream")}
    # Never a pass without a valid token, before, during or after the updates.
    for kind in ("forged", "expired", "missing"):
        assert kind not in reached, f"{kind} token reached the upstream: {seen}"
        assert seen[(kind, "local 401")] > 0
    # Both configs served in turn: the good token passed under the first,
    # the other-audience one under the second.
    assert reached.get("good", 0) > 0 and reached.get("other-aud", 0) > 0
    assert not any(o.split()[-1].startswith("5") for (_, o) in seen), seen
    assert "panic" not in envoy.log_path.read_text(errors="replace").lower()
