#!/usr/bin/env python3
"""A DPoP client (RFC 9449) for an API behind jwt-guard (docs/dpop.md).

  dpop_client_example.py KEY
      makes an ES256 key in the file KEY unless it exists, and prints its
      RFC 7638 thumbprint: the cnf.jkt of the tokens bound to it
  dpop_client_example.py KEY proof METHOD URL [TOKEN]
      prints a fresh proof for one request (for curl's DPoP header)
  dpop_client_example.py KEY call METHOD URL TOKEN
      sends the request with the token and a fresh proof (once more with the
      server's nonce if it asks for one); prints the status and the body

Needs PyJWT and cryptography (pip install pyjwt cryptography).
tests/e2e/test_deploy.py runs it against deploy/envoy/dpop.yaml.
"""

import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The client's P-256 key, made (readable by its owner only) on first use."""
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        path.touch(mode=0o600)
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict:
    return json.loads(ECAlgorithm.to_jwk(key.public_key()))


def thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    """RFC 7638: the key's required members, in name order, as compact JSON."""
    jwk = public_jwk(key)
    members = json.dumps({m: jwk[m] for m in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return b64url(hashlib.sha256(members.encode()).digest())


def proof(key, method: str, url: str, token: str | None = None, nonce: str | None = None) -> str:
    """A proof for one request: its method, its URL without query and
    fragment, a unique jti, the time, and the token's hash (ath)."""
    htu = urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()
    claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": htu, "iat": int(time.time())}
    if token is not None:
        claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
    if nonce is not None:
        claims["nonce"] = nonce
    return jwt.encode(claims, key, algorithm="ES256",
                      headers={"typ": "dpop+jwt", "jwk": public_jwk(key)})


def call(key, method: str, url: str, token: str, nonce: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers={
        "Authorization": f"DPoP {token}",
        "DPoP": proof(key, method, url, token, nonce),
    })
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        fresh = refused.headers.get("DPoP-Nonce")
        if refused.code == 401 and fresh and nonce is None:
            # error="use_dpop_nonce" (RFC 9449 §8): again, with the nonce.
            return call(key, method, url, token, fresh)
        return refused.code, refused.read()


def main(args: list[str]) -> int:
    if len(args) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    key = load_key(Path(args[0]))
    if len(args) == 1:
        print(thumbprint(key))
    elif args[1] == "proof" and len(args) in (4, 5):
        print(proof(key, *args[2:]))
    elif args[1] == "call" and len(args) == 5:
        status, body = call(key, *args[2:])
        print(status)
        print(body.decode(errors="replace"))
        return 0 if status < 400 else 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
