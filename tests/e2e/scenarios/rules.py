"""Rule matching: prefix, path, safe_regex, header and query-parameter
matchers, case_sensitive, first match wins; and bypass_cors_preflight."""

from __future__ import annotations

from model import Req, Scenario, bearer, jwt_config, provider
from tokens import Tok, jwks, session_keys

from .common import MISSING

K = session_keys()
KEYS = jwks(K.jwk("rsa", kid="rsa"))
GOOD = Tok(kid="rsa")
REQ = {"provider_name": "p"}


def _m(match: dict, requires: dict | None = REQ) -> dict:
    r: dict = {"match": match}
    if requires is not None:
        r["requires"] = requires
    return r


RULES = [
    _m({"path": "/exact"}),
    # First match wins: the open /api/public must come before /api ...
    _m({"prefix": "/api/public"}, None),
    _m({"prefix": "/api"}),
    # ... while here the broader rule is first, so /b/open is never reached.
    _m({"prefix": "/b"}),
    _m({"prefix": "/b/open"}, None),
    _m({"safe_regex": {"google_re2": {}, "regex": "/re/[0-9]+"}}),
    _m({"prefix": "/m", "headers": [{"name": ":method", "exact_match": "POST"}]}),
    _m({"prefix": "/sm", "headers": [{"name": ":method",
                                       "string_match": {"exact": "DELETE"}}]}),
    _m({"prefix": "/present", "headers": [{"name": "x-tenant", "present_match": True}]}),
    _m({"prefix": "/hprefix", "headers": [{"name": "x-env", "prefix_match": "prod"}]}),
    _m({"prefix": "/inv", "headers": [{"name": "x-env", "string_match": {"exact": "dev"},
                                       "invert_match": True}]}),
    _m({"prefix": "/CaSe", "case_sensitive": False}),
    _m({"prefix": "/Strict"}),
    _m({"prefix": "/qp", "query_parameters": [{"name": "debug",
                                               "string_match": {"exact": "1"}}]}),
    _m({"prefix": "/qpp", "query_parameters": [{"name": "x", "present_match": True}]}),
]


def _r(name: str, path: str, needs_token: bool, method: str = "GET",
       headers: list | None = None) -> list[Req]:
    """Two requests per case: without a token (401 if a rule requires one,
    200 otherwise) and with a valid one (always 200)."""
    h = headers or []
    return [
        Req(f"{name}-no-token", 401 if needs_token else 200, path=path, method=method,
            headers=h, body=MISSING if needs_token else None),
        Req(f"{name}-token", 200, path=path, method=method, headers=h + bearer(),
            tokens={"t": GOOD}),
    ]


def _matching() -> Scenario:
    reqs = [
        *_r("path-exact", "/exact", True),
        *_r("path-exact-with-query", "/exact?x=1", True),
        *_r("path-longer", "/exact/more", False),
        *_r("first-match-open", "/api/public/doc", False),
        *_r("first-match-required", "/api/private", True),
        *_r("prefix-no-slash-boundary", "/apix", True),
        *_r("shadowed-open-rule", "/b/open", True),
        *_r("regex-full-match", "/re/123", True),
        *_r("regex-partial", "/re/123x", False),
        *_r("regex-ignores-query", "/re/9?a=b", True),
        *_r("method-post", "/m", True, method="POST"),
        *_r("method-get", "/m", False),
        *_r("string-match-delete", "/sm", True, method="DELETE"),
        *_r("string-match-put", "/sm", False, method="PUT"),
        *_r("present", "/present", True, headers=[("x-tenant", "")]),
        *_r("absent", "/present", False),
        *_r("header-prefix", "/hprefix", True, headers=[("x-env", "production")]),
        *_r("header-prefix-miss", "/hprefix", False, headers=[("x-env", "staging")]),
        *_r("inverted-miss", "/inv", True, headers=[("x-env", "prod")]),
        *_r("inverted-hit", "/inv", False, headers=[("x-env", "dev")]),
        *_r("case-insensitive", "/case/x", True),
        *_r("case-sensitive-miss", "/strict/x", False),
        *_r("query-match", "/qp?debug=1", True),
        *_r("query-mismatch", "/qp?debug=0", False),
        *_r("query-present", "/qpp?x", True),
        *_r("query-absent", "/qpp?y=1", False),
        *_r("no-rule", "/nothing", False),
    ]
    return Scenario("rules_match", jwt_config({"p": provider(KEYS)}, RULES), reqs)


PREFLIGHT = [("origin", "https://app.example.com"),
             ("access-control-request-method", "POST")]


def _cors(bypass: bool) -> Scenario:
    cfg = jwt_config({"p": provider(KEYS, claim_to_headers=[
        {"header_name": "x-sub", "claim_name": "sub"}])})
    if bypass:
        cfg["bypass_cors_preflight"] = True
    blocked = 200 if bypass else 401
    body = None if bypass else MISSING
    reqs = [
        Req("preflight", blocked, method="OPTIONS", path="/x", headers=PREFLIGHT, body=body),
        Req("preflight-with-garbage-token", blocked, method="OPTIONS", path="/x",
            headers=PREFLIGHT + [("authorization", "Bearer garbage")],
            body=None if bypass else "Jwt is not in the form of Header.Payload.Signature "
                                     "with two dots and 3 sections",
            upstream_has={"authorization": "Bearer garbage"} if bypass else {}),
        # Parity decides whether a bypassed preflight still loses spoofed
        # claim headers (the upstream views are compared).
        Req("preflight-with-spoofed-claim-header", blocked, method="OPTIONS", path="/x",
            headers=PREFLIGHT + [("x-sub", "root")], body=body),
        Req("options-without-origin", 401, method="OPTIONS", path="/x",
            headers=PREFLIGHT[1:], body=MISSING),
        Req("options-without-acrm", 401, method="OPTIONS", path="/x",
            headers=PREFLIGHT[:1], body=MISSING),
        Req("get-with-preflight-headers", 401, path="/x", headers=PREFLIGHT, body=MISSING),
        Req("options-with-token", 200, method="OPTIONS", path="/x",
            headers=bearer(), tokens={"t": GOOD}),
    ]
    return Scenario("cors_bypass" if bypass else "cors_no_bypass", cfg, reqs)


SCENARIOS = [_matching(), _cors(True), _cors(False)]
