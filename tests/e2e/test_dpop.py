"""DPoP (RFC 9449) proofs in a real Envoy, wasm only: a valid proof for each
algorithm passes, and every failed proof check of the contract's table gets
its own request, with the exact status, body and WWW-Authenticate.

First a few tests of the test client alone (no Envoy), so that what the
Envoy tests send is proven: the RFC 7638 §3.1 thumbprint and RFC 9449 §7.1
`ath` examples, and proofs verified by PyJWT.

The other DPoP modules: test_dpop_schemes.py (modes, schemes, binding,
forwarding), test_dpop_request.py (htu, iat window, replay),
test_dpop_nonce.py (server nonces, introspection, refused configs).
"""

from __future__ import annotations

import hashlib
import secrets
import time

import jwt
import pytest

from dpop_client import ath, decode_segment, new_key, proof, thumbprint
from dpop_stack import (BAD_ALG, BAD_ATH, BAD_HTM, BAD_HTU, BAD_IAT, BAD_JTI, BAD_SIG,
                        BAD_TYP, INVALID_PROOF, INVALID_TOKEN, MISSING_PROOF, NO_JWK,
                        NOT_BOUND, NOT_JWS, PRIVATE_JWK, REPLAY, TWO_PROOFS, UNUSABLE_JWK,
                        WRONG_KEY, access_token, algs_param, challenge, check, dpop,
                        dpop_envoy, htu, jwt_provider, one, refused, request, upstream)
from envoy_runner import NATIVE_ONLY
from tokens import b64url

# ================================================================ the client alone

RFC7638_JWK = {  # RFC 7638 §3.1 (the RFC 7517 A.1 key)
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
         "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
         "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD0"
         "8qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU"
         "8awapJzKnqDKgw",
    "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}


def test_client_thumbprint_is_rfc7638s_example():
    assert thumbprint(RFC7638_JWK) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    # Member order and the non-required members do not change it.
    shuffled = {"kid": "x", "e": "AQAB", "use": "sig", "n": RFC7638_JWK["n"], "kty": "RSA"}
    assert thumbprint(shuffled) == thumbprint(RFC7638_JWK)


def test_client_ath_is_rfc9449s_example():
    assert ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == \
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256"])
def test_client_proof_verifies_with_pyjwt_under_its_own_jwk(alg):
    key = new_key(alg)
    p = proof(key, "POST", "https://a.example/x", token="tok", nonce="n1")
    header = decode_segment(p, 0)
    assert header == {"typ": "dpop+jwt", "alg": alg, "jwk": key.jwk}
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key.jwk)
    got = jwt.decode(p, jwt.PyJWK(header["jwk"], algorithm=alg).key, algorithms=[alg])
    assert {k: got[k] for k in ("htm", "htu", "ath", "nonce")} == {
        "htm": "POST", "htu": "https://a.example/x", "ath": ath("tok"), "nonce": "n1"}
    assert abs(got["iat"] - time.time()) < 5 and len(got["jti"]) >= 16
    assert thumbprint(key.jwk) == key.jkt


def test_client_malformed_variants_are_what_they_say():
    key, other = new_key("ES256"), new_key("ES256")
    none = proof(key, "GET", "http://h/", alg="none")
    assert none.endswith(".") and decode_segment(none, 0)["alg"] == "none"
    hs = proof(key, "GET", "http://h/", alg="HS256", secret=b"s" * 32)
    jwt.decode(hs, b"s" * 32, algorithms=["HS256"])  # a real HMAC under that secret
    priv = proof(key, "GET", "http://h/", jwk=key.private_jwk())
    assert "d" in decode_segment(priv, 0)["jwk"]
    foreign = proof(key, "GET", "http://h/", signer=other)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(foreign, jwt.PyJWK(key.jwk, algorithm="ES256").key, algorithms=["ES256"])
    bare = proof(key, "GET", "http://h/", omit=("typ", "jwk", "jti", "iat"))
    assert set(decode_segment(bare, 0)) == {"alg"}
    assert set(decode_segment(bare, 1)) == {"htm", "htu"}


# ================================================================ Envoy

ALLOWED = ["ES256", "EdDSA", "RS256", "ES384", "PS256"]  # not in the spec's order
ALGS = algs_param(ALLOWED)
assert ALGS == "RS256 PS256 ES256 ES384 EdDSA"
CONFIGS = {
    "req": one(jwt_provider(dpop("required", allowed_algorithms=ALLOWED))),
    "fwd": one(jwt_provider(dpop("required", allowed_algorithms=ALLOWED), forward=True)),
}


@pytest.fixture(scope="module")
def stack():
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")
    with dpop_envoy("dpop", CONFIGS) as s:
        yield s


@pytest.fixture(scope="module")
def keys():
    """One client key per algorithm (RSA generation is slow: once per module)."""
    return {alg: new_key(alg) for alg in ["ES256", "ES384", "ES512", "EdDSA", "RS256",
                                          "PS256"]}


def bad_proof(resp, body: str, path: str = "/") -> None:
    refused(resp, 401, body, challenge(path, ALGS, error=INVALID_PROOF))


@pytest.mark.parametrize("alg", ["ES256", "ES384", "EdDSA", "RS256", "PS256"])
def test_valid_proof_passes_and_neither_header_goes_upstream(stack, keys, alg):
    key = keys[alg]
    tok = access_token(key)
    resp = stack.call("req", key, tok, path="/orders/7")
    check(resp, 200)
    up = upstream(resp)
    assert up["path"] == "/orders/7"
    assert "authorization" not in up["headers"], up["headers"]
    assert "dpop" not in up["headers"], up["headers"]


def test_forward_true_sends_the_token_and_the_proof_upstream(stack, keys):
    key = keys["ES256"]
    tok = access_token(key)
    p = proof(key, "GET", htu("/"), token=tok)
    resp = stack.send("fwd", request("/", tok, p))
    check(resp, 200)
    up = upstream(resp)["headers"]
    assert up.get("authorization") == [f"DPoP {tok}"], up
    assert up.get("dpop") == [p], up


@pytest.mark.parametrize("spelling", ["dpop", "DPOP", "dPoP"])
def test_the_scheme_name_is_case_insensitive(stack, keys, spelling):
    key = keys["ES256"]
    tok = access_token(key)
    p = proof(key, "GET", htu("/"), token=tok)
    check(stack.send("req", request("/", tok, p, scheme=spelling)), 200)


# ---------------------------------------------------------------- one request per row

def test_no_dpop_header(stack, keys):
    tok = access_token(keys["ES256"])
    bad_proof(stack.send("req", request("/", tok, ())), MISSING_PROOF)


def test_two_dpop_headers(stack, keys):
    key = keys["ES256"]
    tok = access_token(key)
    two = [proof(key, "GET", htu("/"), token=tok) for _ in range(2)]
    bad_proof(stack.send("req", request("/", tok, two)), TWO_PROOFS)


def _segments(key, tok) -> list[str]:
    return proof(key, "GET", htu("/"), token=tok).split(".")


NOT_JWS_CASES = {
    "garbage": lambda key, tok: "not-a-jws",
    "two-segments": lambda key, tok: ".".join(_segments(key, tok)[:2]),
    "header-not-json": lambda key, tok: ".".join([b64url(b"{typ"), *_segments(key, tok)[1:]]),
    "payload-not-json": lambda key, tok: ".".join(
        [_segments(key, tok)[0], b64url(b"[1,"), _segments(key, tok)[2]]),
    "not-base64url": lambda key, tok: "!!!." + ".".join(_segments(key, tok)[1:]),
}


@pytest.mark.parametrize("variant", list(NOT_JWS_CASES))
def test_proof_not_a_compact_jws(stack, keys, variant):
    key = keys["ES256"]
    tok = access_token(key)
    bad_proof(stack.send("req", request("/", tok, NOT_JWS_CASES[variant](key, tok))), NOT_JWS)


def _row(stack, key, tok, body, **proof_kw):
    """A proof of `key` for `tok` on GET /, tweaked, must get `body`."""
    bad_proof(stack.call("req", key, tok, **proof_kw), body)


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "dpop", None])
def test_typ_not_dpop_jwt(stack, keys, typ):
    key = keys["ES256"]
    _row(stack, key, access_token(key), BAD_TYP, typ=typ)


def test_alg_none(stack, keys):
    key = keys["ES256"]
    _row(stack, key, access_token(key), BAD_ALG, alg="none")


def test_alg_hs256(stack, keys):
    key = keys["ES256"]
    _row(stack, key, access_token(key), BAD_ALG, alg="HS256", secret=b"k" * 32)


def test_alg_not_in_allowed_algorithms(stack, keys):
    key = keys["ES512"]  # asymmetric and valid, but not configured
    _row(stack, key, access_token(key), BAD_ALG)


def test_no_jwk(stack, keys):
    key = keys["ES256"]
    _row(stack, key, access_token(key), NO_JWK, omit=("jwk",))


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_jwk_with_private_members(stack, keys, alg):
    key = keys[alg]
    _row(stack, key, access_token(key), PRIVATE_JWK, jwk=key.private_jwk())


UNUSABLE = {
    # (jwk's key, header alg, signer)
    "ec-key-rs256": ("ES256", "RS256", "RS256"),
    "p384-key-es256": ("ES384", "ES256", "ES256"),
    "rsa-key-eddsa": ("RS256", "EdDSA", "EdDSA"),
}


@pytest.mark.parametrize("variant", list(UNUSABLE))
def test_jwk_not_usable_for_its_alg(stack, keys, variant):
    jwk_of, alg, signer = UNUSABLE[variant]
    key = keys[jwk_of]
    _row(stack, key, access_token(key), UNUSABLE_JWK, alg=alg, signer=keys[signer])


def test_jwk_missing_a_required_member(stack, keys):
    key = keys["ES256"]
    jwk = {k: v for k, v in key.jwk.items() if k != "y"}
    _row(stack, key, access_token(key), UNUSABLE_JWK, jwk=jwk)


def test_signature_by_another_key(stack, keys):
    key = keys["ES256"]
    _row(stack, key, access_token(key), BAD_SIG, signer=new_key("ES256"))


def test_signature_over_other_claims(stack, keys):
    key = keys["ES256"]
    tok = access_token(key)
    head, _, sig = proof(key, "GET", htu("/"), token=tok).split(".")
    forged = proof(key, "GET", htu("/"), token=tok, alg="none").split(".")[1]
    bad_proof(stack.send("req", request("/", tok, f"{head}.{forged}.{sig}")), BAD_SIG)


@pytest.mark.parametrize("jti", [None, 257 * "j", ""], ids=["missing", "257-chars", "empty"])
def test_jti_missing_or_too_long(stack, keys, jti):
    key = keys["ES256"]
    kw = {"omit": ("jti",)} if jti is None else {"jti": jti}
    _row(stack, key, access_token(key), BAD_JTI, **kw)


def test_jti_of_256_characters_passes(stack, keys):
    key = keys["ES256"]
    jti = "j" * 240 + secrets.token_hex(8)
    assert len(jti) == 256
    check(stack.call("req", key, access_token(key), jti=jti), 200)


@pytest.mark.parametrize("variant", ["other-method", "lower-case", "missing"])
def test_htm_not_the_request_method(stack, keys, variant):
    key = keys["ES256"]
    tok = access_token(key)
    kw = {"omit": ("htm",)} if variant == "missing" else {}
    method = {"other-method": "POST", "lower-case": "get", "missing": "GET"}[variant]
    p = proof(key, method, htu("/"), token=tok, **kw)
    bad_proof(stack.send("req", request("/", tok, p)), BAD_HTM)


@pytest.mark.parametrize("uri", ["http://api.example.com/other", "http://evil.example.com/",
                                 "https://api.example.com/", "http://api.example.com:8080/",
                                 "/", None])
def test_htu_not_the_request_uri(stack, keys, uri):
    key = keys["ES256"]
    tok = access_token(key)
    kw = {"omit": ("htu",)} if uri is None else {}
    p = proof(key, "GET", uri or htu("/"), token=tok, **kw)
    bad_proof(stack.send("req", request("/", tok, p)), BAD_HTU)


@pytest.mark.parametrize("variant", ["missing", "400s-old", "60s-ahead"])
def test_iat_outside_the_window(stack, keys, variant):
    key = keys["ES256"]
    now = int(time.time())
    kw = {"missing": {"omit": ("iat",)}, "400s-old": {"iat": now - 400},
          "60s-ahead": {"iat": now + 60}}[variant]
    _row(stack, key, access_token(key), BAD_IAT, **kw)


@pytest.mark.parametrize("variant", ["another-token", "missing", "hex-digest"])
def test_ath_not_the_tokens_hash(stack, keys, variant):
    key = keys["ES256"]
    tok = access_token(key)
    kw = {"another-token": {"token": access_token(key)},
          "missing": {},
          "hex-digest": {"extra_claims": {"ath": hashlib.sha256(tok.encode()).hexdigest()}},
          }[variant]
    p = proof(key, "GET", htu("/"), **kw)
    bad_proof(stack.send("req", request("/", tok, p)), BAD_ATH)


def test_proof_key_is_not_the_bound_key(stack, keys):
    tok = access_token(keys["ES256"])
    bad_proof(stack.call("req", keys["EdDSA"], tok), WRONG_KEY)


def test_replayed_proof(stack, keys):
    key = keys["ES256"]
    tok = access_token(key)
    req = request("/", tok, proof(key, "GET", htu("/"), token=tok))
    check(stack.send("req", req), 200)
    bad_proof(stack.send("req", req), REPLAY)


def test_the_same_jti_from_another_key_is_no_replay(stack, keys):
    jti = "shared-jti-" + str(time.time_ns())
    for alg in ("ES256", "EdDSA"):
        key = keys[alg]
        check(stack.call("req", key, access_token(key), jti=jti), 200)


def test_unbound_token_with_the_dpop_scheme(stack, keys):
    resp = stack.call("req", keys["ES256"], access_token())
    refused(resp, 401, NOT_BOUND, challenge("/", ALGS, error=INVALID_TOKEN))
