"""Where tokens are looked for: the default locations, custom headers with and
without value_prefix, query parameters and cookies; and what is left of the
token for the upstream (forward true/false)."""

from __future__ import annotations

from model import Req, Scenario, bearer, jwt_config, provider
from tokens import Rel, Tok, claims, jwks, session_keys

from .common import BAD_FORM, EXPIRED, MISSING, VERIFY_FAIL, deny, ok

K = session_keys()
KEYS = jwks(K.jwk("rsa", kid="rsa"))
GOOD = Tok(kid="rsa")
EXPIRED_TOK = Tok(kid="rsa", payload=claims(exp=Rel(-3600)))
REALM_ROOT = 'Bearer realm="http://api.example.com/"'


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


SCENARIOS = [_default_locations(), _custom_locations(), _forward_true()]
