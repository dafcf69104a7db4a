"""`make demo` must work: run envoy/demo.py once in self-check mode.

In JWT_GUARD_NATIVE_ONLY mode the demo runs with Envoy's own jwt_authn
(DEMO_FILTER=native), which checks the demo's config and expectations; the
two scope cases (jwt-guard's `authorize`, refused by the native filter) are
then skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from envoy_runner import NATIVE_ONLY, REPO


def _free_port() -> int:
    # The demo needs a fixed port number; the tiny race is acceptable here.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_self_check():
    env = dict(os.environ, DEMO_ONESHOT="1", DEMO_PORT=str(_free_port()))
    if NATIVE_ONLY:
        env["DEMO_FILTER"] = "native"
    run = subprocess.run([sys.executable, str(REPO / "envoy" / "demo.py")], env=env,
                         capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert out.count("   OK\n") == (5 if NATIVE_ONLY else 7), out
    assert "MISMATCH" not in out, out
    if not NATIVE_ONLY:
        # The acceptance criterion: a curl that gets insufficient_scope, one that passes.
        assert 'error="insufficient_scope", scope="orders:read"   OK\n' in out, out
        assert "# token with scope orders:read: expect 200\n" in out, out
