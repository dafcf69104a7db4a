"""Echo upstream: answers every request with JSON describing what it received.

The body is {"method", "path" (with query), "headers": [[name, value], ...]} in
arrival order, header names lower-cased. Responses carry `x-echo: 1` so the
test can tell an upstream answer from a local reply. The server also keeps
every request it answered (`received`, the same dicts) and the status of
every request it could not parse (`malformed`), for tests that must show
what never reached it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A listen backlog for bursts (100 requests resumed at once open as many
    # upstream connections): beyond the default 5 the kernel drops SYNs and
    # the proxy's connect is retried only after 1 s, 3 s, 7 s...
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Envoy pools upstream connections

    def _echo(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        seen = {
            "method": self.command,
            "path": self.path,
            # http.server decodes header bytes as latin-1; undo that so UTF-8
            # claim values read naturally (invalid UTF-8 shows as \xNN).
            "headers": [[k.lower(), v.encode("latin-1").decode("utf-8", "backslashreplace")]
                        for k, v in self.headers.items()],
        }
        self.server.received.append(seen)
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-echo", "1")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _echo

    def send_error(self, code, message=None, explain=None) -> None:
        self.server.malformed.append(code)
        super().send_error(code, message, explain)

    def log_message(self, fmt, *args) -> None:  # keep pytest output clean
        pass


class EchoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.received = []   # list.append is atomic: handler threads share these
        self._server.malformed = []
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="echo", daemon=True)

    @property
    def received(self) -> list[dict]:
        return self._server.received

    @property
    def malformed(self) -> list[int]:
        return self._server.malformed

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "EchoServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
