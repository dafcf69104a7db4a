"""`rules[].authorize` in a real Envoy, wasm only.

The native jwt_authn refuses `authorize`, so every expectation here is written
by hand from docs/authorization.md. One Envoy serves three listeners:

* `api`: the orders API of docs/authorization.md (`GET /orders` needs `orders:read`,
  `POST /orders` needs `orders:write`, `/admin` needs group `admin`, `acr` >= 2
  and not the `contractor` role) plus one rule per condition kind under `/c/`;
* `multi`: two providers, `authorize` naming one of them, `allow_missing`;
* `problem`: the orders rules with `problem_details: true`.

Bad `authorize` configs each get a short-lived Envoy (see wasm_stack).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from authz_common import ADMIN_NOT, CONFIGS, NULL, PARTNER_ISS, at, forbidden, tok, www
from scenarios.common import BAD_AUD, BAD_ISS, EXPIRED, MISSING
from wasm_stack import check, needs_wasm, upstream_headers, wasm_stack

pytestmark = needs_wasm


@pytest.fixture(scope="module")
def stack():
    with wasm_stack("authz", CONFIGS) as s:
        yield s


# ---------------------------------------------------------------- orders API

def test_orders_no_token_is_401_missing(stack):
    check(stack.send("api", "/orders"), 401, body=MISSING, www_authenticate=www("/orders"))


def test_orders_expired_token_is_401_not_403(stack):
    now = int(time.time())
    expired = tok(scope="orders:read", iat=now - 7200, exp=now - 3600)
    check(stack.send("api", "/orders", expired), 401, body=EXPIRED,
          www_authenticate=www("/orders", "invalid_token"))


def test_orders_authn_failures_come_before_authorization(stack):
    # Wrong issuer: 401; wrong audience: the authn 403 (invalid_token), not
    # insufficient_scope, even though the scope would also be missing.
    check(stack.send("api", "/orders", tok(iss="https://evil.example.com",
                                           scope="orders:read")),
          401, body=BAD_ISS, www_authenticate=www("/orders", "invalid_token"))
    check(stack.send("api", "/orders", tok(aud="https://other.example.com")),
          403, body=BAD_AUD, www_authenticate=www("/orders", "invalid_token"))


def test_orders_get_without_read_scope_is_403(stack):
    resp = stack.send("api", "/orders", tok(scope="orders:write"))
    forbidden(resp, "/orders", "token lacks required scope (needs all of: orders:read)",
              scope="orders:read")


def test_orders_realm_of_403_keeps_the_query(stack):
    resp = stack.send("api", "/orders?page=2", tok(scope="orders:write"))
    forbidden(resp, "/orders?page=2",
              "token lacks required scope (needs all of: orders:read)", scope="orders:read")


def test_orders_get_with_read_scope_reaches_upstream(stack):
    resp = stack.send("api", "/orders?page=2", tok(scope="profile orders:read"))
    check(resp, 200)
    seen = json.loads(resp.body)
    assert (seen["method"], seen["path"]) == ("GET", "/orders?page=2")
    headers = upstream_headers(resp)
    assert headers.get("x-user") == ["alice"]
    assert "authorization" not in headers  # forward: false, as without authorize


@pytest.mark.parametrize("sep", ["\t", "\n", "\u00a0", "\u3000"],
                         ids=["tab", "newline", "no-break-space", "ideographic-space"])
def test_orders_read_scope_joined_by_other_whitespace_is_not_granted(stack, sep):
    forbidden(stack.send("api", "/orders", tok(scope=f"openid{sep}orders:read")), "/orders",
              "token lacks required scope (needs all of: orders:read)", scope="orders:read")
    check(stack.send("api", "/orders", tok(scope=f"openid{sep}x orders:read")), 200)


def test_orders_post_needs_write_scope(stack):
    forbidden(stack.send("api", "/orders", tok(scope="orders:read"), method="POST"),
              "/orders", "token lacks required scope (needs all of: orders:write)",
              scope="orders:write")
    resp = stack.send("api", "/orders", tok(scope="orders:read orders:write"), method="POST")
    check(resp, 200)
    assert json.loads(resp.body)["method"] == "POST"


ROLES = "https://example.com/roles"


@pytest.mark.parametrize("claims_,denial", [
    ({"groups": ["dev", "admin"], "acr": 2, ROLES: ["editor"]}, None),
    ({"groups": "admin", "acr": "3"}, None),  # scalar group, numeric-string acr
    ({"groups": ["dev"], "acr": 2}, 'claim groups fails "contains_any"'),
    ({"groups": ["admin"], "acr": 1}, 'claim acr fails "gte"'),
    ({"groups": ["admin"]}, 'claim acr fails "gte"'),
    ({"groups": ["admin"], "acr": 2, ROLES: ["editor", "contractor"]},
     f"the excluded condition at {ADMIN_NOT} is met"),
    ({"acr": 1, ROLES: ["contractor"]}, 'claim groups fails "contains_any"'),  # first child
], ids=["admin", "scalar-and-string", "not-admin", "low-acr", "no-acr", "contractor",
        "all-fail"])
def test_admin(stack, claims_, denial):
    resp = stack.send("api", "/admin/users", tok(**claims_))
    if denial is None:
        check(resp, 200)
    else:
        forbidden(resp, "/admin/users", denial)


def test_admin_no_token_is_401(stack):
    check(stack.send("api", "/admin/users"), 401, body=MISSING,
          www_authenticate=www("/admin/users"))


def test_catch_all_rule_needs_only_a_valid_token(stack):
    check(stack.send("api", "/health", tok()), 200)
    check(stack.send("api", "/health"), 401, body=MISSING, www_authenticate=www("/health"))


# ---------------------------------------------------------------- each condition

@dataclass
class Case:
    name: str
    path: str                  # a key of CONDITIONS
    claims: dict               # extra claims of the token (None drops a claim)
    denial: str | None = None  # None: must pass; else the 403 description
    www_scope: str | None = None  # scope="..." of a failed scopes condition


def P(name, path, **cl) -> Case:
    return Case(name, path, cl)


def D(name, path, denial, www_scope=None, **cl) -> Case:
    return Case(name, path, cl, denial, www_scope)


NEEDS_AB = "token lacks required scope (needs all of: a b)"
NEEDS_XY = "token lacks required scope (needs one of: x y)"
EQ_TENANT = 'claim tenant fails "equals"'

CASES = [
    # scopes: `scope` (space-delimited) plus `scp` (array, or string)
    P("all-of/scope-string", "/c/scopes-all/", scope="a b"),
    P("all-of/extra-and-reordered", "/c/scopes-all/", scope="b c a"),
    P("all-of/scp-array", "/c/scopes-all/", scp=["a", "b"]),
    P("all-of/scp-string", "/c/scopes-all/", scp="a b"),
    P("all-of/scope-plus-scp", "/c/scopes-all/", scope="a", scp=["b"]),
    D("all-of/one-missing", "/c/scopes-all/", NEEDS_AB, "a b", scope="a"),
    D("all-of/no-substring-match", "/c/scopes-all/", NEEDS_AB, "a b", scope="ab"),
    D("all-of/no-scope-claims", "/c/scopes-all/", NEEDS_AB, "a b"),
    P("any-of/scope-string", "/c/scopes-any/", scope="z y"),
    P("any-of/scp-array", "/c/scopes-any/", scp=["x"]),
    P("any-of/scp-string", "/c/scopes-any/", scp="q x"),
    D("any-of/none", "/c/scopes-any/", NEEDS_XY, "x y", scope="z"),
    # scopes are delimited by the space character only (RFC 6749 3.3): other
    # whitespace is part of a word, which then matches no scope
    P("all-of/runs-of-spaces", "/c/scopes-all/", scope="  a   b  "),
    D("all-of/tab-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b", scope="a\tb"),
    D("all-of/newline-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b", scope="a\nb"),
    D("all-of/crlf-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b", scope="a\r\nb"),
    D("all-of/vertical-tab-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b",
      scope="a\u000bb"),
    D("all-of/form-feed-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b",
      scope="a\u000cb"),
    D("all-of/no-break-space-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b",
      scope="a\u00a0b"),
    D("all-of/em-space-is-not-a-delimiter", "/c/scopes-all/", NEEDS_AB, "a b",
      scope="a\u2003b"),
    D("all-of/tab-next-to-a-space", "/c/scopes-all/", NEEDS_AB, "a b", scope="a b\tc"),
    D("all-of/scp-string-tab", "/c/scopes-all/", NEEDS_AB, "a b", scp="a\tb"),
    D("any-of/tab-joined", "/c/scopes-any/", NEEDS_XY, "x y", scope="q\tx"),
    D("any-of/scp-string-newline", "/c/scopes-any/", NEEDS_XY, "x y", scp="y\nq"),
    # present true / false (null counts as absent)
    P("present/string", "/c/present/", email="a@example.com"),
    P("present/empty-string", "/c/present/", email=""),
    D("present/missing", "/c/present/", 'claim email fails "present"'),
    D("present/null", "/c/present/", 'claim email fails "present"', email=NULL),
    P("absent/missing", "/c/absent/"),
    P("absent/null", "/c/absent/", act=NULL),
    D("absent/present", "/c/absent/", 'claim act fails "absent"', act={"sub": "bob"}),
    # equals: strings and booleans exactly, numbers numerically, lists: any element
    P("equals-str/same", "/c/eq-str/", tenant="acme"),
    D("equals-str/other-case", "/c/eq-str/", EQ_TENANT, tenant="Acme"),
    P("equals-str/list-element", "/c/eq-str/", tenant=["globex", "acme"]),
    D("equals-str/missing", "/c/eq-str/", EQ_TENANT),
    P("equals-num/int", "/c/eq-num/", level=1),
    P("equals-num/float", "/c/eq-num/", level=1.0),
    D("equals-num/other", "/c/eq-num/", 'claim level fails "equals"', level=2),
    D("equals-num/string", "/c/eq-num/", 'claim level fails "equals"', level="1"),
    D("equals-num/bool", "/c/eq-num/", 'claim level fails "equals"', level=True),
    P("equals-bool/true", "/c/eq-bool/", email_verified=True),
    D("equals-bool/false", "/c/eq-bool/", 'claim email_verified fails "equals"',
      email_verified=False),
    D("equals-bool/string", "/c/eq-bool/", 'claim email_verified fails "equals"',
      email_verified="true"),
    # one_of / none_of (none_of on a missing claim is NOT met: fail closed)
    P("one-of/member", "/c/one-of/", tier="gold"),
    P("one-of/list-element", "/c/one-of/", tier=["silver", "platinum"]),
    D("one-of/other", "/c/one-of/", 'claim tier fails "one_of"', tier="silver"),
    D("one-of/missing", "/c/one-of/", 'claim tier fails "one_of"'),
    P("none-of/other", "/c/none-of/", status="active"),
    P("none-of/list-clean", "/c/none-of/", status=["active"]),
    D("none-of/member", "/c/none-of/", 'claim status fails "none_of"', status="banned"),
    D("none-of/list-element", "/c/none-of/", 'claim status fails "none_of"',
      status=["active", "suspended"]),
    D("none-of/missing-fails-closed", "/c/none-of/", 'claim status fails "none_of"'),
    # contains_any / contains_all (a scalar counts as a one-element list)
    P("contains-any/list", "/c/contains-any/", groups=["x", "ops"]),
    P("contains-any/scalar", "/c/contains-any/", groups="eng"),
    D("contains-any/list-none", "/c/contains-any/", 'claim groups fails "contains_any"',
      groups=["x", "y"]),
    D("contains-any/scalar-other", "/c/contains-any/", 'claim groups fails "contains_any"',
      groups="x"),
    D("contains-any/missing", "/c/contains-any/", 'claim groups fails "contains_any"'),
    P("contains-all/list", "/c/contains-all/", groups=["oncall", "x", "eng"]),
    D("contains-all/partial", "/c/contains-all/", 'claim groups fails "contains_all"',
      groups=["eng"]),
    D("contains-all/scalar", "/c/contains-all/", 'claim groups fails "contains_all"',
      groups="eng"),
    D("contains-all/missing", "/c/contains-all/", 'claim groups fails "contains_all"'),
    P("contains-all/scalar-single", "/c/contains-all-one/", groups="eng"),
    # matches: full match, on a string or any string element of a list
    P("matches/string", "/c/matches/", email="alice@example.com"),
    P("matches/list-element", "/c/matches/", email=["bob@other.org", "carol@example.com"]),
    D("matches/suffix-not-full", "/c/matches/", 'claim email fails "matches"',
      email="alice@example.com.evil.org"),
    D("matches/prefix-not-full", "/c/matches/", 'claim email fails "matches"',
      email="evil-alice@example.com"),
    D("matches/number", "/c/matches/", 'claim email fails "matches"', email=42),
    D("matches/missing", "/c/matches/", 'claim email fails "matches"'),
    # numeric ops (combined; a numeric string counts); the first failing op is named
    P("acr/lower-bound", "/c/acr/", acr=2),
    P("acr/numeric-string", "/c/acr/", acr="3"),
    P("acr/fraction", "/c/acr/", acr=4.5),
    D("acr/below", "/c/acr/", 'claim acr fails "gte"', acr=1),
    D("acr/below-string", "/c/acr/", 'claim acr fails "gte"', acr="1"),
    D("acr/at-upper-bound", "/c/acr/", 'claim acr fails "lt"', acr=5),
    D("acr/not-numeric", "/c/acr/", 'claim acr fails "gte"', acr="high"),
    D("acr/missing", "/c/acr/", 'claim acr fails "gte"'),
    D("level/at-gt-bound", "/c/level/", 'claim level fails "gt"', level=1),
    P("level/between", "/c/level/", level=1.5),
    P("level/at-lte-bound", "/c/level/", level=3),
    D("level/above", "/c/level/", 'claim level fails "lte"', level=3.5),
    # claim_difference exp - iat (tok() makes exp - iat exactly `lifetime`)
    P("lifetime/exactly-max", "/c/lifetime/", lifetime=3600),
    D("lifetime/one-second-over", "/c/lifetime/", 'claims exp - iat fail "lte"',
      lifetime=3601),
    D("lifetime/no-iat", "/c/lifetime/", 'claims exp - iat fail "lte"', iat=None),
    # nested paths: dotted string, array of keys, URL-named claim
    P("org/nested", "/c/org/", org={"tier": "enterprise"}),
    D("org/other", "/c/org/", 'claim org.tier fails "equals"', org={"tier": "free"}),
    Case("org/dotted-key-is-not-nested", "/c/org/", {"org.tier": "enterprise"},
         'claim org.tier fails "equals"'),
    D("org/not-an-object", "/c/org/", 'claim org.tier fails "equals"', org="enterprise"),
    P("org-array/nested", "/c/org-array/", org={"tier": "enterprise"}),
    D("org-array/other", "/c/org-array/", 'claim ["org","tier"] fails "equals"',
      org={"tier": "free"}),
    Case("roles/url-claim", "/c/roles/", {"https://example.com/roles": ["viewer", "editor"]}),
    Case("roles/url-claim-other", "/c/roles/", {"https://example.com/roles": ["viewer"]},
         'claim ["https://example.com/roles"] fails "contains_any"'),
    # all (first failing child reported, scope attribute if it is a scopes one)
    P("all/both", "/c/all/", tenant="acme", scope="a"),
    D("all/scope-fails", "/c/all/", "token lacks required scope (needs all of: a)", "a",
      tenant="acme"),
    D("all/claim-fails", "/c/all/", EQ_TENANT, tenant="globex", scope="a"),
    D("all/both-fail-first-reported", "/c/all/", EQ_TENANT, tenant="globex"),
    # any / not (the description names the JSON path of the failed node)
    P("any/first", "/c/any/", tenant="acme"),
    P("any/second", "/c/any/", groups=["admin"]),
    D("any/neither", "/c/any/",
      f"none of the alternatives at {at('/c/any/')}.any is met", tenant="globex"),
    D("any/of-scopes-has-no-scope-attribute", "/c/any-scopes/",
      f"none of the alternatives at {at('/c/any-scopes/')}.any is met", scope="c"),
    P("not/other-group", "/c/not/", groups=["user"]),
    P("not/missing", "/c/not/"),
    D("not/excluded", "/c/not/", f"the excluded condition at {at('/c/not/')}.not is met",
      groups=["user", "guest"]),
    P("nested/met", "/c/nested/", tenant="globex", status="active"),
    D("nested/any-fails", "/c/nested/",
      f"none of the alternatives at {at('/c/nested/')}.all[0].any is met", tenant="initech"),
    D("nested/not-fails", "/c/nested/",
      f"the excluded condition at {at('/c/nested/')}.all[1].not is met",
      tenant="acme", status="suspended"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_condition(stack, case: Case):
    path = case.path + "x"
    resp = stack.send("api", path, tok(**case.claims))
    if case.denial is None:
        check(resp, 200)
    else:
        forbidden(resp, path, case.denial, case.www_scope)


# ---------------------------------------------------------------- whose token

def test_named_provider_token_is_checked(stack):
    check(stack.send("multi", "/either/x", tok(scope="orders:read")), 200)
    forbidden(stack.send("multi", "/either/x", tok(scope="orders:write")), "/either/x",
              "token lacks required scope (needs all of: orders:read)", scope="orders:read")


def test_other_providers_token_is_a_missing_token(stack):
    # The requirement passes with the partner token, but no idp token
    # verified: answered as a missing token, whatever the partner's claims.
    check(stack.send("multi", "/either/x", tok(iss=PARTNER_ISS, scope="orders:read")),
          401, body=MISSING, www_authenticate=www("/either/x"))
    check(stack.send("multi", "/either/x"), 401, body=MISSING,
          www_authenticate=www("/either/x"))


def test_condition_on_the_second_provider(stack):
    check(stack.send("multi", "/partner/x", tok(iss=PARTNER_ISS, tier="gold")), 200)
    forbidden(stack.send("multi", "/partner/x", tok(iss=PARTNER_ISS, tier="silver")),
              "/partner/x", 'claim tier fails "equals"')
    check(stack.send("multi", "/partner/x", tok(tier="gold")), 401, body=MISSING,
          www_authenticate=www("/partner/x"))


def test_provider_implied_when_all_leaves_name_it(stack):
    check(stack.send("multi", "/same/x", tok(scope="orders:read")), 200)
    forbidden(stack.send("multi", "/same/x", tok()), "/same/x",
              "token lacks required scope (needs all of: orders:read)", scope="orders:read")


def test_allow_missing_with_authorize_still_needs_a_token(stack):
    check(stack.send("multi", "/optional/x"), 401, body=MISSING,
          www_authenticate=www("/optional/x"))
    check(stack.send("multi", "/optional/x", tok(scope="orders:read")), 200)
    forbidden(stack.send("multi", "/optional/x", tok()), "/optional/x",
              "token lacks required scope (needs all of: orders:read)", scope="orders:read")


def test_allow_missing_or_failed_never_authorizes_a_failed_token(stack):
    now = int(time.time())
    expired = tok(scope="orders:read", iat=now - 7200, exp=now - 3600)
    check(stack.send("multi", "/optional-failed/x", expired), 401, body=MISSING,
          www_authenticate=www("/optional-failed/x"))
    check(stack.send("multi", "/optional-failed/x", tok(scope="orders:read")), 200)
