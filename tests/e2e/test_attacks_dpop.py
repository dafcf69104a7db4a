"""Attack catalogue, part 5: hostile DPoP proofs (ATTACKS.md, the `dpop-*` rows).

A stolen DPoP-bound token is only worth something with a proof the thief
can make: these probes are the proofs an attacker can make without the
client's private key, or with a proof of their own key. None may ever get a
200: each is refused with the contract's sentence (or, for a header past
Envoy's limit, by Envoy itself). Controls show a well-formed proof passes on
the same listener.

The native jwt_authn has no DPoP: there is no native listener and no
parity reference. Each probe's access token and proof are minted together
when it is sent (`Pair`), so `iat` is fresh however long the run took.
After every test the attack harness checks Envoy is running, its log has no
panic/trap/crash line, and every listener still answers a tokenless request
with its 401.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from attack_stack import Answer, Listen, Probes, module_fixtures
from dpop_client import ath, new_key, proof
from dpop_stack import (BAD_ALG, BAD_ATH, BAD_HTM, BAD_JTI, BAD_SIG, DOWNGRADE, NOT_BOUND,
                        PRIVATE_JWK, UNUSABLE_JWK, WRONG_KEY, access_token, dpop, htu,
                        jwt_provider, one)
from tokens import b64url

LISTENS = {
    "main": Listen(one(jwt_provider(dpop("required"))), native=False),
    "allowed": Listen(one(jwt_provider(dpop("allowed"))), native=False),
    "big": Listen(one(jwt_provider(dpop("required"))), native=False, header_kb=1024),
}
stack, healthy = module_fixtures("attacks-dpop", LISTENS)

CLIENT = new_key("ES256")      # the client the token is bound to
ATTACKER = new_key("ES256")    # the thief's own key
RSA = new_key("RS256")
ED = new_key("EdDSA")
URI = htu("/")
DPOP_HEADERS = [("authorization", "DPoP {t}"), ("dpop", "{t2}")]
TOO_LARGE = Answer(431, "Request Header Fields Too Large")

PROBES = Probes()


class Pair:
    """A token and its proof, minted together when the probe is sent (the
    harness mints the token first, then the proof)."""

    def __init__(self, make) -> None:
        self.make = make
        self._proof = ""

    def token(self) -> str:
        tok, self._proof = self.make()
        return tok

    def proof(self) -> str:
        return self._proof


def probe(case: str, variant: str, make, ours, config: str = "main",
          headers: list = DPOP_HEADERS, **kw) -> None:
    """`make()` -> (access token, proof), sent as `Authorization: DPoP {t}`
    and `DPoP: {t2}` (or in `headers`, `path`)."""
    pair = Pair(make)
    PROBES.add(case, variant, pair.token, ours, native=None, config=config,
               headers=headers, more=(pair.proof,), **kw)


def bound_to(key, **proof_kw):
    """A maker: a token bound to `key`, and a proof of `key` for it, tweaked."""
    def make():
        tok = access_token(key)
        return tok, proof(key, "GET", URI, token=tok, **proof_kw)
    return make


def refused(body: str) -> Answer:
    return Answer(401, body)


def control(case: str, config: str = "main", **proof_kw) -> None:
    probe(case, "control-valid-proof", bound_to(CLIENT, **proof_kw), 200, config=config,
          accepted_because="control: the client's own valid proof for its bound token")


# ---------------------------------------------------------------- embedded private key

CASE = "dpop-embedded-private-key"
control(CASE)
for name, key in (("ec", CLIENT), ("rsa", RSA), ("okp", ED)):
    probe(CASE, f"{name}-all-private-members", bound_to(key, jwk=key.private_jwk()),
          refused(PRIVATE_JWK))
probe(CASE, "rsa-d-only", bound_to(RSA, jwk={**RSA.jwk, "d": RSA.private_jwk()["d"]}),
      refused(PRIVATE_JWK))
for member in ("p", "q", "dp", "dq", "qi"):
    probe(CASE, f"rsa-{member}-only",
          bound_to(RSA, jwk={**RSA.jwk, member: RSA.private_jwk()[member]}), refused(PRIVATE_JWK))
probe(CASE, "ec-empty-d", bound_to(CLIENT, jwk={**CLIENT.jwk, "d": ""}), refused(PRIVATE_JWK))

# ---------------------------------------------------------------- alg none

CASE = "dpop-alg-none"
control(CASE)
for alg in ("none", "None", "NONE", "nOnE", ""):
    probe(CASE, f"{alg or 'empty'}-empty-signature", bound_to(CLIENT, alg=alg, signature=""),
          refused(BAD_ALG))
probe(CASE, "none-junk-signature", bound_to(CLIENT, alg="none", signature=b64url(b"x" * 64)),
      refused(BAD_ALG))


def none_with_real_signature():
    tok = access_token(CLIENT)
    real = proof(CLIENT, "GET", URI, token=tok)
    unsigned = proof(CLIENT, "GET", URI, token=tok, alg="none")
    return tok, unsigned + real.split(".")[2]  # `unsigned` ends with the dot


probe(CASE, "none-real-es256-signature", none_with_real_signature, refused(BAD_ALG))

# ---------------------------------------------------------------- HMAC proofs

CASE = "dpop-hmac-proof"
control(CASE)
SECRET = b"an attacker's secret, 32 bytes!!"
OCT = {"kty": "oct", "k": b64url(SECRET)}
for alg in ("HS256", "HS384", "HS512"):
    probe(CASE, f"{alg.lower()}-oct-jwk-signed-with-its-k",
          bound_to(CLIENT, alg=alg, jwk=OCT, secret=SECRET), refused(BAD_ALG))
probe(CASE, "hs256-ec-jwk-arbitrary-secret", bound_to(CLIENT, alg="HS256", secret=SECRET),
      refused(BAD_ALG))
probe(CASE, "hs256-ec-jwk-its-pem-as-secret",
      bound_to(CLIENT, alg="HS256", secret=CLIENT.pem()), refused(BAD_ALG))
probe(CASE, "hs256-rsa-jwk-its-pem-as-secret", bound_to(RSA, alg="HS256", secret=RSA.pem()),
      refused(BAD_ALG))

# ---------------------------------------------------------------- symmetric jwk

CASE = "dpop-symmetric-jwk"
control(CASE)
probe(CASE, "oct-jwk-alg-es256", bound_to(CLIENT, jwk=OCT), refused(PRIVATE_JWK))
probe(CASE, "oct-jwk-alg-eddsa", bound_to(ED, jwk=OCT), refused(PRIVATE_JWK))
probe(CASE, "oct-jwk-without-k", bound_to(CLIENT, jwk={"kty": "oct"}), refused(UNUSABLE_JWK))

# ---------------------------------------------------------------- foreign signature

CASE = "dpop-foreign-signature"
control(CASE)
probe(CASE, "ec-jwk-signed-by-another-ec-key", bound_to(CLIENT, signer=ATTACKER),
      refused(BAD_SIG))
probe(CASE, "okp-jwk-signed-by-another-okp-key", bound_to(ED, signer=new_key("EdDSA")),
      refused(BAD_SIG))
probe(CASE, "rsa-jwk-signed-by-another-rsa-key", bound_to(RSA, signer=new_key("RS256")),
      refused(BAD_SIG))


def transplanted_signature():
    """The client's header and claims for this request with the signature
    of another proof the client made (seen on the wire earlier)."""
    tok = access_token(CLIENT)
    seen = proof(CLIENT, "GET", URI, token=tok)
    wanted = proof(CLIENT, "GET", URI, token=tok, signer=ATTACKER)
    return tok, wanted.rsplit(".", 1)[0] + "." + seen.split(".")[2]


def der_signature():
    """The client's real ES256 signature, re-encoded as ASN.1 DER."""
    tok = access_token(CLIENT)
    head, body, sig = proof(CLIENT, "GET", URI, token=tok).split(".")
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return tok, f"{head}.{body}.{b64url(encode_dss_signature(r, s))}"


def claims_edited_after_signing():
    tok = access_token(CLIENT)
    head, _, sig = proof(CLIENT, "POST", URI, token=tok).split(".")
    body = proof(CLIENT, "GET", URI, token=tok, alg="none").split(".")[1]
    return tok, f"{head}.{body}.{sig}"


probe(CASE, "signature-of-another-proof", transplanted_signature, refused(BAD_SIG))
probe(CASE, "es256-signature-as-der", der_signature, refused(BAD_SIG))
probe(CASE, "claims-edited-after-signing", claims_edited_after_signing, refused(BAD_SIG))

# ---------------------------------------------------------------- huge jti

CASE = "dpop-huge-jti"
control(CASE, config="big", jti="j" * 256)
probe(CASE, "257-chars", bound_to(CLIENT, jti="j" * 257), refused(BAD_JTI))
probe(CASE, "64-KiB-default-header-limit", bound_to(CLIENT, jti="j" * 65536), TOO_LARGE)
probe(CASE, "64-KiB-raised-header-limit", bound_to(CLIENT, jti="j" * 65536), refused(BAD_JTI),
      config="big")
probe(CASE, "700-KiB-raised-header-limit", bound_to(CLIENT, jti="j" * (700 * 1024)),
      refused(BAD_JTI), config="big")

# ---------------------------------------------------------------- method

CASE = "dpop-method-mismatch"
control(CASE)
METHODS = {"post": "POST", "put": "PUT", "delete": "DELETE", "lower-case-get": "get",
           "get-trailing-space": "GET ", "get-leading-space": " GET", "star": "*"}
for name, method in METHODS.items():
    def make(method=method):
        tok = access_token(CLIENT)
        return tok, proof(CLIENT, method, URI, token=tok)
    probe(CASE, f"htm-{name}", make, refused(BAD_HTM))

# ---------------------------------------------------------------- ath

CASE = "dpop-ath-swap"
control(CASE)


def proof_for_another_token():
    tok, other = access_token(CLIENT), access_token(CLIENT)
    return tok, proof(CLIENT, "GET", URI, token=other)


def ath_of(text_of):
    """A maker whose proof's `ath` is `text_of(token)` (None: no `ath`)."""
    def make():
        tok = access_token(CLIENT)
        value = text_of(tok)
        kw = {"omit": ("ath",)} if value is None else {"extra_claims": {"ath": value}}
        return tok, proof(CLIENT, "GET", URI, **kw)
    return make


def std_b64_sha256(tok: str) -> str:
    return base64.b64encode(hashlib.sha256(tok.encode()).digest()).decode()


probe(CASE, "proof-for-another-token-of-the-same-key", proof_for_another_token, refused(BAD_ATH))
probe(CASE, "ath-over-scheme-and-token", ath_of(lambda t: ath(f"DPoP {t}")), refused(BAD_ATH))
probe(CASE, "ath-padded-base64url", ath_of(lambda t: ath(t) + "="), refused(BAD_ATH))
probe(CASE, "ath-standard-base64", ath_of(std_b64_sha256), refused(BAD_ATH))
probe(CASE, "ath-hex", ath_of(lambda t: hashlib.sha256(t.encode()).hexdigest()), refused(BAD_ATH))
probe(CASE, "ath-missing", ath_of(lambda t: None), refused(BAD_ATH))

# ---------------------------------------------------------------- key substitution

CASE = "dpop-key-substitution"
control(CASE)


def thief(token_key, **kw):
    """A token bound to `token_key`, with a valid proof of the attacker's."""
    def make():
        tok = access_token(token_key)
        return tok, proof(ATTACKER, "GET", URI, token=tok, **kw)
    return make


def unbound_with_thiefs_proof():
    tok = access_token()
    return tok, proof(ATTACKER, "GET", URI, token=tok)


probe(CASE, "token-of-client-proof-of-attacker", thief(CLIENT), refused(WRONG_KEY))
probe(CASE, "token-of-client-attacker-proof-naming-client-kid",
      thief(CLIENT, extra_header={"kid": CLIENT.jkt}), refused(WRONG_KEY))
probe(CASE, "token-of-client-jwk-of-client-signed-by-attacker",
      bound_to(CLIENT, signer=ATTACKER), refused(BAD_SIG))
probe(CASE, "unbound-token-proof-of-attacker", unbound_with_thiefs_proof, refused(NOT_BOUND))

# ---------------------------------------------------------------- downgrade

CASE = "dpop-downgrade"
BEARER = [("authorization", "Bearer {t}")]


def bound_with_proof():
    tok = access_token(CLIENT)
    return tok, proof(CLIENT, "GET", URI, token=tok)


probe(CASE, "control-unbound-bearer", lambda: (access_token(), ""), 200, config="allowed",
      headers=BEARER, accepted_because="control: mode allowed takes an unbound token as Bearer")
probe(CASE, "bound-token-as-bearer", lambda: (access_token(CLIENT), ""), refused(DOWNGRADE),
      config="allowed", headers=BEARER)
probe(CASE, "bound-token-as-bearer-with-a-valid-proof", bound_with_proof, refused(DOWNGRADE),
      config="allowed", headers=BEARER + [("dpop", "{t2}")])
probe(CASE, "bound-token-in-the-query", lambda: (access_token(CLIENT), ""), refused(DOWNGRADE),
      config="allowed", headers=[], path="/?access_token={t}")

CASES = PROBES.cases
# None of these is a way in: only the controls may pass.
assert all(p.ours.status != 200 or p.variant.startswith("control") for p in PROBES)


@pytest.mark.parametrize("p", PROBES, ids=[p.id for p in PROBES])
def test_attack(stack, p):
    stack.run(p)
