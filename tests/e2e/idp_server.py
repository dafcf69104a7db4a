"""A small controllable identity provider for the remote JWKS / discovery tests.

`IdP` serves `/jwks.json` and `/.well-known/openid-configuration` on
127.0.0.1 from a `ThreadingHTTPServer`. Its port is fixed when the object is
built (port 0 picks one), before Envoy's bootstrap names it, and stays the same
across `down()` / `up()`. Everything is controlled from Python:

* `set_keys(*jwks)` / `set_jwks_text(text)`: what `/jwks.json` answers (rotate).
* `set_discovery(issuer=..., jwks_uri=...)`: the discovery document.
* `respond(mode, path=None)`: `"ok"`, `"500"`, `"garbage"` (200, not JSON) or
  `"oversize"` (200, a JWKS padded past 1 MiB); for one path or every path.
  `fail_next(n, mode)`: the next n requests of a path answer `mode`, then ok.
* `set_delay(ms)`: wait before answering (a slow IdP).
* `down()`: connection refused (the socket stays bound, not listening, so
  nobody takes the port) and open keep-alive connections are closed;
  `up()`: listening again on the same port. `IdP(start_down=True)` starts down.
* `count(path)`, `wait_count(path, n, timeout)`: requests received per path
  (counted on arrival, query string included in the path; thread-safe),
  `requests(path)`: their headers, for checking `:authority`/`host`.

No HTTP control endpoints: tests hold the object.

`ControlledServer` and `TrackedHandler` are the part shared with the other
controllable servers (introspection_server.py): the fixed port, `up()`,
`down()`, `stop()`, `set_delay(ms)` and the condition the counters wait on.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JWKS_PATH = "/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"
OVERSIZE_BYTES = (1 << 20) + 64 * 1024  # a little past the 1 MiB limit
MODES = ("ok", "500", "garbage", "oversize")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A listen backlog for bursts: on Kong's host every waiting request
    # connects on its own, and beyond the default 5 the kernel drops SYNs
    # (the client retries after 1 s, 3 s, 7 s...).
    request_queue_size = 128
    allow_reuse_address = True  # rebinding the same port after down()

    def __init__(self, owner: "ControlledServer", port: int) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", port), owner.handler, bind_and_activate=False)
        self.server_bind()  # bound, not listening: connects are refused


class TrackedHandler(BaseHTTPRequestHandler):
    """Base of the servers' handlers: HTTP/1.1 keep-alive (Envoy pools
    connections), every open connection known to the owner (so down() can
    drop it), nothing logged."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def reply(self, status: int, ctype: str, body: bytes, headers=()) -> None:
        """Send one complete answer; a peer that went away is not an error."""
        try:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # Envoy gave up (timeout) or we went down meanwhile

    def log_message(self, fmt, *args) -> None:  # keep pytest output clean
        pass


class ControlledServer:
    """What the controllable servers share: a `ThreadingHTTPServer` on
    127.0.0.1 whose port is fixed at construction and kept across
    `down()`/`up()`, a delay before answering, and a condition (`_lock`)
    guarding the subclass's counters. Subclasses set `handler` and call
    `up()` when they are ready to serve."""

    handler: type[TrackedHandler]
    thread_name = "server"

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._delay = 0.0
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server = _Server(self, 0)
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def set_delay(self, ms: float) -> None:
        with self._lock:
            self._delay = ms / 1000.0

    def up(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._server.server_activate()  # listen()
        # A short poll interval: down() (shutdown) returns within 50 ms.
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"{self.thread_name}-{self.port}", daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Refuse connections from now on and drop the open ones."""
        if self._thread is None:
            return
        self._stopping.set()  # wakes delayed handlers
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._thread = None
        self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # Same port, bound but not listening: connects get RST (refused).
        self._server = _Server(self, self.port)

    def stop(self) -> None:
        self.down()
        self._server.server_close()

    @property
    def is_up(self) -> bool:
        return self._thread is not None

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _pause(self, delay: float) -> None:
        """The configured delay (read under the lock by the caller); down()
        cuts it short."""
        if delay:
            self._stopping.wait(delay)

    def _wait_for(self, done, timeout: float, what) -> None:
        """Block until done() (called under the lock) is true; handlers
        notify the condition on every arrival, so there are no polling
        sleeps. TimeoutError with what() when the time runs out."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(what())
                self._lock.wait(left)


class _Handler(TrackedHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        status, ctype, body = self.server.owner._arrived(self.path, dict(
            (k.lower(), v) for k, v in self.headers.items()))
        self.reply(status, ctype, body)


class IdP(ControlledServer):
    handler = _Handler
    thread_name = "idp"

    def __init__(self, jwks_text: str = '{"keys":[]}', issuer: str = "",
                 start_down: bool = False) -> None:
        super().__init__()
        self._jwks = jwks_text
        self._counts: dict[str, int] = {}
        self._seen: dict[str, list[dict]] = {}
        self._modes: dict[str | None, str] = {None: "ok"}
        self._fail_next: dict[str, list] = {}
        self._discovery = {"issuer": issuer, "jwks_uri": self.url(JWKS_PATH)}
        if not start_down:
            self.up()

    # ------------------------------------------------------------ addresses

    @property
    def authority(self) -> str:
        """What Envoy configs name as the host: the idp cluster does the routing."""
        return f"idp.test:{self.port}"

    def url(self, path: str = JWKS_PATH) -> str:
        return f"http://{self.authority}{path}"

    # ------------------------------------------------------------ controls

    def set_jwks_text(self, text: str) -> None:
        with self._lock:
            self._jwks = text

    def set_keys(self, *jwk_dicts: dict) -> None:
        self.set_jwks_text(json.dumps({"keys": list(jwk_dicts)}))

    def set_discovery(self, **doc) -> None:
        """Replace members of the discovery document (issuer, jwks_uri, ...)."""
        with self._lock:
            self._discovery.update(doc)

    def respond(self, mode: str, path: str | None = None) -> None:
        """How to answer `path` (None: every path without its own mode)."""
        assert mode in MODES, mode
        with self._lock:
            self._modes[path] = mode

    def fail_next(self, n: int, mode: str = "500", path: str = JWKS_PATH) -> None:
        assert mode in MODES, mode
        with self._lock:
            self._fail_next[path] = [n, mode]

    # ------------------------------------------------------------ counters

    def count(self, path: str = JWKS_PATH) -> int:
        with self._lock:
            return self._counts.get(path, 0)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def requests(self, path: str = JWKS_PATH) -> list[dict]:
        """Headers (lower-case names) of every request received on path."""
        with self._lock:
            return list(self._seen.get(path, []))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self._seen.clear()

    def wait_count(self, path: str, n: int, timeout: float = 10.0) -> int:
        """Block until count(path) >= n (notified on arrival, no polling
        sleeps); return the count, raise TimeoutError with the counts if the
        time runs out."""
        self._wait_for(lambda: self._counts.get(path, 0) >= n, timeout,
                       lambda: f"IdP: {path} seen {self._counts.get(path, 0)} "
                               f"times, waited for {n}; all: {self._counts}")
        return self.count(path)

    # ------------------------------------------------------------ serving

    def _arrived(self, path: str, headers: dict) -> tuple[int, str, bytes]:
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            self._seen.setdefault(path, []).append(headers)
            self._lock.notify_all()
            mode = self._modes.get(path, self._modes[None])
            pending = self._fail_next.get(path)
            if pending and pending[0] > 0:
                pending[0] -= 1
                mode = pending[1]
            delay = self._delay
            jwks_text = self._jwks
            doc = json.dumps(self._discovery)
        self._pause(delay)
        base = path.split("?", 1)[0]
        if base == DISCOVERY_PATH:
            good = doc.encode()
        elif base == JWKS_PATH:
            good = jwks_text.encode()
        else:
            return 404, "text/plain", b"not found"
        if mode == "500":
            # A 500 whose body is a usable document must still not be taken.
            return 500, "application/json", good
        if mode == "garbage":
            return 200, "application/json", b"<html>this is not JSON</html>"
        if mode == "oversize":
            # Valid JSON, the real document plus padding past 1 MiB: only the
            # size limit can refuse it.
            obj = json.loads(good)
            obj["padding"] = "x" * OVERSIZE_BYTES
            return 200, "application/json", json.dumps(obj).encode()
        return 200, "application/json", good
