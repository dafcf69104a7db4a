"""Harness for the wasm-only extension tests (test_authz, test_hardening).

The native jwt_authn refuses jwt-guard's extension fields, so these tests have
no parity reference: their expectations are written by hand from the
contract. Per test module, one Envoy serves several wasm listeners (one per
config) in front of one echo upstream; configs that must be refused each get
a short-lived Envoy of their own, all started at once, since a refused
listener stops its whole Envoy.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from client import Response, send
from echo import EchoServer
from envoy_runner import (NATIVE_ONLY, WASM, Envoy, EnvoyError, bootstrap, listener,
                          static_cluster, wasm_filter)
from model import HOST, Resolved

REALM = f"http://{HOST}"  # the realm is http://<host><path?query>

# Marks a module whose tests need the wasm module: these tests have no native
# half, so a native-only run skips them (it has no wasm by definition).
needs_wasm = pytest.mark.skipif(NATIVE_ONLY,
                                reason="JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")


def _require_wasm() -> None:
    if not WASM.exists():
        # Fail, never skip: a missing module is a broken build, not a pass.
        pytest.fail(f"{WASM} not found: run `make build`")


def bearer_request(token: str | None, path: str = "/", method: str = "GET",
                   headers: list | None = None) -> Resolved:
    """A request to HOST, the token (if any) as `Authorization: Bearer`,
    then `headers`."""
    hdrs = [("host", HOST)]
    if token is not None:
        hdrs.append(("authorization", f"Bearer {token}"))
    hdrs += headers or []
    return Resolved(method, path, hdrs, None, {}, None)


@dataclass
class WasmStack:
    envoy: Envoy
    ports: dict[str, int]

    def send(self, name: str, path: str = "/", token: str | None = None,
             method: str = "GET", headers: list | None = None) -> Response:
        """One request to listener `name`, the token as `Authorization: Bearer`."""
        return send(self.ports[name], bearer_request(token, path, method, headers))


@contextmanager
def wasm_stack(stack_name: str, configs: dict[str, dict],
               clusters: dict[str, int] | None = None):
    """One Envoy with a wasm listener per config (listener name = dict key),
    and a static cluster per `clusters` entry (name -> local port)."""
    _require_wasm()
    echo = EchoServer().start()
    extra = [static_cluster(n, port) for n, port in (clusters or {}).items()]
    envoy = Envoy(bootstrap([listener(n, wasm_filter(c)) for n, c in configs.items()],
                            echo.port, extra_clusters=extra), stack_name).start()
    try:
        try:
            ports = envoy.serve(configs)
        except EnvoyError as e:
            pytest.fail(f"the configs did not load:\n{config_errors(envoy)}\n{e}")
        yield WasmStack(envoy, ports)
    finally:
        envoy.stop()
        echo.stop()


# ---------------------------------------------------------------- assertions

def check(resp: Response, status: int, body: str | None = None,
          www_authenticate: str | None = None, content_type: str | None = None) -> None:
    """Assert one answer; for 200 also that it came from the upstream, for
    anything else that it is a local reply (never a leak to the service)."""
    text = resp.body.decode(errors="replace")
    got = {"status": resp.status, "body": text,
           "www-authenticate": resp.header("www-authenticate"),
           "content-type": resp.header("content-type")}
    problems = []
    if resp.status != status:
        problems.append(f"status {resp.status}, expected {status}")
    if status == 200 and not resp.from_upstream:
        problems.append("expected to reach the upstream; got a local reply")
    if status != 200 and resp.from_upstream:
        problems.append("expected a local reply; the request reached the upstream")
    if body is not None and text != body:
        problems.append(f"body {text!r}, expected {body!r}")
    if www_authenticate is not None and got["www-authenticate"] != www_authenticate:
        problems.append(f"www-authenticate {got['www-authenticate']!r}, "
                        f"expected {www_authenticate!r}")
    if content_type is not None and got["content-type"] != content_type:
        problems.append(f"content-type {got['content-type']!r}, expected {content_type!r}")
    assert not problems, "; ".join(problems) + f"\n  answer: {got}"


def upstream_headers(resp: Response) -> dict[str, list[str]]:
    """Headers the echo upstream received, name -> all values."""
    seen: dict[str, list[str]] = {}
    for name, value in json.loads(resp.body)["headers"]:
        seen.setdefault(name, []).append(value)
    return seen


# ---------------------------------------------------------------- refusals

CONFIG_ERROR = "jwt-guard: config error:"


def config_errors(envoy: Envoy) -> list[str]:
    return [ln for ln in envoy.log_text().splitlines() if CONFIG_ERROR in ln]


@dataclass
class Refusal:
    refused: bool        # Envoy exited, or came up without the listener
    errors: list[str]    # log lines carrying our config error
    tail: str


def try_configs(stack_name: str, configs: dict[str, dict]) -> dict[str, Refusal]:
    """Start one Envoy per config, all at once (each refusal ends its Envoy),
    and report for each whether the wasm listener was refused."""
    _require_wasm()
    envoys = {}
    try:
        for name, cfg in configs.items():
            # The cluster is never contacted: the listener must not even load.
            envoys[name] = Envoy(bootstrap([listener("wasm", wasm_filter(cfg))], echo_port=9),
                                 f"{stack_name}-{name}").start()
        out = {}
        for name, envoy in envoys.items():
            # Neither ready nor exited in time raises EnvoyError: a hang fails too.
            rc = envoy.wait_exit_or_ready(timeout=60)
            refused = rc is not None or "wasm" not in envoy.listener_ports()
            out[name] = Refusal(refused, config_errors(envoy), envoy.tail(15))
        return out
    finally:
        for envoy in envoys.values():
            envoy.stop()


def assert_refused(result: Refusal, path_fragment: str) -> None:
    assert result.refused, f"Envoy accepted the listener with a bad config\n{result.tail}"
    assert any(path_fragment in ln for ln in result.errors), (
        f"no `{CONFIG_ERROR}` line naming {path_fragment!r}; ours: {result.errors}\n"
        f"{result.tail}")
