"""The Istio dialect (`"istio": {"requestAuthentication": ...,
"authorizationPolicy": ...}`) in a real Envoy, wasm only.

Expectations are written by hand from Istio's documented behaviour:

* RequestAuthentication: a request without a token is let through (Istio
  generates jwt_authn `requires_any [provider, allow_missing]`); a request
  with an invalid token gets jwt_authn's 401; the token is removed unless
  `forwardOriginalToken`; `outputClaimToHeaders` reach the upstream;
* AuthorizationPolicy: ALLOW lets a request through if any rule matches,
  else 403; DENY refuses it if any rule matches; a request without a token
  has no principal, so `requestPrincipals: ["*"]` refuses it with Envoy RBAC's
  403 `RBAC: access denied` (no WWW-Authenticate), not a 401.

One Envoy serves one listener per config. Keys fetched from `jwksUri`, the
example of docs/istio-dialect.md and refused configs: test_istio_keys.py.
"""

from __future__ import annotations

import json
import time

import pytest

from scenarios.common import BAD_AUD, BAD_FORM, BAD_ISS, EXPIRED, VERIFY_FAIL
from tokens import AUD, ISS, Tok, claims, jwks, session_keys, tamper_sig
from wasm_stack import REALM, check, needs_wasm, upstream_headers, wasm_stack

pytestmark = needs_wasm

K = session_keys()
PARTNER = "https://partner.example.com"
RBAC_DENIED = "RBAC: access denied"

RULE = {"issuer": ISS, "jwks": jwks(K.jwk("rsa", kid="k1")), "audiences": [AUD],
        "outputClaimToHeaders": [{"header": "x-user", "claim": "sub"}]}
PARTNER_RULE = {"issuer": PARTNER, "jwks": jwks(K.jwk("rsa2", kid="k2")),
                "fromHeaders": [{"name": "x-partner-jwt"}]}


def istio(*jwt_rules: dict, policy=None) -> dict:
    d = {"requestAuthentication": {"jwtRules": list(jwt_rules)}}
    if policy is not None:
        d["authorizationPolicy"] = policy
    return {"istio": d}


def allow(*rules: dict) -> dict:
    return {"action": "ALLOW", "rules": list(rules)}


def deny(*rules: dict) -> dict:
    return {"action": "DENY", "rules": list(rules)}


def principals(*p: str) -> dict:
    return {"from": [{"source": {"requestPrincipals": list(p)}}]}


def when(*conditions: dict) -> dict:
    return {"when": list(conditions)}


CONFIGS = {
    "authn": istio(RULE),
    "prefixed": istio({**RULE, "fromHeaders": [{"name": "x-jwt", "prefix": "Token "}]}),
    "forward": istio({**RULE, "forwardOriginalToken": True}),
    "any": istio(RULE, policy=allow(principals("*"))),
    "claims": istio(RULE, policy=allow(when(
        {"key": "request.auth.claims[groups]", "values": ["admin", "ops-*"]},
        {"key": "request.auth.claims[org][tier]", "notValues": ["free"]}))),
    "scope": istio(RULE, policy=allow(when(
        {"key": "request.auth.claims[scope]", "values": ["orders:read"]}))),
    "deny": istio(RULE, policy=deny(when(
        {"key": "request.auth.claims[status]", "values": ["banned"]}))),
    "deny-anonymous": istio(RULE, policy=deny({"from": [
        {"source": {"notRequestPrincipals": ["*"]}}]})),
    "partner-only": istio(RULE, PARTNER_RULE, policy=allow(principals(f"{PARTNER}/*"))),
    "operations": istio(RULE, policy=[
        allow({"to": [{"operation": {"methods": ["GET"], "paths": ["/public/*"]}}]},
              {**principals("*"), "to": [{"operation": {"methods": ["GET", "POST"],
                                                         "paths": ["/orders*"],
                                                         "notPaths": ["*/internal"]}}]}),
        deny(when({"key": "request.headers[x-debug]", "values": ["*"]})),
    ]),
}
CONFIGS["problem"] = {**CONFIGS["any"], "problem_details": True}


@pytest.fixture(scope="module")
def stack():
    with wasm_stack("istio", CONFIGS) as s:
        yield s


def tok(**kw) -> str:
    now = int(time.time())
    return Tok(kid="k1", payload=claims(**{"iat": now, "exp": now + 3600, **kw}))()


def partner_tok(**kw) -> str:
    now = int(time.time())
    payload = claims(**{"iss": PARTNER, "aud": None, "iat": now, "exp": now + 3600, **kw})
    return Tok(kid="k2", key="rsa2", payload=payload)()


INVALID = f'Bearer realm="{REALM}/", error="invalid_token"'


def unauthorized(resp, body: str) -> None:
    check(resp, 401, body=body, www_authenticate=INVALID)


def rbac_denied(resp) -> None:
    check(resp, 403, body=RBAC_DENIED, content_type="text/plain")
    assert resp.header("www-authenticate") is None, resp.headers


# ---------------------------------------------------------------- RequestAuthentication

def test_missing_token_is_allowed_without_a_policy(stack):
    check(stack.send("authn"), 200)


def test_valid_token_passes_with_claim_header_and_token_removed(stack):
    resp = stack.send("authn", "/", tok(), headers=[("x-user", "spoofed")])
    check(resp, 200)
    seen = upstream_headers(resp)
    assert seen.get("x-user") == ["alice"]
    # forwardOriginalToken is false by default in Istio: the header goes.
    assert "authorization" not in seen


def test_claim_header_cannot_be_spoofed_without_a_token(stack):
    resp = stack.send("authn", "/", None, headers=[("x-user", "admin")])
    check(resp, 200)
    assert "x-user" not in upstream_headers(resp)


def test_invalid_tokens_get_401(stack):
    unauthorized(stack.send("authn", "/", tamper_sig(tok())), VERIFY_FAIL)
    now = int(time.time())
    unauthorized(stack.send("authn", "/", tok(iat=now - 7200, exp=now - 3600)), EXPIRED)
    unauthorized(stack.send("authn", "/", tok(iss="https://evil.example.com")), BAD_ISS)
    # Audiences not allowed: jwt_authn's 403.
    check(stack.send("authn", "/", tok(aud="https://other.example.com")), 403, body=BAD_AUD,
          www_authenticate=INVALID)


def test_forward_original_token_keeps_the_header(stack):
    resp = stack.send("forward", "/", tok())
    check(resp, 200)
    assert upstream_headers(resp).get("authorization", [""])[0].startswith("Bearer ")


def test_from_headers_with_prefix(stack):
    t = tok()
    resp = stack.send("prefixed", "/", None, headers=[("x-jwt", f"Token {t}")])
    check(resp, 200)
    seen = upstream_headers(resp)
    assert seen.get("x-user") == ["alice"]
    assert "x-jwt" not in seen
    unauthorized(stack.send("prefixed", "/", None, headers=[("x-jwt", "Token nope")]), BAD_FORM)
    # Authorization is not a location of this rule: no token there, allowed,
    # and left alone.
    resp = stack.send("prefixed", "/", t)
    check(resp, 200)
    assert "x-user" not in upstream_headers(resp)


# ---------------------------------------------------------------- AuthorizationPolicy

def test_any_principal_refuses_no_token_with_rbac_403(stack):
    rbac_denied(stack.send("any"))
    check(stack.send("any", "/", tok()), 200)
    # Without sub there is no principal either.
    rbac_denied(stack.send("any", "/", tok(sub=None)))
    # A bad token is refused by authentication first.
    unauthorized(stack.send("any", "/", tamper_sig(tok())), VERIFY_FAIL)


def test_rbac_403_as_problem_details(stack):
    resp = stack.send("problem")
    check(resp, 403, content_type="application/problem+json")
    assert json.loads(resp.body) == {"type": "about:blank", "title": "Forbidden",
                                     "status": 403, "detail": RBAC_DENIED}
    assert resp.header("www-authenticate") is None


@pytest.mark.parametrize("payload, allowed", [
    ({"groups": ["dev", "admin"]}, True),
    ({"groups": "ops-eu"}, True),
    ({"groups": ["dev"]}, False),
    ({"groups": ["admin"], "org": {"tier": "free"}}, False),
    ({"groups": ["admin"], "org": {"tier": "gold"}}, True),
    ({"groups": "admin"}, True),  # notValues on a missing claim holds
    ({}, False),
])
def test_claim_values_and_not_values(stack, payload, allowed):
    resp = stack.send("claims", "/", tok(**payload))
    if allowed:
        check(resp, 200)
    else:
        rbac_denied(resp)


def test_claims_policy_refuses_no_token(stack):
    rbac_denied(stack.send("claims"))


def test_scope_is_read_as_a_space_delimited_list(stack):
    check(stack.send("scope", "/", tok(scope="openid orders:read")), 200)
    rbac_denied(stack.send("scope", "/", tok(scope="openid orders:write")))
    rbac_denied(stack.send("scope", "/", tok(scope="orders:readonly")))


def test_deny_policy(stack):
    rbac_denied(stack.send("deny", "/", tok(status="banned")))
    check(stack.send("deny", "/", tok(status="active")), 200)
    check(stack.send("deny", "/", tok()), 200)
    check(stack.send("deny"), 200)


def test_deny_requests_without_a_principal(stack):
    rbac_denied(stack.send("deny-anonymous"))
    check(stack.send("deny-anonymous", "/", tok()), 200)


def test_several_jwt_rules_any_may_verify(stack):
    # Only the partner's principal is allowed; its token is in x-partner-jwt.
    resp = stack.send("partner-only", "/", None, headers=[("x-partner-jwt", partner_tok())])
    check(resp, 200)
    rbac_denied(stack.send("partner-only", "/", tok()))
    rbac_denied(stack.send("partner-only"))
    unauthorized(stack.send("partner-only", "/", None,
                            headers=[("x-partner-jwt", tamper_sig(partner_tok()))]),
                 VERIFY_FAIL)


def test_operations_methods_and_paths(stack):
    check(stack.send("operations", "/public/docs"), 200)
    rbac_denied(stack.send("operations", "/public/docs", method="DELETE"))
    rbac_denied(stack.send("operations", "/orders/7"))
    check(stack.send("operations", "/orders/7?page=2", tok()), 200)
    check(stack.send("operations", "/orders", tok(), method="POST"), 200)
    rbac_denied(stack.send("operations", "/orders/internal", tok()))
    rbac_denied(stack.send("operations", "/admin", tok()))
    # The DENY policy on a request header applies before any ALLOW.
    rbac_denied(stack.send("operations", "/public/docs", headers=[("x-debug", "1")]))
