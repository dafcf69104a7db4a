"""Attack catalogue, part 1: forging or bending key selection and the token's
shape (ATTACKS.md). Every probe goes to native jwt_authn and to jwt-guard
with the same config; jwt-guard's answer is written by hand, and the native
one must be the same unless the probe says otherwise.
"""

from __future__ import annotations

import os

import pytest

from attack_stack import Answer, Listen, Probes, module_fixtures
from attack_tokens import (EVIL, EVIL_EC, by_evil, evil_jwk, evil_x5c, public_key_forms,
                           signed_raw, std_claims)
from model import provider
from scenarios.common import (ALG_UNSUPPORTED, BAD_AUD, BAD_FORM, BAD_ISS, EXPIRED, NO_KEY,
                              NOT_YET, VERIFY_FAIL)
from tokens import (Rel, Tok, b64url, claims, compact_json, jwks, session_keys, sign,
                    tamper_sig, unsigned)
from wasm_stack import check, upstream_headers

K = session_keys()
CRIT = "Jwt header [crit] names an unsupported extension"
PAYLOAD_B64 = "Jwt payload is an invalid Base64url encoded"
ISS_B = "https://b.example.com"
# A published kid made of everything a kid lookup could mishandle.
ODD_KID = "../../ключ\"' OR '1'='1;--\u0000\r\nx-admin: 1"

MAIN = jwks(K.jwk("rsa", kid="rsa"), K.jwk("ec256", kid="ec"), K.jwk("rsa2", kid=ODD_KID))
LISTENS = {
    "main": Listen({"providers": {"p": provider(MAIN)},
                    "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]}),
    # jwt-guard's hardening option; the native filter refuses the field.
    "crit": Listen({"providers": {"p": provider(MAIN, reject_unknown_crit=True)},
                    "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]},
                   native=False),
    # Two providers with their own keys and issuers, and two sharing a key
    # but not an audience.
    "ab": Listen({"providers": {
        "a": provider(jwks(K.jwk("rsa", kid="ka"))),
        "b": provider(jwks(K.jwk("rsa2", kid="kb")), issuer=ISS_B),
        "aud-a": provider(jwks(K.jwk("rsa", kid="ka")), audiences=["orders"]),
        "aud-b": provider(jwks(K.jwk("rsa", kid="ka")), audiences=["billing"]),
    }, "rules": [{"match": {"prefix": f"/{n}/"}, "requires": {"provider_name": n}}
                 for n in ("a", "b", "aud-a", "aud-b")]
       + [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}]}),
    # Tokens in a custom header, which a client may repeat; claims copied.
    "repeated": Listen({"providers": {"p": provider(MAIN, from_headers=[{"name": "x-jwt"}],
                                                    claim_to_headers=[
                                                        {"header_name": "x-sub",
                                                         "claim_name": "sub"}])},
                        "rules": [{"match": {"prefix": "/"},
                                   "requires": {"provider_name": "p"}}]}),
}

DENY = Answer(401, VERIFY_FAIL)
PROBES = Probes()
probe = PROBES.add


# ---------------------------------------------------------------- alg: none

for spelling in ("none", "None", "NONE", "nOnE", ""):
    head = {"alg": spelling, "typ": "JWT"}
    probe("alg-none", f"{spelling!r}-empty-signature",
          lambda h=head: unsigned(h, std_claims()), Answer(401, BAD_FORM))
    probe("alg-none", f"{spelling!r}-no-signature-segment",
          lambda h=head: unsigned(h, std_claims())[:-1], Answer(401, BAD_FORM))
    probe("alg-none", f"{spelling!r}-junk-signature",
          lambda h=head: unsigned(h, std_claims(), "c2ln"), Answer(401, ALG_UNSUPPORTED))
    # A real RS256 signature by the published key, over an `alg: none` header.
    probe("alg-none", f"{spelling!r}-signed-by-published-key",
          lambda s=spelling: signed_raw(compact_json({"alg": s, "kid": "rsa"}),
                                        compact_json(std_claims())),
          Answer(401, ALG_UNSUPPORTED))

# ---------------------------------------------------------------- HS256 key confusion

for key_name, kid in (("rsa", "rsa"), ("ec256", "ec")):
    for form, secret in public_key_forms(key_name).items():
        probe("key-confusion", f"{key_name}-{form}-HS256-kid",
              Tok(alg="HS256", key=secret, kid=kid, payload=std_claims()), DENY)
for alg in ("HS384", "HS512"):
    probe("key-confusion", f"rsa-pem-{alg}-kid",
          Tok(alg=alg, key=K.pem("rsa").encode(), kid="rsa", payload=std_claims()), DENY)
probe("key-confusion", "rsa-pem-HS256-no-kid",
      Tok(alg="HS256", key=K.pem("rsa").encode(), payload=std_claims()), DENY)

# ---------------------------------------------------------------- embedded keys

EMBEDDED = {
    "jwk": {"jwk": evil_jwk()},
    "jku": {"jku": "https://evil.example.com/jwks.json"},
    "x5u": {"x5u": "https://evil.example.com/cert.pem"},
    "x5c": {"x5c": [evil_x5c()]},
    "all-four": {"jwk": evil_jwk(), "jku": "https://evil.example.com/jwks.json",
                 "x5u": "https://evil.example.com/cert.pem", "x5c": [evil_x5c()]},
}
for name, members in EMBEDDED.items():
    probe("embedded-key-headers", f"{name}-no-kid", by_evil(**members), DENY)
    probe("embedded-key-headers", f"{name}-published-kid", by_evil("rsa", **members), DENY)
    probe("embedded-key-headers", f"{name}-attacker-kid", by_evil("evil", **members),
          Answer(401, NO_KEY))

# ---------------------------------------------------------------- kid

ODD = {"dot-dot-slash": "../../../etc/passwd", "nul-after": "rsa\u0000",
       "nul-only": "\u0000", "nul-inside": "rsa\u0000evil", "quote": 'rsa"',
       "single-quotes": "'rsa'", "crlf": "rsa\r\nx-admin: 1", "sql": "' OR '1'='1",
       "sql-comment": "rsa' --", "cyrillic": "ключ", "homoglyph": "rs\u0430",
       "upper-case": "RSA", "leading-space": " rsa", "percent-encoded": "%72sa",
       "backslash-u": "\\u0072sa"}
for name, kid in ODD.items():
    probe("kid-odd-characters", f"{name}-published-key", Tok(kid=kid, payload=std_claims()),
          Answer(401, NO_KEY))
    probe("kid-odd-characters", f"{name}-attacker-key", by_evil(kid), Answer(401, NO_KEY))
probe("kid-odd-characters", "odd-published-kid-its-key",
      Tok(key="rsa2", kid=ODD_KID, payload=std_claims()), 200,
      accepted_because="the exact kid of a published key, signed by that key")
probe("kid-odd-characters", "odd-published-kid-attacker-key", by_evil(ODD_KID), DENY)
probe("kid-odd-characters", "odd-published-kid-cut-at-nul",
      Tok(key="rsa2", kid=ODD_KID.split("\u0000")[0], payload=std_claims()),
      Answer(401, NO_KEY))
probe("kid-odd-characters", "json-escaped-kid-is-the-same-kid",
      lambda: signed_raw(b'{"alg":"RS256","kid":"\\u0072sa"}', compact_json(std_claims())), 200,
      accepted_because='"\\u0072sa" is the JSON spelling of "rsa": the same kid, its key')

# ---------------------------------------------------------------- unpublished key

probe("unpublished-key", "rs256-published-kid", by_evil("rsa"), DENY)
probe("unpublished-key", "rs256-no-kid", by_evil(), DENY)
probe("unpublished-key", "es256-published-kid",
      Tok(alg="ES256", key=EVIL_EC, kid="ec", payload=std_claims()), DENY)
probe("unpublished-key", "rs256-kid-of-another-key-type",
      Tok(key=EVIL, kid="ec", payload=std_claims()), DENY)

# ---------------------------------------------------------------- other provider

B_CLAIMS = claims(iss=ISS_B)
probe("wrong-provider", "a-token-on-b-route", Tok(key="rsa", kid="ka"),
      Answer(401, BAD_ISS), config="ab", path="/b/x")
probe("wrong-provider", "a-key-with-b-issuer", Tok(key="rsa", kid="ka", payload=B_CLAIMS),
      Answer(401, NO_KEY), config="ab", path="/b/x")
probe("wrong-provider", "a-key-with-b-issuer-and-b-kid",
      Tok(key="rsa", kid="kb", payload=B_CLAIMS), DENY, config="ab", path="/b/x")
probe("wrong-provider", "other-audience", Tok(key="rsa", kid="ka", payload=claims(aud="orders")),
      Answer(403, BAD_AUD), config="ab", path="/aud-b/x")
probe("wrong-provider", "control-b-token-on-b-route", Tok(key="rsa2", kid="kb", payload=B_CLAIMS),
      200, config="ab", path="/b/x", accepted_because="control: B's own token on B's route")

# ---------------------------------------------------------------- time window

probe("time-window", "expired-beyond-skew",
      Tok(kid="rsa", payload=claims(iat=Rel(-3600), exp=Rel(-61))), Answer(401, EXPIRED))
probe("time-window", "expired-an-hour-ago",
      Tok(kid="rsa", payload=claims(iat=Rel(-7200), exp=Rel(-3600))), Answer(401, EXPIRED))
probe("time-window", "nbf-beyond-skew", Tok(kid="rsa", payload=claims(nbf=Rel(120))),
      Answer(401, NOT_YET))
probe("time-window", "control-expired-within-skew",
      Tok(kid="rsa", payload=claims(iat=Rel(-3600), exp=Rel(-30))), 200,
      accepted_because="30 s past exp is inside the default 60 s clock skew")
probe("time-window", "control-nbf-within-skew", Tok(kid="rsa", payload=claims(nbf=Rel(30))),
      200, accepted_because="30 s before nbf is inside the default 60 s clock skew")

# ---------------------------------------------------------------- JWE shapes


def _jwe(header: dict, *parts: bytes | None) -> str:
    """Compact JWE: header, then encrypted key, IV, ciphertext, tag (None: empty)."""
    return ".".join([b64url(compact_json(header))]
                    + ["" if p is None else b64url(p) for p in parts])


RND = os.urandom
probe("jwe-shaped", "five-parts",
      lambda: _jwe({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": "rsa"},
                   RND(256), RND(12), RND(64), RND(16)), Answer(401, BAD_FORM))
probe("jwe-shaped", "five-parts-jws-alg",
      lambda: _jwe({"alg": "RS256", "enc": "A256GCM", "kid": "rsa"},
                   RND(256), RND(12), RND(64), RND(16)), Answer(401, BAD_FORM))
probe("jwe-shaped", "dir-empty-key",
      lambda: _jwe({"alg": "dir", "enc": "A256GCM"}, None, RND(12), RND(64), RND(16)),
      Answer(401, BAD_FORM))
# Empty segments are skipped, so header.ciphertext.tag is left: three parts.
probe("jwe-shaped", "dir-empty-key-and-iv-collapses-to-three",
      lambda: _jwe({"alg": "dir", "enc": "A256GCM"}, None, None, RND(64), RND(16)),
      Answer(401, ALG_UNSUPPORTED))
probe("jwe-shaped", "valid-jws-with-empty-jwe-parts",
      lambda: Tok(kid="rsa", payload=std_claims())() + "..", 200,
      accepted_because="empty segments are skipped (as Envoy): the three others are a valid JWS")

# ---------------------------------------------------------------- RFC 7797 and crit

def json_text(obj) -> str:
    return compact_json(obj).decode()


B64_FALSE = {"alg": "RS256", "kid": "rsa", "b64": False, "crit": ["b64"]}


def _unencoded(payload: str, detached: bool = False) -> str:
    h = b64url(compact_json(B64_FALSE))
    sig = b64url(sign("RS256", K.rsa, f"{h}.{payload}".encode()))
    return f"{h}.{'' if detached else payload}.{sig}"


probe("b64-false", "raw-json-payload", lambda: _unencoded('{"sub":"alice"}'),
      Answer(401, PAYLOAD_B64))
probe("b64-false", "raw-json-payload-with-dots",
      lambda: _unencoded(json_text(std_claims())), Answer(401, BAD_FORM))
probe("b64-false", "detached-payload",
      lambda: _unencoded(json_text(std_claims()), detached=True), Answer(401, BAD_FORM))
probe("b64-false", "raw-json-payload-hardened", lambda: _unencoded('{"sub":"alice"}'),
      Answer(401, PAYLOAD_B64), native=None, config="crit")
probe("b64-false", "base64url-payload-read-as-b64-true",
      Tok(kid="rsa", header={"b64": False, "crit": ["b64"]}, payload=std_claims()), 200,
      accepted_because="signed by the published key; neither filter processes crit "
                       "(RFC 7515 4.1.11): the payload is read as base64url")
probe("b64-false", "base64url-payload-hardened",
      Tok(kid="rsa", header={"b64": False, "crit": ["b64"]}, payload=std_claims()),
      Answer(401, CRIT), native=None, config="crit")

for name, crit in (("unknown-uri", ["https://example.com/ext"]), ("registered-exp", ["exp"]),
                   ("empty-list", []), ("not-a-list", "b64"), ("null", None)):
    token = Tok(kid="rsa", header={"crit": crit, "https://example.com/ext": 1},
                payload=std_claims())
    probe("unknown-crit", name, token, 200,
          accepted_because="signed by the published key; crit is not processed "
                           "(Envoy's behaviour, kept for parity)")
    probe("unknown-crit", f"{name}-hardened", token, Answer(401, CRIT), native=None,
          config="crit")


# ---------------------------------------------------------------- repeated headers

ALICE = Tok(kid="rsa", payload=claims(sub="alice"))
BOB = Tok(kid="rsa", payload=claims(sub="bob"))
TWO_X_JWT = [("x-jwt", "{t}"), ("x-jwt", "{t2}")]
SECOND = {
    "forged": (Tok(kid="rsa", payload=claims(sub="admin"), transform=tamper_sig), DENY),
    "attacker-signed-published-kid": (by_evil("rsa"), DENY),
    "expired": (Tok(kid="rsa", payload=claims(sub="admin", exp=Rel(-3600))),
                Answer(401, EXPIRED)),
    "alg-none": (lambda: unsigned({"alg": "none"}, std_claims(sub="admin")),
                 Answer(401, BAD_FORM)),
    "empty": ("", Answer(401, BAD_FORM)),
}
for name, (bad, answer) in SECOND.items():
    probe("repeated-token-headers", f"valid-then-{name}", ALICE, answer, config="repeated",
          headers=TWO_X_JWT, more=(bad,))
    probe("repeated-token-headers", f"{name}-then-valid", bad, answer, config="repeated",
          headers=TWO_X_JWT, more=(ALICE,))
probe("repeated-token-headers", "two-valid", ALICE, 200, config="repeated", headers=TWO_X_JWT,
      more=(BOB,), accepted_because="both tokens verify; each adds its own claim headers")
probe("repeated-token-headers", "two-authorization-headers-both-valid", ALICE,
      Answer(401, BAD_FORM), headers=[("authorization", "Bearer {t}"),
                                      ("authorization", "Bearer {t2}")], more=(BOB,))

CASES = PROBES.cases


stack, healthy = module_fixtures("attacks-tokens", LISTENS)


@pytest.mark.parametrize("p", PROBES, ids=[p.id for p in PROBES])
def test_attack(stack, p):
    stack.run(p)


def test_repeated_token_headers_add_claim_headers_once_per_token(stack):
    # The last token found is verified first, so its claims come first; the
    # client's own x-sub is dropped and x-jwt goes with every value.
    alice, bob = ALICE(), BOB()
    for side in ("wasm", "native"):
        resp = stack.send(side, "repeated", None, headers=[
            ("x-sub", "root"), ("x-jwt", alice), ("x-jwt", bob)])
        check(resp, 200)
        seen = upstream_headers(resp)
        assert seen["x-sub"] == ["bob", "alice"], side
        assert "x-jwt" not in seen, side
