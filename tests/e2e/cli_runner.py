"""The jwt-guard command for the tests: built once per session (release, as
`make cli` builds it), run with arguments, and the fixed tokens the golden
outputs are made with (RS256 is deterministic: same key and claims, same
token)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from jwt import algorithms as jalg

from envoy_runner import REPO

CLI = REPO / "target" / "release" / "jwt-guard"
GOLDEN = REPO / "tests" / "e2e" / "golden" / "cli"
NOW = 1796378400  # 2026-12-04T10:00:00Z, the --now of every golden output
KID = "2026-12"

_built = False


def build() -> Path:
    """Builds the binary (once per session; cargo skips an up-to-date one)."""
    global _built
    if not _built:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "jwt-guard"],
                       cwd=REPO, check=True)
        _built = True
    return CLI


@dataclass
class Ran:
    code: int
    out: str
    err: str


def run(args: list[str], cwd: Path = GOLDEN, stdin: str = "") -> Ran:
    p = subprocess.run([str(build()), *args], cwd=cwd, input=stdin,
                       capture_output=True, text=True, timeout=60)
    return Ran(p.returncode, p.stdout, p.stderr)


def _b64(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(**claims) -> str:
    """An RS256 token of the fixture key (GOLDEN/signing-key.pem, a test key
    trusted nowhere) for the fixture IdP, with `claims` over the defaults."""
    key = serialization.load_pem_private_key(
        (GOLDEN / "signing-key.pem").read_bytes(), password=None)
    body = {"iss": "https://idp.example.com", "sub": "alice", "aud": "orders-api",
            "iat": NOW - 60, "exp": NOW + 3600, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    header = {"alg": "RS256", "typ": "JWT", "kid": KID}
    signing_input = (_b64(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + _b64(json.dumps(body, separators=(",", ":")).encode()))
    sig = jalg.RSAAlgorithm(jalg.RSAAlgorithm.SHA256).sign(signing_input.encode(), key)
    return signing_input + "." + _b64(sig)


# The tokens the golden outputs use, by name.
TOKENS = {
    "reader": lambda: token(scope="orders:read", tenant="acme"),
    "writer": lambda: token(scope="orders:read orders:write", tenant="acme"),
    "expired": lambda: token(scope="orders:read", tenant="acme", iat=NOW - 7200, exp=NOW - 3600),
}
