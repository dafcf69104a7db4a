"""Where tokens are looked for: the default locations, custom headers with and
without value_prefix, query parameters and cookies; and what is left of the
token for the upstream (forward true/false)."""

from __future__ import annotations

from model import Req, Scenario, bearer, jwt_config, provider, rule
from tokens import Rel, Tok, claims, jwks, session_keys, tamper_sig

from .common import BAD_FORM, BAD_ISS, EXPIRED, MISSING, VERIFY_FAIL, deny, ok

K = session_keys()
KEYS = jwks(K.jwk("rsa", kid="rsa"))
GOOD = Tok(kid="rsa")
EXPIRED_TOK = Tok(kid="rsa", payload=claims(exp=Rel(-3600)))
REALM_ROOT = 'Bearer realm="http://api.example.com/"'

# Tokens for repeated locations: claims a / b tell which token set a header.
ISS2 = "https://other.example.com"
TA = Tok(kid="rsa", payload=claims(sub="alice", a="1"))
TB = Tok(kid="rsa", payload=claims(sub="bob", b="2"))
T_FORGED = Tok(kid="rsa", payload=claims(sub="mallory", a="1"), transform=tamper_sig)
T_EXPIRED = Tok(kid="rsa", payload=claims(sub="old", exp=Rel(-3600)))
T_OTHER = Tok(key="rsa2", kid="rsa2", payload=claims(iss=ISS2, sub="otto", b="2"))
CLAIMS = [{"header_name": "x-sub", "claim_name": "sub"},
          {"header_name": "x-a", "claim_name": "a"},
          {"header_name": "x-b", "claim_name": "b"}]


def _auth(value: str, status: int, name: str, **kw) -> Req:
    return Req(name, status, headers=[("authorization", value)], tokens={"t": GOOD}, **kw)


def _default_locations() -> Scenario:
    """No from_* configured: `Authorization: Bearer` and `?access_token=`."""
    reqs = [
        ok("bearer", GOOD, upstream_lacks=["authorization"]),
        # Missing token: realm only; any other failure adds error="invalid_token".
        Req("no-token", 401, body=MISSING, www_authenticate=REALM_ROOT),
        Req("no-token-realm-has-query", 401, path="/a/b?x=1&y=2", body=MISSING,
            www_authenticate='Bearer realm="http://api.example.com/a/b?x=1&y=2"'),
        Req("query-access-token", 200, path="/p?access_token={t}", tokens={"t": GOOD},
            upstream_path="/p"),
        Req("query-access-token-middle", 200, path="/p?a=1&access_token={t}&b=2",
            tokens={"t": GOOD}, upstream_path="/p?a=1&b=2"),
        Req("query-expired", 401, path="/p?access_token={t}",
            tokens={"t": EXPIRED_TOK}, body=EXPIRED),
        Req("query-bad-token-realm-echoes-it", 401, path="/p?access_token=abc.def&z=1",
            body=BAD_FORM, www_authenticate='Bearer realm="http://api.example.com/p?'
                                            'access_token=abc.def&z=1", error="invalid_token"'),
        # Observed: the realm keeps at most 256 characters of path+query.
        Req("realm-path-255-chars-kept", 401, path="/" + "c" * 254, body=MISSING,
            www_authenticate=f'Bearer realm="http://api.example.com/{"c" * 254}"'),
        Req("realm-path-truncated-to-256", 401, path="/" + "d" * 299, body=MISSING,
            www_authenticate=f'Bearer realm="http://api.example.com/{"d" * 255}"'),
        Req("realm-query-truncated-to-256", 401, path="/q?" + "e" * 299, body=MISSING,
            www_authenticate=f'Bearer realm="http://api.example.com/q?{"e" * 253}"'),
        # Observed: no escaping of quotes or backslashes inside the realm.
        Req("realm-unescaped-quote", 401, path='/a"b\\c?x=%22', body=MISSING,
            www_authenticate='Bearer realm="http://api.example.com/a"b\\c?x=%22"'),
        Req("query-other-name", 401, path="/p?token={t}", tokens={"t": GOOD}, body=MISSING),
        _auth("bearer {t}", 401, "lowercase-scheme", body=MISSING),
        _auth("BEARER {t}", 401, "uppercase-scheme", body=MISSING),
        _auth("Bearer\t{t}", 401, "tab-after-scheme", body=MISSING),
        _auth("Basic dXNlcjpwYXNz", 401, "basic-scheme", body=MISSING),
        _auth("Token Bearer {t}", 200, "prefix-found-mid-value"),
        _auth("Bearer    {t}", 200, "extra-spaces"),
        _auth("Bearer {t} extra", 401, "text-after-token", body=VERIFY_FAIL),
        # Observed: after the prefix, characters up to the first base64url one
        # are skipped (not only spaces); what follows is kept verbatim.
        _auth("Bearer !!!{t}", 200, "junk-before-token-skipped"),
        _auth("Bearer !!!.{t}", 200, "junk-and-dot-before-token-skipped"),
        _auth("Bearer +~{t}", 200, "plus-tilde-before-token-skipped"),
        _auth("Bearer X!{t}", 401, "junk-inside-header-kept",
              body="Jwt header is an invalid Base64url encoded"),
        _auth("Bearer {t}!!!", 401, "junk-after-token-kept",
              body="Jwt signature is an invalid Base64url encoded"),
        _auth("Bearer {t},", 401, "comma-after-token",
              body="Jwt signature is an invalid Base64url encoded"),
        _auth("Bearer ", 401, "empty-after-prefix", body=MISSING),
        Req("two-authorization-headers", 401, tokens={"t": GOOD}, body=BAD_FORM,
            headers=[("authorization", "Bearer {t}"), ("authorization", "Bearer {t}")]),
        Req("header-valid-param-expired", 401, path="/?access_token={t2}",
            headers=bearer(), tokens={"t": GOOD, "t2": EXPIRED_TOK}, body=EXPIRED),
        Req("header-expired-param-valid", 401, path="/?access_token={t2}",
            headers=bearer(), tokens={"t": EXPIRED_TOK, "t2": GOOD}, body=EXPIRED),
        Req("header-and-param-both-valid", 200, path="/x?access_token={t}",
            headers=bearer(), tokens={"t": GOOD}, upstream_path="/x",
            upstream_lacks=["authorization"]),
        Req("post-with-token", 200, method="POST", headers=bearer(), tokens={"t": GOOD}),
        # A repeated parameter is not repeated tokens: the first value is the
        # token, and removal drops every value.
        Req("param-repeated-first-valid", 200, path="/p?access_token={t}&x=1&access_token={f}",
            tokens={"t": GOOD, "f": T_FORGED}, upstream_path="/p?x=1"),
        Req("param-repeated-first-forged", 401, path="/p?access_token={f}&access_token={t}",
            tokens={"t": GOOD, "f": T_FORGED}, body=VERIFY_FAIL),
    ]
    return Scenario("loc_default", jwt_config({"p": provider(KEYS)}), reqs)


def _custom_locations() -> Scenario:
    prov = provider(
        KEYS,
        from_headers=[{"name": "x-jwt"}, {"name": "x-auth", "value_prefix": "Token "}],
        from_params=["token"],
        from_cookies=["jwt", "session"],
    )
    reqs = [
        Req("plain-header", 200, headers=[("x-jwt", "{t}")], tokens={"t": GOOD},
            upstream_lacks=["x-jwt"]),
        Req("plain-header-uppercase-name", 200, headers=[("X-JWT", "{t}")],
            tokens={"t": GOOD}, upstream_lacks=["x-jwt"]),
        Req("prefixed-header", 200, headers=[("x-auth", "Token {t}")], tokens={"t": GOOD},
            upstream_lacks=["x-auth"]),
        Req("prefixed-header-without-prefix", 401, headers=[("x-auth", "{t}")],
            tokens={"t": GOOD}, body=MISSING),
        Req("param", 200, path="/q?token={t}&keep=1", tokens={"t": GOOD},
            upstream_path="/q?keep=1"),
        Req("cookie", 200, headers=[("cookie", "jwt={t}")], tokens={"t": GOOD},
            upstream_has={"cookie": "jwt={t}"}),
        Req("cookie-among-others", 200, headers=[("cookie", "a=1; session={t}; b=2")],
            tokens={"t": GOOD}, upstream_has={"cookie": "a=1; session={t}; b=2"}),
        Req("cookie-expired", 401, headers=[("cookie", "jwt={t}")],
            tokens={"t": EXPIRED_TOK}, body=EXPIRED),
        Req("cookie-other-name", 401, headers=[("cookie", "token={t}")],
            tokens={"t": GOOD}, body=MISSING),
        Req("authorization-not-configured", 401, headers=bearer(), tokens={"t": GOOD},
            body=MISSING),
        Req("access-token-param-not-configured", 401, path="/?access_token={t}",
            tokens={"t": GOOD}, body=MISSING),
        Req("header-valid-param-expired", 401, path="/?token={t2}",
            headers=[("x-jwt", "{t}")], tokens={"t": GOOD, "t2": EXPIRED_TOK},
            body=EXPIRED),
        Req("header-valid-cookie-expired", 401, headers=[("x-jwt", "{t}"),
                                                         ("cookie", "jwt={t2}")],
            tokens={"t": GOOD, "t2": EXPIRED_TOK}, body=EXPIRED),
        Req("two-headers-both-valid", 200, headers=[("x-jwt", "{t}"),
                                                    ("x-auth", "Token {t}")],
            tokens={"t": GOOD}, upstream_lacks=["x-jwt", "x-auth"]),
        Req("no-token", 401, body=MISSING),
        # Two cookie headers are not joined: the first `jwt` cookie is the token.
        Req("cookie-headers-repeated-first-valid", 200,
            headers=[("cookie", "jwt={t}"), ("cookie", "jwt={f}")],
            tokens={"t": GOOD, "f": T_FORGED}),
        Req("cookie-headers-repeated-first-forged", 401,
            headers=[("cookie", "jwt={f}"), ("cookie", "jwt={t}")],
            tokens={"t": GOOD, "f": T_FORGED}, body=VERIFY_FAIL),
    ]
    return Scenario("loc_custom", jwt_config({"p": prov}), reqs)


def _forward_true() -> Scenario:
    prov = provider(KEYS, forward=True, from_headers=[
        {"name": "authorization", "value_prefix": "Bearer "}], from_params=["access_token"])
    reqs = [
        ok("header-kept", GOOD, upstream_has={"authorization": "Bearer {t}"}),
        Req("param-kept", 200, path="/p?access_token={t}&z=9", tokens={"t": GOOD},
            upstream_path="/p?access_token={t}&z=9"),
        deny("expired", EXPIRED_TOK, EXPIRED),
    ]
    return Scenario("loc_forward_true", jwt_config({"p": prov}), reqs)


def _rep(name: str, status: int, headers: list, body: str | None = None, path: str = "/",
         **kw) -> Req:
    """Tokens {a} {b} {f} (forged) {e} (expired) {o} (other issuer)."""
    toks = {"a": TA, "b": TB, "f": T_FORGED, "e": T_EXPIRED, "o": T_OTHER}
    used = {k: v for k, v in toks.items() if any("{" + k + "}" in h[1] for h in headers)}
    return Req(name, status, path=path, headers=headers, tokens=used, body=body, **kw)


def _xjwt(*names: str) -> list:
    return [("x-jwt", "{" + n + "}") for n in names]


def _repeated_headers() -> Scenario:
    """Observed: each value of a repeated header that Envoy's codec does not
    join (x-jwt, x-auth) is a token of its own; every token is verified, from
    the last found to the first, the first failure answers; claim and
    payload headers are added once per token; removal (forward: false)
    drops the header with all its values. Headers the codec joins with `,`
    (Authorization, Authentication) stay one token."""
    prov = provider(KEYS, from_headers=[{"name": "x-jwt"},
                                        {"name": "x-auth", "value_prefix": "Token "},
                                        {"name": "authentication"}],
                    claim_to_headers=CLAIMS, forward_payload_header="x-jwt-payload")
    both = {"x-a": "1", "x-b": "2"}
    gone = ["x-jwt", "x-auth"]
    reqs = [
        _rep("two-valid", 200, _xjwt("a", "b"), upstream_has=both, upstream_lacks=gone),
        _rep("same-token-twice", 200, _xjwt("a", "a"), upstream_lacks=["x-jwt", "x-b"]),
        _rep("three-values", 200, _xjwt("a", "b", "a"), upstream_has={"x-b": "2"},
             upstream_lacks=gone),
        _rep("valid-then-forged", 401, _xjwt("a", "f"), VERIFY_FAIL),
        _rep("forged-then-valid", 401, _xjwt("f", "a"), VERIFY_FAIL),
        _rep("valid-then-expired", 401, _xjwt("a", "e"), EXPIRED),
        _rep("expired-then-valid", 401, _xjwt("e", "a"), EXPIRED),
        # Two bad tokens: the last one is checked first and answers.
        _rep("forged-then-expired", 401, _xjwt("f", "e"), EXPIRED),
        _rep("expired-then-forged", 401, _xjwt("e", "f"), VERIFY_FAIL),
        _rep("valid-then-empty", 401, [("x-jwt", "{a}"), ("x-jwt", "")], BAD_FORM),
        _rep("empty-then-valid", 401, [("x-jwt", ""), ("x-jwt", "{a}")], BAD_FORM),
        _rep("valid-then-garbage", 401, [("x-jwt", "{a}"), ("x-jwt", "abc")], BAD_FORM),
        _rep("two-tokens-in-one-value", 401, [("x-jwt", "{a},{b}")], BAD_FORM),
        _rep("claim-headers-spoofed", 200, _xjwt("a", "b") + [("x-sub", "root"), ("x-a", "9")],
             upstream_has=both),
        _rep("prefixed-two-valid", 200, [("x-auth", "Token {a}"), ("x-auth", "Token {b}")],
             upstream_has=both, upstream_lacks=gone),
        _rep("prefixed-value-without-prefix-skipped", 200,
             [("x-auth", "{a}"), ("x-auth", "Token {b}")], upstream_has={"x-b": "2"},
             upstream_lacks=["x-a", "x-auth"]),
        _rep("prefixed-forged-without-prefix-skipped", 200,
             [("x-auth", "{f}"), ("x-auth", "Token {b}")], upstream_has={"x-b": "2"},
             upstream_lacks=["x-a", "x-auth"]),
        _rep("prefixed-valid-then-forged", 401,
             [("x-auth", "Token {a}"), ("x-auth", "Token {f}")], VERIFY_FAIL),
        _rep("two-locations-repeated", 200,
             [("x-jwt", "{a}"), ("x-auth", "Token {b}"), ("x-jwt", "{b}")],
             upstream_lacks=gone),
        _rep("joined-by-envoy-two-values", 401,
             [("authentication", "{a}"), ("authentication", "{b}")], BAD_FORM),
        _rep("joined-by-envoy-one-value", 200, [("authentication", "{a}")],
             upstream_has={"x-a": "1"}, upstream_lacks=["authentication"]),
    ]
    return Scenario("loc_repeated_headers", jwt_config({"p": prov}), reqs)


def _repeated_headers_forwarded() -> Scenario:
    prov = provider(KEYS, forward=True, from_headers=[{"name": "x-jwt"}],
                    claim_to_headers=CLAIMS)
    reqs = [
        _rep("two-valid-both-kept", 200, _xjwt("a", "b"), upstream_has={"x-a": "1", "x-b": "2"}),
        _rep("valid-then-forged", 401, _xjwt("a", "f"), VERIFY_FAIL),
    ]
    return Scenario("loc_repeated_headers_forward", jwt_config({"p": prov}), reqs)


def _repeated_headers_providers() -> Scenario:
    """Two providers (other issuers and keys) reading the same header, under
    each kind of requirement."""
    p1 = provider(KEYS, from_headers=[{"name": "x-jwt"}], claim_to_headers=CLAIMS)
    p2 = provider(jwks(K.jwk("rsa2", kid="rsa2")), issuer=ISS2,
                  from_headers=[{"name": "x-jwt"}], claim_to_headers=CLAIMS)
    both = [{"provider_name": "p1"}, {"provider_name": "p2"}]
    rules = [rule("/p1", {"provider_name": "p1"}),
             rule("/any", {"requires_any": {"requirements": both}}),
             rule("/all", {"requires_all": {"requirements": both}}),
             rule("/missing", {"allow_missing": {}}),
             rule("/failed", {"allow_missing_or_failed": {}})]
    reqs = [
        _rep("provider-two-valid", 200, _xjwt("a", "b"), path="/p1",
             upstream_has={"x-a": "1", "x-b": "2"}),
        _rep("provider-other-issuer-second", 401, _xjwt("a", "o"), BAD_ISS, path="/p1"),
        _rep("provider-other-issuer-first", 401, _xjwt("o", "a"), BAD_ISS, path="/p1"),
        _rep("any-two-valid", 200, _xjwt("a", "b"), path="/any"),
        _rep("any-one-issuer-each", 401, _xjwt("a", "o"), BAD_ISS, path="/any"),
        # p1 verifies both and removes x-jwt: p2 then finds no token.
        _rep("all-two-valid", 401, _xjwt("a", "b"), MISSING, path="/all"),
        _rep("all-one-issuer-each", 401, _xjwt("a", "o"), BAD_ISS, path="/all"),
        # allow_missing: each token is checked by its issuer's provider and
        # every token is tried; the first token's result decides.
        _rep("missing-one-issuer-each", 200, _xjwt("a", "o"), path="/missing",
             upstream_has={"x-a": "1", "x-b": "2"}, upstream_lacks=["x-jwt"]),
        _rep("missing-valid-then-forged", 200, _xjwt("a", "f"), path="/missing",
             upstream_has={"x-a": "1"}, upstream_lacks=["x-jwt", "x-b"]),
        _rep("missing-forged-then-valid", 401, _xjwt("f", "a"), VERIFY_FAIL, path="/missing"),
        _rep("failed-forged-then-valid", 200, _xjwt("f", "a"), path="/failed",
             upstream_has={"x-a": "1"}, upstream_lacks=["x-jwt"]),
        _rep("failed-one-issuer-each", 200, _xjwt("o", "a"), path="/failed",
             upstream_has={"x-a": "1", "x-b": "2"}),
    ]
    return Scenario("loc_repeated_headers_providers",
                    jwt_config({"p1": p1, "p2": p2}, rules=rules), reqs)


SCENARIOS = [_default_locations(), _custom_locations(), _forward_true(), _repeated_headers(),
             _repeated_headers_forwarded(), _repeated_headers_providers()]
