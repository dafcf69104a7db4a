"""DPoP server nonces, DPoP with an introspection provider, and refused DPoP
configs, in a real Envoy, wasm only.

Nonces (RFC 9449 §8, §9): a proof without one is answered 401
`use_dpop_nonce` with a `DPoP-Nonce` header, and the retry carrying it
passes; a nonce made under another secret, or one past its lifetime, is
answered the same way with a fresh nonce. Introspection: the active
answer's top-level `cnf.jkt` binds the token, and its `token_type`, when
present, must be DPoP. Bad `dpop` blocks stop the listener, the error
naming the JSON path (mirrors test_introspection's config tests).
"""

from __future__ import annotations

import time

import pytest

from dpop_client import new_key, proof
from dpop_stack import (BAD_ATH, DOWNGRADE, INVALID_PROOF, INVALID_TOKEN, MISSING_PROOF, NEED_NONCE,
                        NOT_BOUND, USE_NONCE, WRONG_KEY, access_token, algs_param, challenge,
                        check, dpop, dpop_envoy, htu, jwt_provider, one, refused, request)
from envoy_runner import CACHE, NATIVE_ONLY
from introspection_server import AuthorizationServer, opaque_token, typical_claims
from model import jwt_config
from test_introspection import opaque
from wasm_stack import assert_refused, bearer_request, try_configs

SECRET_A = "nonce-secret-A-0123456789-abcdefghijklmnop"
SECRET_B = "nonce-secret-B-0123456789-abcdefghijklmnop"
ALGS = algs_param(None)
INTRO_ALGS = algs_param(["ES256"])


def _configs(server: AuthorizationServer) -> dict:
    return {
        "nonce": one(jwt_provider(dpop("required", nonce={"secret": SECRET_A,
                                                          "lifetime": "60s"}))),
        "nonce-b": one(jwt_provider(dpop("required", nonce={"secret": SECRET_B}))),
        "nonce-short": one(jwt_provider(dpop("required", nonce={"secret": SECRET_A,
                                                                "lifetime": "1s"}))),
        "intro": jwt_config({"as": opaque(server, "as", dpop=dpop(
            "allowed", allowed_algorithms=["ES256"]))}),
    }


@pytest.fixture(scope="module")
def stack():
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")
    server = AuthorizationServer()
    try:
        with dpop_envoy("dpop-nonce", _configs(server), {"as": server.port}) as s:
            s.server = server
            yield s
    finally:
        server.stop()


@pytest.fixture(scope="module")
def key():
    return new_key("ES256")


def nonce_needed(resp) -> str:
    """Assert the use_dpop_nonce reply; its fresh nonce."""
    refused(resp, 401, NEED_NONCE, challenge("/", ALGS, error=USE_NONCE))
    nonce = resp.header("dpop-nonce")
    assert nonce, f"no DPoP-Nonce header in {resp.headers}"
    return nonce


# ---------------------------------------------------------------- nonces

def test_a_proof_without_nonce_gets_one_and_the_retry_passes(stack, key):
    tok = access_token(key)
    nonce = nonce_needed(stack.call("nonce", key, tok))
    check(stack.call("nonce", key, tok, nonce=nonce), 200)
    # Within its lifetime a nonce serves more proofs.
    check(stack.call("nonce", key, access_token(key), nonce=nonce), 200)


def test_a_nonce_made_under_another_secret_is_refused_with_a_fresh_one(stack, key):
    tok = access_token(key)
    foreign = nonce_needed(stack.call("nonce-b", key, tok))
    check(stack.call("nonce-b", key, tok, nonce=foreign), 200)  # good where it was made
    fresh = nonce_needed(stack.call("nonce", key, tok, nonce=foreign))
    assert fresh != foreign
    check(stack.call("nonce", key, tok, nonce=fresh), 200)


def test_an_expired_nonce_is_refused_with_a_fresh_one(stack, key):
    tok = access_token(key)
    old = nonce_needed(stack.call("nonce-short", key, tok))
    check(stack.call("nonce-short", key, tok, nonce=old), 200)
    time.sleep(2.5)  # lifetime 1s: a nonce lives one to two lifetimes; no event to wait for
    fresh = nonce_needed(stack.call("nonce-short", key, tok, nonce=old))
    assert fresh != old
    check(stack.call("nonce-short", key, tok, nonce=fresh), 200)


@pytest.mark.parametrize("nonce", ["", "not-a-nonce", 7], ids=["empty", "garbage", "number"])
def test_a_malformed_nonce_is_refused_with_a_fresh_one(stack, key, nonce):
    tok = access_token(key)
    resp = stack.call("nonce", key, tok, extra_claims={"nonce": nonce})
    check(stack.call("nonce", key, tok, nonce=nonce_needed(resp)), 200)


def test_a_missing_proof_is_invalid_not_a_nonce_request(stack, key):
    resp = stack.send("nonce", request("/", access_token(key), ()))
    refused(resp, 401, MISSING_PROOF, challenge("/", ALGS, error=INVALID_PROOF))


# ---------------------------------------------------------------- introspection

def www_intro(error: str | None, scheme: str = "DPoP") -> str:
    return challenge("/", INTRO_ALGS, "allowed", error, scheme)


def bound(stack, key, **overrides) -> str:
    return stack.server.add(opaque_token(), typical_claims(**{
        "token_type": "DPoP", "cnf": {"jkt": key.jkt}, **overrides}))


@pytest.mark.parametrize("token_type", ["DPoP", "dpop", None], ids=["DPoP", "dpop", "absent"])
def test_introspection_answer_bound_by_cnf_passes(stack, key, token_type):
    tok = bound(stack, key, token_type=token_type)
    check(stack.call("intro", key, tok), 200)
    assert stack.server.count(tok) == 1


def test_introspection_answer_of_type_bearer_is_not_bound(stack, key):
    tok = bound(stack, key, token_type="Bearer")
    refused(stack.call("intro", key, tok), 401, NOT_BOUND, www_intro(INVALID_TOKEN))


def test_introspection_answer_without_cnf_is_not_bound(stack, key):
    tok = bound(stack, key, cnf=None)
    refused(stack.call("intro", key, tok), 401, NOT_BOUND, www_intro(INVALID_TOKEN))


def test_introspection_answer_bound_to_another_key(stack, key):
    tok = bound(stack, new_key("ES256"))
    refused(stack.call("intro", key, tok), 401, WRONG_KEY, www_intro(INVALID_PROOF))


def test_introspection_bound_answer_sent_as_bearer_is_a_downgrade(stack, key):
    tok = bound(stack, key)
    refused(stack.send("intro", bearer_request(tok)), 401, DOWNGRADE,
            www_intro(INVALID_TOKEN, scheme="Bearer"))


def test_introspection_unbound_answer_sent_as_bearer_passes(stack):
    check(stack.send("intro", bearer_request(stack.server.add(opaque_token(),
                                                              typical_claims()))), 200)


def test_introspection_proof_for_another_token_is_refused(stack, key):
    tok = bound(stack, key)
    p = proof(key, "GET", htu("/"), token=bound(stack, key))
    refused(stack.send("intro", request("/", tok, p)), 401, BAD_ATH,
            www_intro(INVALID_PROOF))


# ---------------------------------------------------------------- bad configs

SHORT_SECRET = "0123456789abcdef0123456789abcde"  # 31 bytes
assert len(SHORT_SECRET) == 31


def _bad(**dpop_block) -> dict:
    return one(jwt_provider(dpop_block))


AT = "providers.p.dpop"
BAD_CONFIGS = {
    "mode-missing": (_bad(allowed_algorithms=["ES256"]), f"{AT}.mode"),
    "mode-sometimes": (_bad(mode="sometimes"), f"{AT}.mode"),
    "hs256": (_bad(mode="required", allowed_algorithms=["ES256", "HS256"]),
              f"{AT}.allowed_algorithms[1]"),
    "none": (_bad(mode="required", allowed_algorithms=["none"]),
             f"{AT}.allowed_algorithms[0]"),
    "short-nonce-secret": (_bad(mode="required", nonce={"secret": SHORT_SECRET}),
                           f"{AT}.nonce.secret"),
    "authority-path": (_bad(mode="required", authority="https://api.example.com/base"),
                       f"{AT}.authority"),
    "authority-query": (_bad(mode="required", authority="https://api.example.com?x=1"),
                        f"{AT}.authority"),
    "authority-userinfo": (_bad(mode="required", authority="https://u:p@api.example.com"),
                           f"{AT}.authority"),
    "authority-bad-port": (_bad(mode="required", authority="api.example.com:99999"),
                           f"{AT}.authority"),
    "unknown-field": (_bad(mode="required", max_proof_age="10s"), f"{AT}.max_proof_age"),
    "max-entries-63": (_bad(mode="required", replay_cache={"max_entries": 63}),
                       f"{AT}.replay_cache.max_entries"),
    "max-entries-10000001": (_bad(mode="required", replay_cache={"max_entries": 10000001}),
                             f"{AT}.replay_cache.max_entries"),
}


@pytest.fixture(scope="module")
def refusals():
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")
    return try_configs("dpop-config", {n: c for n, (c, _) in BAD_CONFIGS.items()})


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_dpop_config_is_refused(refusals, name):
    assert_refused(refusals[name], BAD_CONFIGS[name][1])


def test_hs256_is_refused_as_symmetric(refusals):
    line = next(ln for ln in refusals["hs256"].errors if f"{AT}.allowed_algorithms[1]" in ln)
    assert "HS256 is symmetric: a DPoP proof needs an asymmetric algorithm" in line, line


def test_the_nonce_secret_is_never_logged(refusals, stack):
    log = (CACHE / "dpop-config-short-nonce-secret.log").read_text(errors="replace")
    assert SHORT_SECRET not in log
    for secret in (SECRET_A, SECRET_B):
        assert secret not in stack.envoy.log_text()
