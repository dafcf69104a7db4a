"""Attack catalogue, part 3: the token's JSON and size (ATTACKS.md): deep
nesting, huge numbers, duplicate members, invalid UTF-8, JSON that is not
quite JSON, claim values that try to inject request headers, and tokens and
kids near and beyond Envoy's request-header limit. Native jwt_authn runs
beside jwt-guard on every probe.
"""

from __future__ import annotations

import pytest

from attack_stack import Answer, Listen, Probes, module_fixtures
from attack_tokens import payload_with, signed_raw, std_claims
from client import decode_b64_json
from model import jwt_config, provider
from scenarios.common import BAD_JSON, EXP_NOT_POSITIVE, EXPIRED, NO_KEY, VERIFY_FAIL
from tokens import Tok, compact_json, jwks, session_keys, tamper_sig
from wasm_stack import check, upstream_headers

K = session_keys()
HEADER_JSON = "Jwt header is an invalid JSON"
TOO_LARGE = Answer(431, "Request Header Fields Too Large")

CLAIM_HEADERS = [{"header_name": "x-sub", "claim_name": "sub"},
                 {"header_name": "x-name", "claim_name": "name"},
                 {"header_name": "x-org", "claim_name": "org"}]
CONFIG = jwt_config({"p": provider(jwks(K.jwk("rsa", kid="rsa")),
                                   claim_to_headers=CLAIM_HEADERS)})
LISTENS = {
    "main": Listen(CONFIG),  # Envoy's default 60 KiB request-header limit
    "big": Listen(CONFIG, header_kb=1024),
    # jwt-guard's `authorize` (the native filter refuses the field).
    "scopes": Listen({**CONFIG, "rules": [{"match": {"prefix": "/"},
                                           "requires": {"provider_name": "p"},
                                           "authorize": {"scopes": {
                                               "all_of": ["orders:read"]}}}]},
                     native=False),
}

PROBES = Probes()
probe = PROBES.add


BAD = Answer(401, BAD_JSON)


def header_with(members: str):
    return lambda: signed_raw(('{"alg":"RS256","kid":"rsa"' + members + "}").encode(),
                              compact_json(std_claims()))


# ---------------------------------------------------------------- nesting
# Envoy's JSON parser takes 100 levels of objects and arrays: the payload
# object plus 99 nested arrays pass, plus 100 do not.

probe("nested-json", "payload-100-levels", payload_with(',"d":' + "[" * 99 + "]" * 99), 200,
      accepted_because="100 levels of nesting: within Envoy's JSON limit")
probe("nested-json", "payload-101-levels", payload_with(',"d":' + "[" * 100 + "]" * 100), BAD)
probe("nested-json", "payload-128-levels", payload_with(',"d":' + "[" * 127 + "]" * 127), BAD)
probe("nested-json", "payload-10000-arrays", payload_with(',"d":' + "[" * 10000 + "]" * 10000),
      BAD)
probe("nested-json", "payload-10000-objects",  # 67 KB: beyond the default header limit
      payload_with(',"d":' + '{"a":' * 10000 + "1" + "}" * 10000), BAD, config="big")
probe("nested-json", "payload-10000-unclosed", payload_with(',"d":' + "[" * 10000), BAD)
probe("nested-json", "header-100-levels", header_with(',"d":' + "[" * 99 + "]" * 99), 200,
      accepted_because="100 levels of nesting: within Envoy's JSON limit")
probe("nested-json", "header-101-levels", header_with(',"d":' + "[" * 100 + "]" * 100),
      Answer(401, HEADER_JSON))
probe("nested-json", "header-10000-arrays", header_with(',"d":' + "[" * 10000 + "]" * 10000),
      Answer(401, HEADER_JSON))

# ---------------------------------------------------------------- numbers


def exp_is(text: str):
    """Standard claims with `exp` spelled exactly `text`."""
    def make() -> str:
        claims_text = compact_json({k: v for k, v in std_claims().items() if k != "exp"})
        body = claims_text[:-1] + b',"exp":' + text.encode() + b"}"
        return signed_raw(b'{"alg":"RS256","kid":"rsa"}', body)
    return make


probe("huge-numbers", "exp-1e400", exp_is("1e400"), BAD)
probe("huge-numbers", "exp-minus-1e400", exp_is("-1e400"), BAD)
probe("huge-numbers", "exp-2-pow-64", exp_is(str(2 ** 64)), Answer(401, EXP_NOT_POSITIVE))
probe("huge-numbers", "exp-2-pow-64-minus-1", exp_is(str(2 ** 64 - 1)),
      Answer(401, EXP_NOT_POSITIVE))
probe("huge-numbers", "exp-largest-double-below-2-pow-64", exp_is(str(2 ** 64 - 2048)), 200,
      accepted_because="a valid (far-future) exp: 2^64 - 2048 is the largest double below 2^64")
probe("huge-numbers", "exp-rounding-to-2-pow-64", exp_is(str(2 ** 64 - 1024)),
      Answer(401, EXP_NOT_POSITIVE))
# serde_json's default float parser may be one ulp off: this decimal's
# nearest double is 2^64 - 2048 (native: a far-future exp), serde_json reads
# 2^64 (jwt-guard: out of range). serde_json's float_roundtrip feature would
# fix it, at 43 KB of wasm.
probe("huge-numbers", "exp-float-one-ulp-below-2-pow-64", exp_is("1.8446744073709550e19"),
      Answer(401, EXP_NOT_POSITIVE), native=Answer(200))
probe("huge-numbers", "exp-minus-zero", exp_is("-0"), 200,
      accepted_because="-0 is 0, and exp 0 means no expiry in Envoy (require_expiration "
                       "refuses it)")
probe("huge-numbers", "exp-1.0", exp_is("1.0"), Answer(401, EXPIRED))
probe("huge-numbers", "exp-1E3", exp_is("1E3"), Answer(401, EXPIRED))
probe("huge-numbers", "exp-negative", exp_is("-1"), Answer(401, EXP_NOT_POSITIVE))
probe("huge-numbers", "nbf-1e400", payload_with(',"nbf":1e400'), BAD)
probe("huge-numbers", "unread-claim-1e400", payload_with(',"x":1e400'), BAD)
probe("huge-numbers", "unread-claim-100-digits", payload_with(',"x":' + "9" * 100), 200,
      accepted_because="a long integer in a claim nobody reads is valid JSON")
probe("huge-numbers", "header-1e400", header_with(',"x":1e400'), Answer(401, HEADER_JSON))

# ---------------------------------------------------------------- duplicates

probe("duplicate-members", "exp-expired-first",
      lambda: signed_raw(b'{"alg":"RS256","kid":"rsa"}', compact_json(std_claims())[:-1]
                         + b',"exp":1}'), BAD)
probe("duplicate-members", "exp-expired-last",
      lambda: signed_raw(b'{"alg":"RS256","kid":"rsa"}',
                         b'{"exp":1,' + compact_json(std_claims())[1:]), BAD)
probe("duplicate-members", "exp-spelled-with-escape", payload_with(',"\\u0065xp":1'), BAD)
probe("duplicate-members", "sub-spelled-with-escape", payload_with(',"su\\u0062":"admin"'), BAD)
probe("duplicate-members", "nested-object", payload_with(',"org":{"id":1,"id":2}'), BAD)
probe("duplicate-members", "object-inside-array", payload_with(',"a":[{"k":1,"k":2}]'), BAD)
probe("duplicate-members", "header-alg",
      lambda: signed_raw(b'{"alg":"RS256","kid":"rsa","\\u0061lg":"none"}',
                         compact_json(std_claims())), Answer(401, HEADER_JSON))

# ---------------------------------------------------------------- UTF-8


def raw_name(raw: bytes):
    """A payload whose `name` claim holds these raw bytes between quotes."""
    def make() -> str:
        body = compact_json(std_claims())[:-1] + b',"name":"' + raw + b'"}'
        return signed_raw(b'{"alg":"RS256","kid":"rsa"}', body)
    return make


probe("invalid-utf8", "payload-ff-fe", raw_name(b"a\xff\xfeb"), BAD)
probe("invalid-utf8", "payload-overlong-slash", raw_name(b"a\xc0\xafb"), BAD)
probe("invalid-utf8", "payload-cesu-surrogate", raw_name(b"a\xed\xa0\x80b"), BAD)
probe("invalid-utf8", "payload-lone-surrogate-escape", payload_with(',"name":"\\ud800"'), BAD)
probe("invalid-utf8", "payload-bom",
      lambda: signed_raw(b'{"alg":"RS256","kid":"rsa"}',
                         b"\xef\xbb\xbf" + compact_json(std_claims())), BAD)
probe("invalid-utf8", "header-ff",
      lambda: signed_raw(b'{"alg":"RS256","kid":"rsa","x":"\xff"}', compact_json(std_claims())),
      Answer(401, HEADER_JSON))

# ---------------------------------------------------------------- not quite JSON
# Envoy's protobuf JSON parser accepts these; jwt-guard's strict parser does not.

NATIVE_LENIENT = Answer(200)
for name, members in (("single-quoted-value", ",\"name\":'x'"),
                      ("single-quoted-key", ",'name':\"x\""),
                      ("unquoted-key", ',name:"x"'),
                      ("trailing-comma-object", ","),
                      ("trailing-comma-array", ',"a":[1,2,]'),
                      ("raw-tab-in-string", ',"name":"a\tb"'),
                      ("raw-nul-in-unforwarded-claim", ',"x":"a\x00b"')):
    probe("lenient-json", name, payload_with(members), BAD, native=NATIVE_LENIENT)
probe("lenient-json", "single-quoted-header",
      lambda: signed_raw(b"{'alg':'RS256','kid':'rsa'}", compact_json(std_claims())),
      Answer(401, HEADER_JSON), native=NATIVE_LENIENT)
# A raw control character in a forwarded claim: Envoy itself then refuses
# the request upstream (see claim-header-injection); jwt-guard refuses the token.
probe("lenient-json", "raw-newline-in-forwarded-claim", raw_name(b"a\nx-admin: true"), BAD,
      native=Answer(503, "invalid header value for: x-name"))

# ---------------------------------------------------------------- size

# Envoy's default limit is 60 KiB for all request headers together.
PAD = "x" * 40_000   # a ~54 KB token
probe("oversize-token", "near-the-limit-valid", Tok(kid="rsa", payload=std_claims(pad=PAD)), 200,
      accepted_because="a valid token of 54 KB, under Envoy's 60 KiB header limit")
probe("oversize-token", "near-the-limit-forged",
      Tok(kid="rsa", payload=std_claims(pad=PAD), transform=tamper_sig), Answer(401, VERIFY_FAIL))
probe("oversize-token", "beyond-the-limit", Tok(kid="rsa", payload=std_claims(pad="x" * 48_000)),
      TOO_LARGE)
probe("oversize-token", "900k-raised-limit-valid",
      Tok(kid="rsa", payload=std_claims(pad="x" * 675_000)), 200, config="big",
      accepted_because="a valid 900 KB token where max_request_headers_kb allows it")
probe("oversize-token", "900k-raised-limit-forged",
      Tok(kid="rsa", payload=std_claims(pad="x" * 675_000), transform=tamper_sig),
      Answer(401, VERIFY_FAIL), config="big")
probe("kid-very-long", "40k-kid", Tok(kid="k" * 40_000, payload=std_claims()),
      Answer(401, NO_KEY))
probe("kid-very-long", "64k-kid", Tok(kid="k" * 65_536, payload=std_claims()), TOO_LARGE)
probe("kid-very-long", "64k-kid-raised-limit", Tok(kid="k" * 65_536, payload=std_claims()),
      Answer(401, NO_KEY), config="big")
probe("kid-very-long", "512k-kid-raised-limit", Tok(kid="k" * 524_288, payload=std_claims()),
      Answer(401, NO_KEY), config="big")

# ---------------------------------------------------------------- scope words
# RFC 6749 3.3: scope tokens are separated by the space character. A scope
# joined to another by any other whitespace is part of a longer word.

NO_READ = Answer(403, "Jwt is not authorized: token lacks required scope "
                      "(needs all of: orders:read)")
SEPARATORS = {"tab": "\t", "newline": "\n", "cr": "\r", "crlf": "\r\n",
              "vertical-tab": "\u000b", "form-feed": "\u000c", "no-break-space": "\u00a0",
              "em-space": "\u2003", "line-separator": "\u2028",
              "ideographic-space": "\u3000"}
for name, sep in SEPARATORS.items():
    for claim in ("scope", "scp"):
        probe("scope-delimiters", f"{claim}-{name}",
              Tok(kid="rsa", payload=std_claims(**{claim: f"openid{sep}orders:read"})),
              NO_READ, native=None, config="scopes")
probe("scope-delimiters", "scope-space", Tok(kid="rsa", payload=std_claims(
    scope="openid orders:read")), 200, native=None, config="scopes",
    accepted_because="control: the scope is granted, space-delimited")
probe("scope-delimiters", "scope-runs-of-spaces", Tok(kid="rsa", payload=std_claims(
    scope="  openid   orders:read ")), 200, native=None, config="scopes",
    accepted_because="control: empty words between spaces are ignored")

CASES = PROBES.cases | {"claim-header-injection"}


stack, healthy = module_fixtures("attacks-json", LISTENS)


@pytest.mark.parametrize("p", PROBES, ids=[p.id for p in PROBES])
def test_attack(stack, p):
    stack.run(p)


# ---------------------------------------------------------------- claim headers

INJECTIONS = {
    "crlf-header": ("name", "alice\r\nx-admin: true"),
    "lf-header": ("name", "alice\nx-admin: true"),
    "cr-only": ("name", "alice\rx-admin: true"),
    "crlf-crlf-request-smuggling": ("name", "a\r\n\r\nGET /admin HTTP/1.1\r\nhost: x"),
    "nul": ("name", "alice\u0000admin"),
    "del": ("name", "alice\u007f"),
    "crlf-in-sub": ("sub", "alice\r\nx-admin: true"),
}


@pytest.mark.parametrize("claim,value", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_claim_header_injection_never_reaches_the_upstream(stack, claim, value):
    token = Tok(kid="rsa", payload=std_claims(**{claim: value}))()
    header = {"name": "x-name", "sub": "x-sub"}[claim]
    for side in ("wasm", "native"):
        before = stack.upstream_seen()
        # Envoy checks the request it is about to send upstream (the codec
        # refuses to write it) and answers 503 itself.
        check(stack.send(side, "main", token), 503, body=f"invalid header value for: {header}")
        assert stack.upstream_seen() == before, f"{side}: the upstream saw something"
    # Nothing the claims tried to add ever arrived, in any request so far.
    smuggled = [r for r in stack.echo.received
                if r["path"] == "/admin" or ["x-admin", "true"] in r["headers"]]
    assert not smuggled, smuggled


ODD_BUT_VALID = {"tab": "a\tb", "unicode": "Zoë ✓", "line-separator": "a\u2028b",
                 "header-syntax-without-newline": "alice: x-admin: true"}


@pytest.mark.parametrize("value", list(ODD_BUT_VALID.values()), ids=list(ODD_BUT_VALID))
def test_odd_claim_values_arrive_verbatim_in_one_header(stack, value):
    token = Tok(kid="rsa", payload=std_claims(name=value))()
    seen = {}
    for side in ("wasm", "native"):
        resp = stack.send(side, "main", token, headers=[("x-name", "spoofed"),
                                                        ("x-admin", "spoofed")])
        check(resp, 200)
        seen[side] = upstream_headers(resp)
        assert seen[side]["x-name"] == [value], side
        assert seen[side]["x-admin"] == ["spoofed"], side  # not ours to strip: untouched
    assert seen["wasm"]["x-sub"] == seen["native"]["x-sub"] == ["alice"]


def test_object_claims_with_newlines_are_base64(stack):
    org = {"id": "a\r\nx-admin: true"}
    token = Tok(kid="rsa", payload=std_claims(org=org))()
    for side in ("wasm", "native"):
        resp = stack.send(side, "main", token)
        check(resp, 200)
        (value,) = upstream_headers(resp)["x-org"]
        assert decode_b64_json(value) == org, side
