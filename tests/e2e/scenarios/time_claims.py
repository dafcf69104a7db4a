"""exp / nbf / iat handling: clock skew, exp 0, number shapes, and the
provider options require_expiration and max_lifetime."""

from __future__ import annotations

from model import Scenario, jwt_config, provider
from tokens import Rel, Tok, claims, jwks, session_keys

from .common import (EXP_NOT_INT, EXP_NOT_POSITIVE, EXPIRED, NOT_YET,
                     VERIFY_FAIL, deny, ok)

K = session_keys()
KEYS = jwks(K.jwk("rsa", kid="rsa"))


def C(**kw) -> Tok:
    """RS256 token with standard claims, overridden by kw (None drops one)."""
    return Tok(kid="rsa", payload=claims(**kw))


def _config(**extra) -> dict:
    return jwt_config({"p": provider(KEYS, **extra)})


def _default_skew() -> Scenario:
    reqs = [
        ok("valid", C()),
        deny("expired-1h", C(exp=Rel(-3600)), EXPIRED),
        ok("expired-30s-inside-skew", C(exp=Rel(-30))),
        deny("expired-90s-outside-skew", C(exp=Rel(-90)), EXPIRED),
        deny("nbf-in-1h", C(nbf=Rel(3600)), NOT_YET),
        ok("nbf-in-30s-inside-skew", C(nbf=Rel(30))),
        deny("nbf-in-90s-outside-skew", C(nbf=Rel(90)), NOT_YET),
        ok("nbf-past", C(nbf=Rel(-60))),
        ok("nbf-0", C(nbf=0)),
        ok("exp-0-means-none", C(exp=0)),
        ok("no-exp", C(exp=None)),
        ok("iat-in-future", C(iat=Rel(7200))),
        ok("no-iat", C(iat=None)),
        ok("exp-float-future", C(exp=Rel(3600.5, as_float=True))),
        deny("exp-float-past", C(exp=Rel(-3600.5, as_float=True)), EXPIRED),
        deny("exp-1.5", C(exp=1.5), EXPIRED),
        deny("nbf-float-future", C(nbf=Rel(3600.5, as_float=True)), NOT_YET),
        deny("exp-negative", C(exp=-5), EXP_NOT_POSITIVE),
        deny("exp-minus-half", C(exp=-0.5), EXP_NOT_POSITIVE),
        deny("exp-1e20", C(exp=1e20), EXP_NOT_POSITIVE),
        ok("exp-2pow63-fits-uint64", C(exp=2 ** 63)),
        deny("exp-2pow64", C(exp=2 ** 64), EXP_NOT_POSITIVE),
        deny("exp-numeric-string", C(exp="9999999999"), EXP_NOT_INT),
        deny("exp-bool", C(exp=True), EXP_NOT_INT),
        deny("nbf-negative", C(nbf=-1),
             "Jwt payload [nbf] field is not a positive 64 bit integer"),
        deny("nbf-string", C(nbf="1"), "Jwt payload [nbf] field is not an integer"),
        deny("iat-string", C(iat="1"), "Jwt payload [iat] field is not an integer"),
        deny("iat-negative", C(iat=-1),
             "Jwt payload [iat] field is not a positive 64 bit integer"),
        ok("iat-float", C(iat=1.5)),
    ]
    return Scenario("time_default_skew", _config(), reqs)


def _skews() -> list[Scenario]:
    one = [
        deny("expired-30s", C(exp=Rel(-30)), EXPIRED),
        ok("exp-in-30s", C(exp=Rel(30))),
        deny("nbf-in-30s", C(nbf=Rel(30)), NOT_YET),
        ok("nbf-30s-ago", C(nbf=Rel(-30))),
    ]
    # proto3: 0 is "unset", i.e. the 60 s default.
    zero = [
        ok("expired-30s-inside-default", C(exp=Rel(-30))),
        deny("expired-90s", C(exp=Rel(-90)), EXPIRED),
        ok("nbf-in-30s-inside-default", C(nbf=Rel(30))),
    ]
    big = [
        ok("expired-5min-inside", C(exp=Rel(-300))),
        deny("expired-15min", C(exp=Rel(-900)), EXPIRED),
        ok("nbf-in-5min-inside", C(nbf=Rel(300))),
        deny("nbf-in-15min", C(nbf=Rel(900)), NOT_YET),
    ]
    return [Scenario("time_skew_1s", _config(clock_skew_seconds=1), one),
            Scenario("time_skew_0", _config(clock_skew_seconds=0), zero),
            Scenario("time_skew_600s", _config(clock_skew_seconds=600), big)]


def _require_expiration() -> Scenario:
    reqs = [
        ok("with-exp", C()),
        deny("without-exp", C(exp=None), VERIFY_FAIL),
        deny("exp-0", C(exp=0), VERIFY_FAIL),
        deny("expired", C(exp=Rel(-3600)), EXPIRED),
    ]
    return Scenario("time_require_expiration", _config(require_expiration=True), reqs)


def _max_lifetime() -> Scenario:
    reqs = [
        ok("exp-in-5min", C(exp=Rel(300))),
        deny("exp-in-1h", C(exp=Rel(3600)), VERIFY_FAIL),
        deny("no-exp", C(exp=None), VERIFY_FAIL),
        deny("exp-0", C(exp=0), VERIFY_FAIL),
        # Old iat but near exp: the bound is on exp - now, not exp - iat.
        ok("old-iat-near-exp", C(iat=Rel(-86400), exp=Rel(300))),
        deny("expired", C(exp=Rel(-3600)), EXPIRED),
    ]
    return Scenario("time_max_lifetime", _config(max_lifetime="600s"), reqs)


SCENARIOS = [_default_skew(), *_skews(), _require_expiration(), _max_lifetime()]
