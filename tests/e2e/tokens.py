"""Keys, JWKS and tokens for the parity suite.

Signing goes through PyJWT's algorithm objects (backed by `cryptography`), an
implementation independent of both Envoy's jwt_verify_lib and our Rust code.
We assemble header/payload ourselves instead of calling `jwt.encode` so that we
can mint tokens PyJWT would refuse to build (string `exp`, non-string `sub`,
duplicate JSON members, non-object payloads, ...).

Tokens are described by `Tok` specs and minted lazily (at send time), so that
time-relative claims (`Rel`) stay accurate however long collection and the
earlier tests took.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt import algorithms as jalg

ISS = "https://issuer.example.com"
AUD = "https://api.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64pad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def compact_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# ---------------------------------------------------------------- keys / JWKS

class Keys:
    """One fresh set of keys per process (i.e. per test session)."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # A second RSA key: "same kid, other key" and multi-key JWKS cases.
        self.rsa2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec256 = ec.generate_private_key(ec.SECP256R1())
        self.ec384 = ec.generate_private_key(ec.SECP384R1())
        self.ec521 = ec.generate_private_key(ec.SECP521R1())
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.hs = os.urandom(64)  # one oct key serves HS256/384/512
        self.hs2 = os.urandom(64)

    def private(self, name: str):
        return getattr(self, name)

    def public(self, name: str):
        key = getattr(self, name)
        return key if isinstance(key, bytes) else key.public_key()

    def jwk(self, name: str, kid: str | None = None, alg: str | None = None,
            **extra: Any) -> dict:
        """Public JWK of key `name`; kid/alg only when asked for."""
        pub = self.public(name)
        if isinstance(pub, bytes):
            d = jalg.HMACAlgorithm.to_jwk(pub, as_dict=True)
        elif isinstance(pub, rsa.RSAPublicKey):
            d = jalg.RSAAlgorithm.to_jwk(pub, as_dict=True)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            d = jalg.ECAlgorithm.to_jwk(pub, as_dict=True)
        else:
            d = jalg.OKPAlgorithm.to_jwk(pub, as_dict=True)
        d = dict(d)
        d.pop("kid", None)
        d.pop("alg", None)
        if kid is not None:
            d["kid"] = kid
        if alg is not None:
            d["alg"] = alg
        d.update(extra)
        return d

    def pem(self, name: str) -> str:
        """SubjectPublicKeyInfo PEM of an asymmetric key."""
        return self.public(name).public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwks(*keys: dict) -> str:
    return json.dumps({"keys": list(keys)})


_KEYS: Keys | None = None


def session_keys() -> Keys:
    global _KEYS
    if _KEYS is None:
        _KEYS = Keys()
    return _KEYS


# ---------------------------------------------------------------- signing

_ALGS = jalg.get_default_algorithms()


def sign(alg: str, key, signing_input: bytes) -> bytes:
    """Signature bytes for `alg`; `key` is a private key or an HMAC secret."""
    if alg.startswith("HS") and isinstance(key, (bytes, str)):
        # Direct HMAC: PyJWT refuses PEM-looking secrets, which the
        # alg-confusion case needs on purpose.
        secret = key.encode() if isinstance(key, str) else key
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
                  "HS512": hashlib.sha512}[alg]
        return hmac.new(secret, signing_input, digest).digest()
    return _ALGS[alg].sign(signing_input, key)


class Rel:
    """A claim value relative to the minting time: int(now) + offset."""

    def __init__(self, offset: float, as_float: bool = False) -> None:
        self.offset = offset
        self.as_float = as_float

    def resolve(self):
        if self.as_float:
            return time.time() + self.offset
        return int(time.time()) + int(self.offset)


def _resolve(value):
    if isinstance(value, Rel):
        return value.resolve()
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return value



def claims(**overrides: Any) -> dict:
    """Standard claims (iss/aud/sub/iat/exp); pass None to drop one."""
    base: dict = {"iss": ISS, "aud": AUD, "sub": "alice",
                  "iat": Rel(0), "exp": Rel(3600)}
    for k, v in overrides.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


@dataclass
class Tok:
    """Spec of a token, minted on call.

    alg: value of the header `alg` and the signing algorithm (unless sign_alg).
    key: attribute name in Keys, or raw HMAC secret bytes/str.
    kid: header kid (None: no kid). header: extra header members.
    payload: claims dict (values may be Rel) or raw JSON text (exact bytes).
    raw_header: exact header JSON text instead of building one.
    pad: base64 `=` padding on every segment, the signature computed over
         the padded header.payload text.
    append: text added to the end of segments: "header" and "payload" before
         signing (the signature covers it), "signature" after.
    transform: applied to the finished compact token (malformed variants).
    """

    alg: str = "RS256"
    key: Any = "rsa"
    kid: str | None = None
    payload: Any = field(default_factory=claims)
    header: dict = field(default_factory=dict)
    raw_header: str | None = None
    sign_alg: str | None = None
    pad: bool = False
    append: dict = field(default_factory=dict)
    transform: Callable[[str], str] | None = None

    def __call__(self) -> str:
        keys = session_keys()
        if self.raw_header is not None:
            head = self.raw_header.encode()
        else:
            h = {"alg": self.alg, "typ": "JWT"}
            if self.kid is not None:
                h["kid"] = self.kid
            h.update(self.header)
            head = compact_json(h)
        body = (self.payload.encode() if isinstance(self.payload, str)
                else compact_json(_resolve(self.payload)))
        enc = b64pad if self.pad else b64url
        extra = {"header": "", "payload": "", "signature": "", **self.append}
        signing_input = (f"{enc(head)}{extra['header']}."
                         f"{enc(body)}{extra['payload']}").encode()
        key = self.key if not isinstance(self.key, str) or self.key.startswith("-----") \
            else keys.private(self.key)
        sig = sign(self.sign_alg or self.alg, key, signing_input)
        token = f"{signing_input.decode()}.{enc(sig)}{extra['signature']}"
        return self.transform(token) if self.transform else token


def json_len_mod3(rest: int, **members: Any) -> str:
    """Compact JSON of `members` plus a filler member `_`, its length in
    bytes being 3n + rest: base64url of it ends in a 2-character quantum
    (rest 1, full padding `==`), a 3-character one (rest 2, `=`) or none."""
    for n in range(3):
        text = compact_json(_resolve({**members, "_": "x" * n})).decode()
        if len(text.encode()) % 3 == rest:
            return text
    raise AssertionError("unreachable: three fillers cover every length mod 3")


def unsigned(header: dict, payload: dict, sig: str = "") -> str:
    """A token whose signature we choose by hand (alg none, garbage)."""
    return f"{b64url(compact_json(header))}.{b64url(compact_json(_resolve(payload)))}.{sig}"


# ---------------------------------------------------------------- transforms

def tamper_sig(token: str) -> str:
    """Flip bits in the middle of the signature (stays valid base64url)."""
    head, payload, sig = token.split(".")
    mid = len(sig) // 2
    ch = "A" if sig[mid] != "A" else "B"
    return f"{head}.{payload}.{sig[:mid]}{ch}{sig[mid + 1:]}"


def tamper_payload(token: str) -> str:
    """Swap the payload for another one signed by nobody."""
    head, _, sig = token.split(".")
    forged = b64url(compact_json({"iss": ISS, "aud": AUD, "sub": "mallory",
                                  "exp": int(time.time()) + 3600}))
    return f"{head}.{forged}.{sig}"


def pad_all(token: str) -> str:
    """Add base64 `=` padding to every segment (signature stays valid)."""
    def pad(s: str) -> str:
        return s + "=" * (-len(s) % 4)
    return ".".join(pad(s) for s in token.split("."))


def space_in_sig(token: str) -> str:
    head, payload, sig = token.split(".")
    mid = len(sig) // 2
    return f"{head}.{payload}.{sig[:mid]} {sig[mid:]}"


def drop_sig(token: str) -> str:
    return token.rsplit(".", 1)[0] + "."


def segments(n: int) -> Callable[[str], str]:
    """Reshape to n dot-separated segments (2, 4, 5 ...)."""
    def f(token: str) -> str:
        parts = token.split(".")
        if n <= 3:
            return ".".join(parts[:n])
        return ".".join(parts + [parts[-1]] * (n - 3))
    return f


def std_b64_sig(token: str) -> str:
    """Signature re-encoded as standard base64 (with + and /) if it differs."""
    head, payload, sig = token.split(".")
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    std = base64.b64encode(raw).decode().rstrip("=")
    return f"{head}.{payload}.{std}"


def non_canonical_sig(token: str) -> str:
    """Set the unused low bits of the signature's last base64 character."""
    head, payload, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused_bits = {2: 4, 3: 2}.get(len(sig) % 4, 0)
    if unused_bits == 0:
        return token
    idx = alphabet.index(sig[-1]) | ((1 << unused_bits) - 1)
    return f"{head}.{payload}.{sig[:-1]}{alphabet[idx]}"


def hs256_confusion(pem: str, payload: dict) -> str:
    """HS256 token whose HMAC secret is an RSA public key's PEM text."""
    return Tok(alg="HS256", key=pem.encode(), payload=payload)()
