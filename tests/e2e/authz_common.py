"""Shared by the `authorize` e2e tests: providers, token minting, the orders
API and per-condition rules, the listener configs, and answer helpers."""

from __future__ import annotations

import time

from model import provider
from tokens import AUD, Tok, claims, jwks, session_keys
from wasm_stack import REALM, check

K = session_keys()
PARTNER_ISS = "https://partner.example.com"
IDP = provider(jwks(K.jwk("rsa", kid="k1")), audiences=[AUD],
               claim_to_headers=[{"claim_name": "sub", "header_name": "x-user"}])
PARTNER = provider(jwks(K.jwk("rsa2", kid="k2")), issuer=PARTNER_ISS)
NOT_AUTHORIZED = "Jwt is not authorized: "
NULL = object()  # a claim present with JSON null (None drops the claim)


def tok(iss: str | None = None, lifetime: int = 3600, **kw) -> str:
    """A valid token of `idp` (of `partner` with iss=PARTNER_ISS) minted now,
    with extra claims. iat and exp come from one clock reading, so
    exp - iat == lifetime exactly."""
    now = int(time.time())
    payload = claims(**{"iat": now, "exp": now + lifetime, **kw,
                        **({"iss": iss} if iss else {})})
    payload.update({k: None for k, v in kw.items() if v is NULL})
    if iss == PARTNER_ISS:
        return Tok(kid="k2", key="rsa2", payload=payload)()
    return Tok(kid="k1", payload=payload)()


def _rule(match: dict, authorize: dict | None, requires: dict | None = None) -> dict:
    r = {"match": match, "requires": requires or {"provider_name": "idp"}}
    if authorize is not None:
        r["authorize"] = authorize
    return r


def _method(prefix: str, method: str) -> dict:
    return {"prefix": prefix, "headers": [{"name": ":method", "exact_match": method}]}


def scopes_all(*s: str) -> dict:
    return {"scopes": {"all_of": list(s)}}


# The orders API of the authorize example in docs/authorization.md.
ORDERS_RULES = [
    _rule(_method("/orders", "GET"), scopes_all("orders:read")),
    _rule(_method("/orders", "POST"), scopes_all("orders:write")),
    _rule({"prefix": "/admin"}, {"all": [
        {"claim": "groups", "contains_any": ["admin"]},
        {"claim": "acr", "gte": 2},
        {"not": {"claim": ["https://example.com/roles"], "contains_any": ["contractor"]}},
    ]}),
]
ADMIN_NOT = "rules[2].authorize.all[2].not"

# One rule per condition, keyed by its path prefix (trailing `/`: no prefix
# of one is a prefix of another's path).
TENANT_ACME = {"claim": "tenant", "equals": "acme"}
CONDITIONS = {
    "/c/scopes-all/": scopes_all("a", "b"),
    "/c/scopes-any/": {"scopes": {"any_of": ["x", "y"]}},
    "/c/present/": {"claim": "email", "present": True},
    "/c/absent/": {"claim": "act", "present": False},
    "/c/eq-str/": TENANT_ACME,
    "/c/eq-num/": {"claim": "level", "equals": 1},
    "/c/eq-bool/": {"claim": "email_verified", "equals": True},
    "/c/one-of/": {"claim": "tier", "one_of": ["gold", "platinum"]},
    "/c/none-of/": {"claim": "status", "none_of": ["banned", "suspended"]},
    "/c/contains-any/": {"claim": "groups", "contains_any": ["eng", "ops"]},
    "/c/contains-all/": {"claim": "groups", "contains_all": ["eng", "oncall"]},
    "/c/contains-all-one/": {"claim": "groups", "contains_all": ["eng"]},
    "/c/matches/": {"claim": "email", "matches": "[a-z]+@example\\.com"},
    "/c/acr/": {"claim": "acr", "gte": 2, "lt": 5},
    "/c/level/": {"claim": "level", "gt": 1, "lte": 3},
    "/c/lifetime/": {"claim_difference": ["exp", "iat"], "lte": 3600},
    "/c/org/": {"claim": "org.tier", "equals": "enterprise"},
    "/c/org-array/": {"claim": ["org", "tier"], "equals": "enterprise"},
    "/c/roles/": {"claim": ["https://example.com/roles"], "contains_any": ["editor"]},
    "/c/all/": {"all": [TENANT_ACME, scopes_all("a")]},
    "/c/any/": {"any": [TENANT_ACME, {"claim": "groups", "contains_any": ["admin"]}]},
    "/c/any-scopes/": {"any": [scopes_all("a"), scopes_all("b")]},
    "/c/not/": {"not": {"claim": "groups", "contains_any": ["guest"]}},
    "/c/nested/": {"all": [
        {"any": [TENANT_ACME, {"claim": "tenant", "equals": "globex"}]},
        {"not": {"claim": "status", "equals": "suspended"}},
    ]},
}
API_RULES = (ORDERS_RULES + [_rule({"prefix": p}, c) for p, c in CONDITIONS.items()]
             + [_rule({"prefix": "/"}, None)])  # the example's catch-all: authn only


def at(prefix: str) -> str:
    """JSON path of the `authorize` of the condition rule for `prefix`."""
    return f"rules[{len(ORDERS_RULES) + list(CONDITIONS).index(prefix)}].authorize"


def _any(*providers: str) -> dict:
    return {"requires_any": {"requirements": [{"provider_name": p} for p in providers]}}


MULTI_RULES = [
    _rule({"prefix": "/either/"}, {"provider": "idp", **scopes_all("orders:read")},
          _any("idp", "partner")),
    _rule({"prefix": "/partner/"}, {"provider": "partner", "claim": "tier", "equals": "gold"},
          _any("idp", "partner")),
    # Every leaf names idp: `provider` may be left out.
    _rule({"prefix": "/same/"}, scopes_all("orders:read"), {"requires_any": {"requirements": [
        {"provider_name": "idp"},
        {"provider_and_audiences": {"provider_name": "idp", "audiences": ["other"]}}]}}),
    _rule({"prefix": "/optional/"}, {"provider": "idp", **scopes_all("orders:read")},
          {"requires_any": {"requirements": [{"provider_name": "idp"},
                                             {"allow_missing": {}}]}}),
    _rule({"prefix": "/optional-failed/"}, {"provider": "idp", **scopes_all("orders:read")},
          {"requires_any": {"requirements": [{"provider_name": "idp"},
                                             {"allow_missing_or_failed": {}}]}}),
]

CONFIGS = {
    "api": {"providers": {"idp": IDP}, "rules": API_RULES},
    "multi": {"providers": {"idp": IDP, "partner": PARTNER}, "rules": MULTI_RULES},
    "problem": {"providers": {"idp": IDP}, "rules": ORDERS_RULES, "problem_details": True},
}


def www(path: str, error: str | None = None, scope: str | None = None) -> str:
    value = f'Bearer realm="{REALM}{path}"'
    if error:
        value += f', error="{error}"'
    if scope:
        value += f', scope="{scope}"'
    return value


def forbidden(resp, path: str, description: str, scope: str | None = None) -> None:
    check(resp, 403, body=NOT_AUTHORIZED + description,
          www_authenticate=www(path, "insufficient_scope", scope),
          content_type="text/plain")
