"""Requirement kinds: provider_name, provider_and_audiences, requires_any,
requires_all, nesting, allow_missing, allow_missing_or_failed, rules without
requires, and requirement_name + requirement_map."""

from __future__ import annotations

from model import Req, Scenario, jwt_config, provider, rule
from tokens import Rel, Tok, claims, jwks, session_keys

from .common import BAD_AUD, BAD_ISS, EXPIRED, MISSING, NOT_YET

K = session_keys()
A, B, C = "https://a.example.com", "https://b.example.com", "https://c.example.com"

# Three providers with their own issuer, key and token location.
PROVIDERS = {
    "a": provider(jwks(K.jwk("rsa", kid="ka")), issuer=A, audiences=["aud-a"],
                  from_headers=[{"name": "x-a"}]),
    "b": provider(jwks(K.jwk("ec256", kid="kb")), issuer=B,
                  from_headers=[{"name": "x-b"}]),
    "c": provider(jwks(K.jwk("ed", kid="kc")), issuer=C),  # default locations
}
TA = Tok(kid="ka", payload=claims(iss=A, aud="aud-a"))
TA_EXP = Tok(kid="ka", payload=claims(iss=A, aud="aud-a", exp=Rel(-3600)))
TA_SPECIAL = Tok(kid="ka", payload=claims(iss=A, aud="special"))
TB = Tok(alg="ES256", key="ec256", kid="kb", payload=claims(iss=B))
TB_NBF = Tok(alg="ES256", key="ec256", kid="kb", payload=claims(iss=B, nbf=Rel(3600)))
TC = Tok(alg="EdDSA", key="ed", kid="kc", payload=claims(iss=C))

P = {"a": {"provider_name": "a"}, "b": {"provider_name": "b"}, "c": {"provider_name": "c"}}


def _any(*reqs) -> dict:
    return {"requires_any": {"requirements": list(reqs)}}


def _all(*reqs) -> dict:
    return {"requires_all": {"requirements": list(reqs)}}


# Paths are chosen so that no rule prefix is a prefix of another's path.
RULES = [
    rule("/name/", P["a"]),
    rule("/pa/", {"provider_and_audiences": {"provider_name": "a", "audiences": ["special"]}}),
    rule("/any-ab/", _any(P["a"], P["b"])),
    rule("/any-ba/", _any(P["b"], P["a"])),
    rule("/all/", _all(P["a"], P["b"])),
    rule("/nested/", _any(_all(P["a"], P["b"]), P["c"])),
    rule("/or-missing/", _any(P["a"], {"allow_missing": {}})),
    rule("/or-failed/", _any(P["a"], {"allow_missing_or_failed": {}})),
    rule("/missing/", {"allow_missing": {}}),
    rule("/failed/", {"allow_missing_or_failed": {}}),
    rule("/none/"),
    {"match": {"prefix": "/named/"}, "requirement_name": "a-and-b"},
    {"match": {"prefix": "/named-c/"}, "requirement_name": "just-c"},
]
REQUIREMENT_MAP = {"a-and-b": _all(P["a"], P["b"]), "just-c": P["c"]}


def R(name: str, status: int, path: str, body: str | None = None, **toks) -> Req:
    """Tokens by provider: a -> x-a, b -> x-b, c -> Authorization: Bearer."""
    where = {"a": ("x-a", "{a}"), "b": ("x-b", "{b}"), "c": ("authorization", "Bearer {c}")}
    headers = [where[k] for k in toks]
    return Req(name, status, path=path, headers=headers, tokens=toks, body=body)


REQUESTS = [
    R("name-valid", 200, "/name/x", a=TA),
    R("name-expired", 401, "/name/x", EXPIRED, a=TA_EXP),
    R("name-missing", 401, "/name/x", MISSING),
    R("name-other-providers-token-ignored", 401, "/name/x", MISSING, b=TB),
    R("name-foreign-issuer-in-location", 401, "/name/x", BAD_ISS, a=TB),
    R("name-provider-audience-mismatch", 403, "/name/x", BAD_AUD, a=TA_SPECIAL),
    R("pa-overriding-audience", 200, "/pa/x", a=TA_SPECIAL),
    R("pa-provider-audience-not-enough", 403, "/pa/x", BAD_AUD, a=TA),
    R("any-a", 200, "/any-ab/x", a=TA),
    R("any-b", 200, "/any-ab/x", b=TB),
    R("any-a-expired-b-valid", 200, "/any-ab/x", a=TA_EXP, b=TB),
    R("any-none", 401, "/any-ab/x", MISSING),
    R("any-a-expired-only", 401, "/any-ab/x", EXPIRED, a=TA_EXP),
    # All alternatives fail: the error reported is the LAST requirement's.
    R("any-a-expired-b-nbf", 401, "/any-ab/x", NOT_YET, a=TA_EXP, b=TB_NBF),
    R("any-reversed-a-expired-b-nbf", 401, "/any-ba/x", EXPIRED, a=TA_EXP, b=TB_NBF),
    R("all-both", 200, "/all/x", a=TA, b=TB),
    R("all-a-only", 401, "/all/x", MISSING, a=TA),
    R("all-a-valid-b-nbf", 401, "/all/x", NOT_YET, a=TA, b=TB_NBF),
    R("all-a-expired-b-valid", 401, "/all/x", EXPIRED, a=TA_EXP, b=TB),
    R("nested-a-and-b", 200, "/nested/x", a=TA, b=TB),
    R("nested-c", 200, "/nested/x", c=TC),
    R("nested-a-only", 401, "/nested/x", MISSING, a=TA),
    R("nested-a-b-expired-c", 200, "/nested/x", a=TA_EXP, b=TB, c=TC),
    R("or-missing-none", 200, "/or-missing/x"),
    R("or-missing-valid", 200, "/or-missing/x", a=TA),
    R("or-missing-expired", 401, "/or-missing/x", EXPIRED, a=TA_EXP),
    R("or-failed-expired", 200, "/or-failed/x", a=TA_EXP),
    R("or-failed-garbage", 200, "/or-failed/x", a="not-a-jwt"),
    R("missing-none", 200, "/missing/x"),
    R("missing-expired", 401, "/missing/x", EXPIRED, a=TA_EXP),
    R("missing-valid-c", 200, "/missing/x", c=TC),
    R("failed-expired", 200, "/failed/x", a=TA_EXP),
    R("failed-wrong-audience", 200, "/failed/x", a=TA_SPECIAL),
    R("failed-none", 200, "/failed/x"),
    R("none-garbage", 200, "/none/x", a="garbage", c="garbage"),
    R("named-both", 200, "/named/x", a=TA, b=TB),
    R("named-a-only", 401, "/named/x", MISSING, a=TA),
    R("named-c-valid", 200, "/named-c/x", c=TC),
    R("named-c-missing", 401, "/named-c/x", MISSING),
    R("unmatched-path", 200, "/elsewhere", a="garbage"),
]

# Where a token must stay or go for the upstream (forward is false everywhere).
_UPSTREAM = {
    "any-a-expired-b-valid": dict(upstream_has={"x-a": "{a}"}, upstream_lacks=["x-b"]),
    "or-failed-expired": dict(upstream_has={"x-a": "{a}"}),
    "failed-expired": dict(upstream_has={"x-a": "{a}"}),
    "failed-wrong-audience": dict(upstream_has={"x-a": "{a}"}),
    "all-both": dict(upstream_lacks=["x-a", "x-b"]),
    "none-garbage": dict(upstream_has={"x-a": "garbage", "authorization": "Bearer garbage"}),
    "nested-c": dict(upstream_lacks=["authorization"]),
}
for req in REQUESTS:
    for key, value in _UPSTREAM.get(req.name, {}).items():
        setattr(req, key, value)

SCENARIOS = [Scenario("requirements",
                      jwt_config(PROVIDERS, RULES, requirement_map=REQUIREMENT_MAP),
                      REQUESTS)]
