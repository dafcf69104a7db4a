"""DPoP modes and schemes in a real Envoy, wasm only: `required` refuses
Bearer, `allowed` takes unbound Bearer tokens and refuses bound ones (a
downgrade), `off` leaves the provider as it was; a DPoP-scheme token next
to any other token is a 400; requests without credentials get the bare
challenges; token errors keep Envoy's sentences under the DPoP challenge.

WWW-Authenticate: `DPoP realm, algs[, error]` under `required`; under
`allowed`, `Bearer realm, DPoP realm, algs`, the error on the scheme the
request's Authorization used (Bearer when it has none), proof and binding
errors always on DPoP.
"""

from __future__ import annotations

import pytest

from dpop_client import new_key, proof
from dpop_stack import (BAD_ALG, DOWNGRADE, INVALID_PROOF, INVALID_REQUEST, INVALID_TOKEN,
                        MISSING_PROOF, NEEDS_DPOP, NOT_BOUND, TWO_TOKENS, access_token,
                        algs_param, challenge, check, dpop, dpop_envoy, htu, jwt_provider, one,
                        refused, request, upstream)
from envoy_runner import NATIVE_ONLY
from model import HOST, Resolved, jwt_config
from scenarios.common import EXPIRED, MISSING, VERIFY_FAIL
from tokens import Rel, tamper_sig
from wasm_stack import REALM, bearer_request

ALLOWED = ["EdDSA", "ES256"]
ALGS = algs_param(ALLOWED)
assert ALGS == "ES256 EdDSA"
CONFIGS = {
    "req": one(jwt_provider(dpop("required", allowed_algorithms=ALLOWED),
                            claim_to_headers=[{"claim_name": "sub", "header_name": "x-sub"}])),
    "allowed": one(jwt_provider(dpop("allowed", allowed_algorithms=ALLOWED))),
    "all": one(jwt_provider(dpop("required"))),
    "off": one(jwt_provider(dpop("off", allowed_algorithms=ALLOWED))),
    "scoped": jwt_config({"p": jwt_provider(dpop("allowed", allowed_algorithms=ALLOWED))},
                         [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"},
                           "authorize": {"scopes": {"all_of": ["orders:write"]}}}]),
}


@pytest.fixture(scope="module")
def stack():
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")
    with dpop_envoy("dpop-schemes", CONFIGS) as s:
        yield s


@pytest.fixture(scope="module")
def key():
    return new_key("ES256")


def www(path: str = "/", mode: str = "required", error: str | None = None,
        scheme: str = "DPoP") -> str:
    return challenge(path, ALGS, mode, error, scheme)


def bearer(stack, name: str, token: str | None, path: str = "/"):
    return stack.send(name, bearer_request(token, path))


# ---------------------------------------------------------------- no credentials

def test_required_without_credentials_offers_dpop_only(stack):
    refused(bearer(stack, "req", None), 401, MISSING, www())


def test_allowed_without_credentials_offers_both_schemes(stack):
    refused(bearer(stack, "allowed", None), 401, MISSING, www(mode="allowed"))
    assert www(mode="allowed") == (f'Bearer realm="{REALM}/", '
                                   f'DPoP realm="{REALM}/", algs="ES256 EdDSA"')


def test_default_algorithms_are_every_asymmetric_one_in_order(stack):
    want = challenge("/x", algs_param(None))
    assert algs_param(None) == "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"
    refused(bearer(stack, "all", None, "/x"), 401, MISSING, want)


def test_a_dpop_header_alone_is_no_credential(stack, key):
    req = request("/", None, proof(key, "GET", htu("/")))
    refused(stack.send("req", req), 401, MISSING, www())


# ---------------------------------------------------------------- required

def test_required_refuses_an_unbound_bearer_token(stack):
    refused(bearer(stack, "req", access_token()), 401, NEEDS_DPOP, www(error=INVALID_TOKEN))


def test_required_refuses_an_unbound_token_in_the_query(stack):
    path = f"/?access_token={access_token()}"
    refused(stack.send("req", request(path)), 401, NEEDS_DPOP, www(path, error=INVALID_TOKEN))


def test_required_passes_a_bound_token_with_its_proof(stack, key):
    check(stack.call("req", key, access_token(key)), 200)


# ---------------------------------------------------------------- allowed

def test_allowed_passes_an_unbound_bearer_token(stack):
    resp = bearer(stack, "allowed", access_token())
    check(resp, 200)
    assert "authorization" not in upstream(resp)["headers"]


def test_allowed_passes_an_unbound_token_in_the_query(stack):
    check(stack.send("allowed", request(f"/?access_token={access_token()}")), 200)


def test_allowed_passes_a_bound_token_with_its_proof(stack, key):
    check(stack.call("allowed", key, access_token(key)), 200)


def test_allowed_refuses_a_bound_token_sent_as_bearer(stack, key):
    refused(bearer(stack, "allowed", access_token(key)), 401, DOWNGRADE,
            www(mode="allowed", error=INVALID_TOKEN, scheme="Bearer"))


def test_allowed_refuses_a_bound_token_in_the_query(stack, key):
    path = f"/?access_token={access_token(key)}"
    refused(stack.send("allowed", request(path)), 401, DOWNGRADE,
            www(path, mode="allowed", error=INVALID_TOKEN, scheme="Bearer"))


def test_allowed_puts_a_proof_error_on_dpop(stack, key):
    resp = stack.send("allowed", request("/", access_token(key), ()))
    refused(resp, 401, MISSING_PROOF, www(mode="allowed", error=INVALID_PROOF))


def test_allowed_puts_a_binding_error_on_dpop(stack, key):
    refused(stack.call("allowed", key, access_token()), 401, NOT_BOUND,
            www(mode="allowed", error=INVALID_TOKEN))


def test_allowed_refuses_an_algorithm_it_does_not_list(stack):
    es384 = new_key("ES384")
    refused(stack.call("allowed", es384, access_token(es384)), 401, BAD_ALG,
            www(mode="allowed", error=INVALID_PROOF))


# ---------------------------------------------------------------- off

def test_off_is_the_provider_without_dpop(stack, key):
    # A bound token is an ordinary token there, and only Bearer is offered.
    check(bearer(stack, "off", access_token(key)), 200)
    refused(bearer(stack, "off", None), 401, MISSING, f'Bearer realm="{REALM}/"')


# ---------------------------------------------------------------- more than one token

def _two(stack, name: str, key, how: str):
    """A valid DPoP request plus a second token, `how`."""
    tok, other = access_token(key), access_token()
    p = proof(key, "GET", htu("/"), token=tok)
    dp, br = ("authorization", f"DPoP {tok}"), ("authorization", f"Bearer {other}")
    path, hdrs = "/", [("host", HOST)]
    if how == "query":
        path, hdrs = f"/?access_token={other}", hdrs + [dp]
    elif how == "dpop-then-bearer":
        hdrs += [dp, br]
    elif how == "bearer-then-dpop":
        hdrs += [br, dp]
    elif how == "two-dpop":
        hdrs += [dp, ("authorization", f"DPoP {access_token(key)}")]
    return path, stack.send(name, Resolved("GET", path, hdrs + [("dpop", p)], None, {}, None))


@pytest.mark.parametrize("how", ["query", "dpop-then-bearer", "bearer-then-dpop", "two-dpop"])
def test_required_refuses_a_dpop_token_with_another_token(stack, key, how):
    path, resp = _two(stack, "req", key, how)
    refused(resp, 400, TWO_TOKENS, www(path, error=INVALID_REQUEST))


@pytest.mark.parametrize("how", ["query", "dpop-then-bearer", "bearer-then-dpop", "two-dpop"])
def test_allowed_refuses_a_dpop_token_with_another_token(stack, key, how):
    # Without DPoP Envoy would verify both tokens: the refusal is DPoP's,
    # whichever scheme came first.
    path, resp = _two(stack, "allowed", key, how)
    refused(resp, 400, TWO_TOKENS, www(path, mode="allowed", error=INVALID_REQUEST,
                                       scheme="DPoP"))


# ---------------------------------------------------------------- token errors

def test_an_expired_bound_token_keeps_envoys_sentence(stack, key):
    tok = access_token(key, exp=Rel(-120), iat=Rel(-3600))
    refused(stack.call("req", key, tok), 401, EXPIRED, www(error=INVALID_TOKEN))


def test_a_forged_bound_token_keeps_envoys_sentence(stack, key):
    tok = tamper_sig(access_token(key))
    refused(stack.call("req", key, tok), 401, VERIFY_FAIL, www(error=INVALID_TOKEN))


def test_claims_come_from_the_token_not_the_proof(stack, key):
    resp = stack.call("req", key, access_token(key, sub="alice"),
                      extra_claims={"sub": "mallory"}, headers=[("x-sub", "eve")])
    check(resp, 200)
    assert upstream(resp)["headers"].get("x-sub") == ["alice"]


def test_an_authorize_refusal_is_challenged_on_the_scheme_the_request_used(stack, key):
    """A valid token without the scope: 403 insufficient_scope, with the
    error (and the scope needed) on DPoP for a DPoP request, on Bearer for a
    Bearer one."""
    path = "/orders"
    scope = ', error="insufficient_scope", scope="orders:write"'
    realm = f'realm="{REALM}{path}"'
    body = "Jwt is not authorized: token lacks required scope (needs all of: orders:write)"
    resp = stack.call("scoped", key, access_token(key, scope="orders:read"), path=path)
    refused(resp, 403, body, f'Bearer {realm}, DPoP {realm}, algs="{ALGS}"{scope}')
    resp = stack.send("scoped", request(path, access_token(scope="orders:read"),
                                        scheme="Bearer"))
    refused(resp, 403, body, f'Bearer {realm}{scope}, DPoP {realm}, algs="{ALGS}"')
