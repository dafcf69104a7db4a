"""`authorize` answers in a real Envoy, wasm only: RFC 9457 problem bodies
(`problem_details: true`) and configs Envoy must refuse to load."""

from __future__ import annotations

import copy
import json
import time

import pytest

from authz_common import CONFIGS, K, NOT_AUTHORIZED, PARTNER_ISS, scopes_all, tok, www
from model import provider
from scenarios.common import BAD_AUD, EXPIRED, MISSING
from tokens import jwks
from wasm_stack import assert_refused, check, needs_wasm, try_configs, wasm_stack

pytestmark = needs_wasm


@pytest.fixture(scope="module")
def stack():
    with wasm_stack("authz-answers", {"problem": CONFIGS["problem"]}) as s:
        yield s


# ---------------------------------------------------------------- problem details

PROBLEM_KEYS = ["type", "title", "status", "detail", "error", "scope"]


def problem(resp, status: int, expected: dict, www_authenticate: str) -> None:
    """application/problem+json with exactly `expected`, keys in contract
    order, compact; WWW-Authenticate as without problem_details."""
    check(resp, status, www_authenticate=www_authenticate,
          content_type="application/problem+json")
    got = json.loads(resp.body)
    assert got == expected
    assert list(got) == [k for k in PROBLEM_KEYS if k in expected], "key order"
    assert resp.body.decode() == json.dumps(expected, separators=(",", ":")), "not compact"


def test_problem_details_missing_token(stack):
    problem(stack.send("problem", "/orders"), 401,
            {"type": "about:blank", "title": "Unauthorized", "status": 401,
             "detail": MISSING}, www("/orders"))


def test_problem_details_invalid_token(stack):
    now = int(time.time())
    expired = tok(scope="orders:read", iat=now - 7200, exp=now - 3600)
    problem(stack.send("problem", "/orders", expired), 401,
            {"type": "about:blank", "title": "Unauthorized", "status": 401,
             "detail": EXPIRED, "error": "invalid_token"}, www("/orders", "invalid_token"))


def test_problem_details_audience_403(stack):
    problem(stack.send("problem", "/orders", tok(aud="https://other.example.com")), 403,
            {"type": "about:blank", "title": "Forbidden", "status": 403,
             "detail": BAD_AUD, "error": "invalid_token"}, www("/orders", "invalid_token"))


def test_problem_details_insufficient_scope(stack):
    detail = NOT_AUTHORIZED + "token lacks required scope (needs all of: orders:read)"
    problem(stack.send("problem", "/orders", tok(scope="orders:write")), 403,
            {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": detail,
             "error": "insufficient_scope", "scope": "orders:read"},
            www("/orders", "insufficient_scope", "orders:read"))


def test_problem_details_claim_condition_has_no_scope(stack):
    detail = NOT_AUTHORIZED + 'claim groups fails "contains_any"'
    problem(stack.send("problem", "/admin", tok(groups=["dev"], acr=2)), 403,
            {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": detail,
             "error": "insufficient_scope"}, www("/admin", "insufficient_scope"))


def test_problem_details_leave_passing_requests_alone(stack):
    check(stack.send("problem", "/orders", tok(scope="orders:read")), 200)


# ---------------------------------------------------------------- config errors

BASE = {"providers": {"p": provider(jwks(K.jwk("rsa", kid="k1"))),
                      "q": provider(jwks(K.jwk("rsa2", kid="k2")), issuer=PARTNER_ISS)},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"},
                   "authorize": scopes_all("a")}]}


def _bad(authorize: dict | None = None, **rule_fields) -> dict:
    cfg = copy.deepcopy(BASE)
    rule = cfg["rules"][0]
    if authorize is not None:
        rule["authorize"] = authorize
    for name, value in rule_fields.items():
        if value is None:
            rule.pop(name)
        else:
            rule[name] = value
    return cfg


# name -> (config, JSON path the `jwt-guard: config error:` line must name)
BAD_CONFIGS = {
    "bad-regex": (_bad({"all": [{"claim": "email", "matches": "(unclosed"}]}),
                  "rules[0].authorize.all[0].matches"),
    "empty-scope-list": (_bad({"scopes": {"all_of": []}}), "rules[0].authorize.scopes.all_of"),
    "space-in-scope": (_bad({"scopes": {"any_of": ["a b"]}}),
                       "rules[0].authorize.scopes.any_of"),
    "no-kind": (_bad({}), "rules[0].authorize"),
    "provider-but-no-kind": (_bad({"provider": "p"}), "rules[0].authorize"),
    "two-kinds": (_bad({**scopes_all("a"), "not": scopes_all("b")}), "rules[0].authorize"),
    # next to a valid op, so only the unknown name can be the reason
    "unknown-op": (_bad({"claim": "x", "equals": "a", "starts_with": "a"}),
                   "rules[0].authorize"),
    "op-wrong-type": (_bad({"claim": "x", "gt": "5"}), "rules[0].authorize.gt"),
    "empty-any": (_bad({"any": []}), "rules[0].authorize.any"),
    "ambiguous-provider": (_bad(requires={"requires_any": {"requirements": [
        {"provider_name": "p"}, {"provider_name": "q"}]}}), "rules[0].authorize"),
    "unknown-provider": (_bad({"provider": "nope", **scopes_all("a")}),
                         "rules[0].authorize.provider"),
    "authorize-without-requires": (_bad(requires=None), "rules[0]"),
}


@pytest.fixture(scope="module")
def refusals():
    configs = {"good": BASE, **{n: c for n, (c, _) in BAD_CONFIGS.items()}}
    return try_configs("authz-config", configs)


def test_base_of_bad_configs_loads(refusals):
    assert not refusals["good"].refused, refusals["good"].tail


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_authorize_is_refused(refusals, name):
    assert_refused(refusals[name], BAD_CONFIGS[name][1])
