"""iss / aud / sub checks: issuer match, audience leniency, `subjects`
string matchers, and claims of the wrong JSON type."""

from __future__ import annotations

from model import Req, Scenario, bearer, jwt_config, provider, rule
from tokens import ISS, Tok, claims, jwks, session_keys

from .common import BAD_AUD, BAD_ISS, SUB_NOT_STRING, VERIFY_FAIL, deny, ok

K = session_keys()
KEYS = jwks(K.jwk("rsa", kid="rsa"))
BILLING = "https://billing.example.com"


def C(**kw) -> Tok:
    return Tok(kid="rsa", payload=claims(**kw))


def _issuer() -> list[Scenario]:
    strict = [
        ok("matching", C()),
        deny("wrong", C(iss="https://evil.example.com"), BAD_ISS),
        deny("missing", C(iss=None), BAD_ISS),
        deny("trailing-slash", C(iss=ISS + "/"), BAD_ISS),
        deny("other-case", C(iss=ISS.upper()), BAD_ISS),
        deny("not-a-string", C(iss=5), "Jwt payload [iss] field is not a string"),
    ]
    # No `issuer` in the provider: any iss, or none, is accepted.
    unset = [
        ok("any-issuer", C(iss="https://whoever.example.com")),
        ok("no-issuer", C(iss=None)),
    ]
    return [Scenario("iss_configured", jwt_config({"p": provider(KEYS)}), strict),
            Scenario("iss_unset", jwt_config({"p": provider(KEYS, issuer="")}), unset)]


def _audiences() -> list[Scenario]:
    reqs = [
        ok("exact", C(aud=BILLING)),
        ok("trailing-slash", C(aud=BILLING + "/")),
        ok("http-scheme", C(aud="http://billing.example.com")),
        ok("no-scheme", C(aud="billing.example.com")),
        ok("list-one-matches", C(aud=["https://x.example.com", BILLING])),
        deny("other-case", C(aud="https://BILLING.example.com"), BAD_AUD, 403,
             www_authenticate='Bearer realm="http://api.example.com/", '
                              'error="invalid_token"'),
        deny("other-host", C(aud="https://api.example.com"), BAD_AUD, 403),
        deny("missing", C(aud=None), BAD_AUD, 403),
        deny("empty-list", C(aud=[]), BAD_AUD, 403),
        deny("list-none-match", C(aud=["a", "b"]), BAD_AUD, 403),
        deny("extra-path", C(aud=BILLING + "/v1"), BAD_AUD, 403),
        deny("not-a-string", C(aud=5),
             "Jwt payload [aud] field is not a string or string list"),
        deny("list-with-int", C(aud=[5, BILLING]),
             "Jwt payload [aud] field is not a string or string list"),
        # Observed: the audience is checked before the signature, so a token
        # signed by a foreign key with a wrong audience gets the 403.
        deny("wrong-and-bad-signature",
             Tok(kid="rsa", payload=claims(aud="nope"), key="rsa2"), BAD_AUD, 403),
        deny("right-and-bad-signature",
             Tok(kid="rsa", payload=claims(aud=BILLING), key="rsa2"), VERIFY_FAIL),
    ]
    # Configured audience without scheme and with a trailing slash.
    loose = [
        ok("https-token", C(aud=BILLING)),
        ok("bare-token", C(aud="billing.example.com")),
        deny("other", C(aud="https://billing.example.org"), BAD_AUD, 403),
    ]
    unset = [ok("any-aud", C(aud="whatever")), ok("no-aud", C(aud=None))]
    return [
        Scenario("aud_configured",
                 jwt_config({"p": provider(KEYS, audiences=[BILLING, "urn:other"])}), reqs),
        Scenario("aud_configured_loose",
                 jwt_config({"p": provider(KEYS, audiences=["billing.example.com/"])}), loose),
        Scenario("aud_unset", jwt_config({"p": provider(KEYS)}), unset),
    ]


def _subjects() -> Scenario:
    """One provider per matcher kind, chosen by path prefix."""
    matchers = {
        "exact": {"exact": "alice"},
        "prefix": {"prefix": "spiffe://cluster.local/"},
        "suffix": {"suffix": "@example.com"},
        "regex": {"safe_regex": {"google_re2": {}, "regex": "^user-[0-9]+$"}},
        "contains": {"contains": "admin"},
        "nocase": {"exact": "Alice", "ignore_case": True},
    }
    providers = {k: provider(KEYS, subjects=m) for k, m in matchers.items()}
    rules = [rule(f"/{k}", {"provider_name": k}) for k in matchers]

    def sub(kind: str, value, status: int, name: str) -> Req:
        payload = claims(sub=value) if value is not None else claims(sub=None)
        body = None if status == 200 else VERIFY_FAIL
        return Req(f"{kind}-{name}", status, path=f"/{kind}", headers=bearer(),
                   tokens={"t": Tok(kid="rsa", payload=payload)}, body=body)

    reqs = [
        sub("exact", "alice", 200, "match"),
        sub("exact", "alice2", 401, "longer"),
        sub("exact", "Alice", 401, "case"),
        sub("exact", None, 401, "missing"),
        sub("prefix", "spiffe://cluster.local/ns/a", 200, "match"),
        sub("prefix", "spiffe://cluster.remote/ns/a", 401, "miss"),
        sub("suffix", "bob@example.com", 200, "match"),
        sub("suffix", "bob@example.org", 401, "miss"),
        sub("regex", "user-42", 200, "match"),
        sub("regex", "user-42x", 401, "anchored-miss"),
        sub("contains", "superadmin1", 200, "match"),
        sub("contains", "user", 401, "miss"),
        sub("nocase", "ALICE", 200, "ignore-case"),
        sub("nocase", "bob", 401, "miss"),
        Req("exact-sub-not-string", 401, path="/exact", headers=bearer(),
            tokens={"t": Tok(kid="rsa", payload=claims(sub=7))}, body=SUB_NOT_STRING),
    ]
    return Scenario("subjects", jwt_config(providers, rules), reqs)


SCENARIOS = [*_issuer(), *_audiences(), _subjects()]
