"""Hostile tokens and keys for the attack catalogue (test_attacks_*.py).

Everything an attacker controls is built here by hand: an attacker's own key
pair and certificate, signatures edited byte by byte, raw (possibly invalid)
JSON bytes signed with the real key, and weak RSA keys that `cryptography`
refuses to generate (its floor is 1024 bits), with PKCS#1 v1.5 signing done
in plain Python.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import random
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tokens import AUD, ISS, Rel, Tok, b64url, compact_json, session_keys, sign

K = session_keys()

# ---------------------------------------------------------------- raw tokens


def std_claims(**extra) -> dict:
    """The claims every main provider accepts, minted now."""
    return {"iss": ISS, "aud": AUD, "sub": "alice", "exp": Rel(3600).resolve(), **extra}


def signed_raw(head: bytes, body: bytes, alg: str = "RS256", key=None) -> str:
    """A token over exactly these header and payload bytes (any JSON, or
    none), signed with `key` (default: the published RSA key)."""
    h, p = b64url(head), b64url(body)
    sig = sign(alg, K.rsa if key is None else key, f"{h}.{p}".encode())
    return f"{h}.{p}.{b64url(sig)}"


def payload_with(members: str, head: bytes = b'{"alg":"RS256","kid":"rsa"}') -> Callable[[], str]:
    """A signed token whose payload is the standard claims followed by the raw
    JSON text `members` (`,"x":...`), spliced in before the closing brace."""
    def make() -> str:
        text = json.dumps(std_claims(), separators=(",", ":"))[:-1] + members + "}"
        return signed_raw(head, text.encode("utf-8", "surrogatepass"))
    return make


def decode_sig(token: str) -> tuple[str, str, bytes]:
    h, p, s = token.split(".")
    return h, p, base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def with_sig(token: str, edit: Callable[[bytes], bytes]) -> str:
    h, p, raw = decode_sig(token)
    return f"{h}.{p}.{b64url(edit(raw))}"


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def trailing_bits(segment: str) -> str:
    """The segment with the unused low bits of its last character flipped (it
    decodes to the same bytes); unchanged when no bits are unused."""
    unused = {2: 4, 3: 2}.get(len(segment) % 4, 0)
    if unused == 0:
        return segment
    return segment[:-1] + ALPHABET[ALPHABET.index(segment[-1]) ^ ((1 << unused) - 1)]


# ---------------------------------------------------------------- the attacker's key

EVIL = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EVIL_EC = ec.generate_private_key(ec.SECP256R1())


def evil_jwk(kid: str = "evil") -> dict:
    from jwt.algorithms import RSAAlgorithm
    return {**RSAAlgorithm.to_jwk(EVIL.public_key(), as_dict=True), "kid": kid}


def evil_x5c() -> str:
    """A self-signed certificate for the attacker's key (base64 DER, as in x5c)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example.com")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(EVIL.public_key()).serial_number(1)
            .not_valid_before(datetime.datetime(2020, 1, 1))
            .not_valid_after(datetime.datetime(2040, 1, 1))
            .sign(EVIL, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def by_evil(kid: str | None = None, **header) -> Callable[[], str]:
    """RS256 token signed by the attacker's key, with `header` members."""
    return Tok(key=EVIL, kid=kid, header=header, payload=std_claims())


# ---------------------------------------------------------------- key confusion

def public_key_forms(name: str) -> dict[str, bytes]:
    """Every way a verifier might hold an asymmetric public key as bytes,
    each one a candidate HMAC secret for an alg-confusion forgery."""
    pub = K.public(name)
    forms = {
        "pem": K.pem(name).encode(),
        "pem-no-newline": K.pem(name).encode().rstrip(b"\n"),
        "der": pub.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
        "jwk-json": json.dumps(K.jwk(name)).encode(),
        "jwk-compact": compact_json(K.jwk(name)),
    }
    if name == "rsa":
        forms["pkcs1-pem"] = pub.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.PKCS1)
        forms["n-bytes"] = pub.public_numbers().n.to_bytes(256, "big")
        forms["n-base64url"] = K.jwk(name)["n"].encode()
    else:
        forms["sec1-point"] = pub.public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    return forms


# ---------------------------------------------------------------- ECDSA

P521_N = int("01" + "f" * 64 + "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e"
             "91386409", 16)
# alg -> (key attribute, kid, scalar size in bytes, group order n)
CURVES = {
    "ES256": ("ec256", "ec", 32,
              0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "ES384": ("ec384", "ec384", 48,
              int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77A"
                  "ECEC196ACCC52973", 16)),
    "ES512": ("ec521", "ec521", 66, P521_N),
}


def ecdsa_token(alg: str, edit: Callable[[int, int, int, int], bytes]) -> Callable[[], str]:
    """A valid token of `alg` whose signature is replaced by
    edit(r, s, size, n)."""
    key, kid, size, n = CURVES[alg]

    def make() -> str:
        good = Tok(alg=alg, key=key, kid=kid, payload=std_claims())()
        h, p, raw = decode_sig(good)
        r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
        return f"{h}.{p}.{b64url(edit(r, s, size, n))}"
    return make


def be(x: int, size: int) -> bytes:
    return x.to_bytes(size, "big")


# ---------------------------------------------------------------- Ed25519

ED25519_L = 2 ** 252 + 27742317777372353535851937790883648493
# Encodings of points of small order: the identity (order 1), (0, -1)
# (order 2) and (0, 1)'s neighbour y = 0 (order 4).
SMALL_ORDER = {
    "identity": bytes([1]) + bytes(31),
    "order-2": bytes([0xec]) + bytes([0xff]) * 30 + bytes([0x7f]),
    "order-4": bytes(32),
}


def small_order_jwk(which: str, kid: str = "small") -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(SMALL_ORDER[which]), "kid": kid}


def identity_forgery(**claims) -> str:
    """For the identity key, R = identity and S = 0 satisfy
    [S]B = R + [k]A for every message: a signature on anything."""
    head = compact_json({"alg": "EdDSA", "kid": "small", "typ": "JWT"})
    body = compact_json(std_claims(**claims))
    return f"{b64url(head)}.{b64url(body)}.{b64url(SMALL_ORDER['identity'] + bytes(32))}"


# ---------------------------------------------------------------- weak RSA keys

_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _probable_prime(n: int, rng: random.Random) -> bool:
    if n < 4:
        return n in (2, 3)
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(40):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


class WeakRsa:
    """An RSA key of exactly `bits` bits (any size), signing RS256 by hand."""

    def __init__(self, bits: int, e: int = 65537, seed: int | None = None) -> None:
        rng = random.Random(seed)

        def prime(size: int) -> int:
            while True:
                c = rng.getrandbits(size) | (3 << (size - 2)) | 1
                if (c - 1) % e and _probable_prime(c, rng):
                    return c

        while True:
            p, q = prime((bits + 1) // 2), prime(bits // 2)
            if p != q and (p * q).bit_length() == bits:
                break
        self.n, self.e = p * q, e
        self.d = pow(e, -1, (p - 1) * (q - 1))

    def jwk(self, kid: str) -> dict:
        def b(x: int) -> str:
            return b64url(x.to_bytes((x.bit_length() + 7) // 8, "big"))
        return {"kty": "RSA", "n": b(self.n), "e": b(self.e), "kid": kid}

    def token(self, kid: str) -> str:
        h = b64url(compact_json({"alg": "RS256", "kid": kid}))
        p = b64url(compact_json(std_claims()))
        size = (self.n.bit_length() + 7) // 8
        t = _SHA256_DIGEST_INFO + hashlib.sha256(f"{h}.{p}".encode()).digest()
        em = b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t
        sig = pow(int.from_bytes(em, "big"), self.d, self.n).to_bytes(size, "big")
        return f"{h}.{p}.{b64url(sig)}"

