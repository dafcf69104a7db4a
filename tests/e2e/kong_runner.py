"""nginx + ngx_wasm_module (the wasm host Kong 3.4-3.9 embed) for the e2e
suite: nginx.conf generation and process control.

One nginx serves one `server` per named site (like Envoy's listeners: name ->
jwt-guard config), each proxying to the echo upstream. nginx cannot listen on
port 0 and tell us the port, so ports are picked free beforehand and a start
that loses the race for one is retried with new ports.

The host is built by `tests/kong/host/build.sh` (see docs there);
`JWT_GUARD_KONG_NGINX` points at another nginx binary.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from envoy_runner import CACHE, REPO, WASM

BUILD_SCRIPT = REPO / "tests" / "kong" / "host" / "build.sh"
CONFIG_ERROR = "jwt-guard: config error:"

# nginx reads nginx.conf through a 4 KiB buffer, and one parameter must fit
# in it: 4094 bytes between the quotes pass, 4095 are "too long parameter"
# (nginx 1.27.4). A jwt-guard config given inline in nginx.conf is one
# parameter (Kong itself hands configs over from Lua, without this cap).
NGINX_PARAM_MAX = 4094

# Error-log lines that mean the host or the module broke: a worker killed by a
# signal, a wasm trap, and anything nginx logs at crit/alert/emerg.
PROBLEM = re.compile(r"signal|trap|\[crit\]|\[alert\]|\[emerg\]", re.IGNORECASE)
HARMLESS = [
    # The master logging the signals it handles (SIGCHLD when a worker exits,
    # SIGQUIT/SIGTERM at shutdown) at notice level; a worker that died on a
    # signal is logged separately, at alert level ("exited on signal 11").
    re.compile(r"\[notice\] .*signal \d+ \(SIG[A-Z]+\) received"),
    # The host has no `plugin_vm_id` property and says so at alert level when
    # the SDK asks for it; jwt-guard does not depend on it.
    re.compile(r"\[alert\] .*plugin_vm_id"),
]


def nginx_binary() -> Path:
    """The nginx to run: JWT_GUARD_KONG_NGINX, else the build script's path."""
    env = os.environ.get("JWT_GUARD_KONG_NGINX")
    if env:
        return Path(env)
    out = subprocess.run([str(BUILD_SCRIPT), "--path"], check=True,
                         capture_output=True, text=True)
    return Path(out.stdout.strip())


def require_nginx() -> Path:
    """The nginx binary, or the end of the test: a fail where the Kong host is
    required (`JWT_GUARD_REQUIRE_KONG=1`, as `make test` runs), else a skip."""
    path = nginx_binary()
    if not os.access(path, os.X_OK):
        if os.environ.get("JWT_GUARD_REQUIRE_KONG") == "1":
            pytest.fail(f"{path} not found and JWT_GUARD_REQUIRE_KONG=1: "
                        "run tests/kong/host/build.sh")
        pytest.skip("run make kong-host")
    if not WASM.exists():
        # Fail, never skip: a missing module is a broken build, not a pass.
        pytest.fail(f"{WASM} not found: run `make build`")
    return path


# ---------------------------------------------------------------- nginx.conf

def nginx_quote(text: str) -> str:
    """`text` as one single-quoted nginx token. Inside one, nginx turns `\\\\`
    into `\\` and `\\'` into `'` and keeps every other character as is."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def filter_config_token(cfg: dict) -> str:
    """The jwt-guard config as nginx reads it; compact JSON, since the token
    has to fit nginx's buffer."""
    token = nginx_quote(json.dumps(cfg, separators=(",", ":")))
    if len(token) - 2 > NGINX_PARAM_MAX:
        raise ValueError(f"jwt-guard config is {len(token) - 2} bytes in nginx.conf; "
                         f"nginx refuses a parameter over {NGINX_PARAM_MAX}")
    return token


def kong_conf_shm_kv(path: Path = REPO / "deploy" / "kong" / "kong.conf") -> list[str]:
    """The wasm{} `shm_kv` lines Kong renders from a kong.conf:
    `nginx_wasm_shm_kv_<name> = <size>` becomes `shm_kv <name> <size>;`, and
    `nginx_wasm_main_shm_kv = <size>` becomes `shm_kv * <size>;`."""
    zones = []
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == "nginx_wasm_main_shm_kv":
            zones.append(f"shm_kv * {value};")
        elif key.startswith("nginx_wasm_shm_kv_"):
            zones.append(f"shm_kv {key.removeprefix('nginx_wasm_shm_kv_')} {value};")
    return zones


# The shared-data zone the sites run with: the one deploy/kong/kong.conf
# declares, so every Kong test also checks that it is the zone jwt-guard's
# keys land in (a read outside any zone traps).
DEPLOY_SHM_KV = kong_conf_shm_kv()


def nginx_conf(workdir: Path, sites: dict[str, dict], ports: dict[str, int],
               echo_port: int, workers: int = 1,
               shm_kv: list[str] | None = None, log_level: str = "info") -> str:
    site_blocks = "".join(f"""
    server {{  # {name}
        listen 127.0.0.1:{ports[name]};
        location / {{
            proxy_wasm jwt_guard {filter_config_token(cfg)};
            # With a URI part ("/"), nginx sends the request's current path
            # and query (a `:path` the filter set; a bare `proxy_pass
            # http://echo;` sends the client's request line instead) with
            # its percent-encoding restored. `$uri$is_args$args` would send
            # the decoded path as is: `%20` as a space, `%3F` as `?`.
            proxy_pass http://echo/;
        }}
    }}
""" for name, cfg in sites.items())
    temp = "".join(f"    {kind}_temp_path {workdir / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""\
worker_processes {workers};
error_log {workdir / 'error.log'} {log_level};
pid {workdir / 'nginx.pid'};

events {{}}

wasm {{
    module jwt_guard {WASM.resolve()};
{''.join(f"    {z}{chr(10)}" for z in (DEPLOY_SHM_KV if shm_kv is None else shm_kv))}
}}

http {{
    access_log off;
{temp}
    upstream echo {{
        server 127.0.0.1:{echo_port};
        keepalive 16;  # pooled upstream connections, as Kong runs them
    }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    # The client's Host, as Envoy forwards it (nginx's default is the
    # upstream's name).
    proxy_set_header Host $http_host;
{site_blocks}}}
"""


def free_ports(n: int) -> list[int]:
    """`n` distinct ports free right now: every socket stays bound until all
    are chosen, since the kernel may hand a just-released port out again
    (two sites on one port: nginx answers both with the first site's
    config). Another process may still take one before nginx binds it,
    which `Kong.start` handles by retrying."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# ---------------------------------------------------------------- process

class KongError(RuntimeError):
    pass


class Kong:
    """One nginx with ngx_wasm_module: start, wait until every site answers,
    look up ports, check its health, stop."""

    def __init__(self, name: str, sites: dict[str, dict], echo_port: int,
                 workers: int = 1, shm_kv: list[str] | None = None,
                 log_level: str = "info") -> None:
        """`shm_kv`: the wasm{} zone lines, by default deploy/kong/kong.conf's
        ([] for none); `log_level`: the error log's."""
        CACHE.mkdir(parents=True, exist_ok=True)
        self.nginx = require_nginx()
        self.name = name
        self.sites = sites
        self.echo_port = echo_port
        self.workers = workers
        self.shm_kv = shm_kv
        self.log_level = log_level
        self.dir = Path(tempfile.mkdtemp(prefix=f"kong-{name}-", dir=CACHE))
        self.conf_path = self.dir / "nginx.conf"
        self.log_path = self.dir / "error.log"
        self.ports: dict[str, int] = {}
        self.proc: subprocess.Popen | None = None
        self.worker_pids: set[int] = set()

    def port(self, name: str) -> int:
        return self.ports[name]

    def start(self, timeout: float = 30.0, attempts: int = 5) -> "Kong":
        """Start nginx and wait until every site answers; new ports and
        another try when a port was taken in the meantime."""
        for _ in range(attempts):
            self.ports = dict(zip(self.sites, free_ports(len(self.sites))))
            self.conf_path.write_text(nginx_conf(self.dir, self.sites, self.ports,
                                                 self.echo_port, self.workers, self.shm_kv,
                                                 self.log_level))
            self.log_path.write_text("")
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (self.dir / kind).mkdir(exist_ok=True)
            stderr = open(self.dir / "stderr.log", "wb")
            self.proc = subprocess.Popen(
                [str(self.nginx), "-p", str(self.dir), "-c", str(self.conf_path),
                 "-e", str(self.log_path), "-g", "daemon off;"],
                stdout=stderr, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            stderr.close()
            try:
                self._wait_ready(timeout)
                return self
            except KongError:
                self.stop()
                if f"({errno.EADDRINUSE}: " not in self.log_text():
                    raise
        raise KongError(f"nginx {self.name}: ports kept being taken\n{self.tail()}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(self.sites)
        while waiting:
            rc = self.proc.poll()
            if rc is not None:
                raise KongError(f"nginx {self.name} exited with {rc}\n{self.tail()}")
            # A refused config leaves the site's requests hanging, not failing.
            if CONFIG_ERROR in self.log_text():
                raise KongError(f"nginx {self.name}: a config was refused\n{self.tail()}")
            if time.monotonic() > deadline:
                raise KongError(f"nginx {self.name}: no answer from {sorted(waiting)} "
                                f"after {timeout}s\n{self.tail()}")
            waiting = {n for n in waiting if not _answers(self.ports[n], timeout=2)}
            if waiting:
                time.sleep(0.05)  # polling interval, not a wait for an event
        # The master forks its workers one by one; the set is complete once
        # each has started.
        while len(self._children()) < self.workers:
            if time.monotonic() > deadline:
                raise KongError(f"nginx {self.name}: {len(self._children())} of "
                                f"{self.workers} workers up\n{self.tail()}")
            time.sleep(0.05)
        self.worker_pids = self._children()

    def _children(self) -> set[int]:
        """PIDs of the master's child processes (its workers)."""
        pids = set()
        master = self.proc.pid
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # The command name (2nd field) is in parentheses and may hold
                # spaces: the parent PID is the 2nd field after the last ')'.
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited while we looked
            if int(fields[1]) == master:
                pids.add(int(stat.parent.name))
        return pids

    # ------------------------------------------------------------ health

    def worker_problems(self, site: str | None = None, requests: int | None = None) -> list[str]:
        """Why the workers are not all serving: nginx gone, a worker replaced
        (the master respawns one killed by a signal under a new PID), or a
        request on a fresh connection (which any worker may accept) without
        an answer. Empty when all is well."""
        if self.proc is None or self.proc.poll() is not None:
            return [f"nginx is not running (exit code {self.proc and self.proc.poll()})"]
        p = []
        site = site or next(iter(self.sites))
        count = requests or 4 * self.workers
        unanswered = sum(not _answers(self.ports[site]) for _ in range(count))
        if unanswered:
            p.append(f"{unanswered} of {count} requests to {site} got no answer")
        now = self._children()
        if now != self.worker_pids:
            p.append(f"workers {sorted(self.worker_pids)} at start, now {sorted(now)}")
        return p

    def workers_alive(self, site: str | None = None, requests: int | None = None) -> bool:
        return not self.worker_problems(site, requests)

    def problems(self) -> list[str]:
        """Error-log lines that mean a crash, a trap or a serious host error."""
        return [ln for ln in self.log_text().splitlines()
                if PROBLEM.search(ln) and not any(h.search(ln) for h in HARMLESS)]

    # ------------------------------------------------------------ logs

    def log_text(self) -> str:
        text = ""
        for path in (self.dir / "stderr.log", self.log_path):
            try:
                text += path.read_text(errors="replace")
            except OSError:
                pass
        return text

    def tail(self, lines: int = 30) -> str:
        text = self.log_text().splitlines()
        return "\n".join(text[-lines:]) if text else "(empty nginx log)"

    def stop(self) -> None:
        """Stop nginx (SIGTERM: fast shutdown, workers included)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            workers = self._children()
            self.proc.kill()
            self.proc.wait(timeout=10)
            for pid in workers:  # workers outlive a killed master
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _answers(port: int, timeout: float = 5.0) -> bool:
    """Whether a request on a new connection gets any HTTP answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


@contextmanager
def serving(name: str, sites: dict[str, dict], echo_port: int, workers: int = 1,
            shm_kv: list[str] | None = None, healthy: bool = True,
            log_level: str = "info") -> Iterator[Kong]:
    """nginx serving `sites` for one test; afterwards (when `healthy`) no
    crash, trap or serious error in its log, and every worker still up."""
    host = Kong(name, sites, echo_port, workers=workers, shm_kv=shm_kv, log_level=log_level)
    try:
        try:
            host.start()
        except KongError as e:
            pytest.fail(str(e))
        yield host
        if healthy:
            found = host.problems()
            assert found == [], "nginx error log:\n" + "\n".join(found[:20])
            assert host.workers_alive(), "; ".join(host.worker_problems())
    finally:
        host.stop()
