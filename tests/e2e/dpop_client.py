"""A small DPoP (RFC 9449) client for the e2e suite, independent of the
module: keys made by `cryptography`, public JWKs and RFC 7638 thumbprints
computed here, proofs signed with PyJWT.

`proof(...)` mints a proof JWT for one request. Well-formed proofs go
through `jwt.encode`; the malformed ones an attacker would send are built by
hand: `alg` none (any spelling, any signature), HMAC proofs (`secret`), a
`jwk` other than the signer's (`jwk`, `signer`), a `jwk` with private
members (`private_jwk()`), members left out (`omit`) or added
(`extra_header`, `extra_claims`), an exact signature segment (`signature`).

The self-tests (RFC 7638 §3.1 and RFC 9449 §7.1 examples, a round trip
through PyJWT's verifier) are at the top of test_dpop.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt import algorithms as jalg

from tokens import b64url, compact_json

TYP = "dpop+jwt"
# Every asymmetric algorithm jwt-guard knows, in the order the spec lists
# them (the order of `algs` in WWW-Authenticate).
ALL_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA"]
_CURVES = {"ES256": (ec.SECP256R1, "P-256"), "ES384": (ec.SECP384R1, "P-384"),
           "ES512": (ec.SECP521R1, "P-521")}
_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_PYJWT = jalg.get_default_algorithms()


def _uint(n: int, size: int | None = None) -> str:
    """base64url of a non-negative integer, big-endian, minimal or `size` bytes."""
    size = size or max(1, (n.bit_length() + 7) // 8)
    return b64url(n.to_bytes(size, "big"))


@dataclass
class DPoPKey:
    """A client's key pair; `alg` is what it signs with."""
    alg: str
    private: Any

    @property
    def jwk(self) -> dict:
        """The public JWK, its required members only (RFC 7517/7518/8037)."""
        pub = self.private.public_key()
        if isinstance(pub, ec.EllipticCurvePublicKey):
            nums = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            crv = {"secp256r1": "P-256", "secp384r1": "P-384",
                   "secp521r1": "P-521"}[pub.curve.name]
            return {"kty": "EC", "crv": crv, "x": _uint(nums.x, size), "y": _uint(nums.y, size)}
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            return {"kty": "RSA", "n": _uint(nums.n), "e": _uint(nums.e)}
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}

    def private_jwk(self) -> dict:
        """The JWK with the private members too (d; RSA: p q dp dq qi)."""
        out = dict(self.jwk)
        key = self.private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            size = (key.curve.key_size + 7) // 8
            out["d"] = _uint(key.private_numbers().private_value, size)
        elif isinstance(key, rsa.RSAPrivateKey):
            p = key.private_numbers()
            out.update(d=_uint(p.d), p=_uint(p.p), q=_uint(p.q), dp=_uint(p.dmp1),
                       dq=_uint(p.dmq1), qi=_uint(p.iqmp))
        else:
            out["d"] = b64url(key.private_bytes(serialization.Encoding.Raw,
                                                serialization.PrivateFormat.Raw,
                                                serialization.NoEncryption()))
        return out

    @property
    def jkt(self) -> str:
        return thumbprint(self.jwk)

    def pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM of the public key (key-confusion secrets)."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def new_key(alg: str) -> DPoPKey:
    """A fresh key for `alg`: ES256/384/512 (P-256/384/521), EdDSA (Ed25519),
    RS*/PS* (RSA 2048)."""
    if alg in _CURVES:
        return DPoPKey(alg, ec.generate_private_key(_CURVES[alg][0]()))
    if alg == "EdDSA":
        return DPoPKey(alg, ed25519.Ed25519PrivateKey.generate())
    if alg[:2] in ("RS", "PS"):
        return DPoPKey(alg, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    raise ValueError(f"no key type for {alg}")


_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
                       "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}


def thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 over the key type's required members, sorted, as
    compact JSON without whitespace; base64url."""
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    text = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(text.encode()).digest())


def ath(token: str) -> str:
    """RFC 9449 §4.2: base64url(SHA-256(ASCII(access token)))."""
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


def new_jti() -> str:
    return secrets.token_urlsafe(16)


_UNSET = object()


def proof(key: DPoPKey, method: str, htu: str, token: str | None = None,
          nonce: str | None = None, iat: int | None = None, jti: str | None = None,
          typ: str | None = TYP, alg: str | None = None, extra_header: dict | None = None,
          extra_claims: dict | None = None, omit: tuple = (), jwk: Any = _UNSET,
          signer: DPoPKey | None = None, secret: bytes | None = None,
          signature: str | None = None) -> str:
    """A DPoP proof for `method` `htu` (and `token`'s `ath`, and `nonce`).

    Header: typ, alg (default: the key's), jwk (default: the key's public
    JWK; `jwk=` replaces it); then `extra_header`. Claims: jti (random),
    htm, htu, iat (now), ath, nonce; then `extra_claims`. `omit` drops
    header members or claims by name. Signed by `signer` (default `key`)
    with its own algorithm, whatever the header says; `secret`: HMAC with
    the header's HS* algorithm; alg `none` (any case): no signature;
    `signature`: this exact last segment instead.
    """
    header: dict = {"typ": typ, "alg": key.alg if alg is None else alg,
                    "jwk": key.jwk if jwk is _UNSET else jwk}
    header.update(extra_header or {})
    claims: dict = {"jti": new_jti() if jti is None else jti, "htm": method, "htu": htu,
                    "iat": int(time.time()) if iat is None else iat}
    if token is not None:
        claims["ath"] = ath(token)
    if nonce is not None:
        claims["nonce"] = nonce
    claims.update(extra_claims or {})
    for name in omit:
        header.pop(name, None)
        claims.pop(name, None)
    if typ is None and "typ" not in (extra_header or {}):
        header.pop("typ", None)
    signer = signer or key
    by_pyjwt = (signature is None and secret is None and header.get("alg") == signer.alg
                and header.get("typ") is not None)
    if by_pyjwt:
        return jwt.encode(claims, signer.private, algorithm=signer.alg,
                          headers={k: v for k, v in header.items() if k != "alg"})
    signing_input = f"{b64url(compact_json(header))}.{b64url(compact_json(claims))}"
    if signature is not None:
        return f"{signing_input}.{signature}"
    if secret is not None:
        digest = _HMAC.get(str(header.get("alg")), hashlib.sha256)
        sig = hmac.new(secret, signing_input.encode(), digest).digest()
    elif str(header.get("alg")).lower() == "none":
        sig = b""
    else:
        sig = _PYJWT[signer.alg].sign(signing_input.encode(), signer.private)
    return f"{signing_input}.{b64url(sig)}"


def decode_segment(jws: str, index: int) -> dict:
    """The JSON of a compact JWS's header (0) or payload (1)."""
    seg = jws.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
