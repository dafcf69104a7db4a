"""Integer fields given as doubles, as protobuf's Struct delivers Istio's
`pluginConfig` (`"clock_skew_seconds": 300.0`): the module must decide
exactly as with the plain config. One Envoy serves the same config twice,
plain and converted by struct_json.as_struct; every request goes to both and
must get the answer written here by hand from each field's meaning.

Fractions, and doubles too large to be sure of, are refused by JSON path.
"""

from __future__ import annotations

import json
import time

import pytest

from scenarios.common import EXPIRED, MISSING
from struct_json import as_struct, struct_text
from tokens import AUD, ISS, Tok, claims, jwks, session_keys
from wasm_stack import (assert_refused, check, needs_wasm, try_configs, upstream_headers,
                        wasm_stack)

pytestmark = needs_wasm

K = session_keys()
NOT_AUTHORIZED = "Jwt is not authorized: "

PROVIDER = {
    "issuer": ISS,
    "audiences": [AUD],
    "local_jwks": {"inline_string": jwks(K.jwk("rsa", kid="k1"))},
    "clock_skew_seconds": 300,
    "min_rsa_key_bits": 2048,
    "jwt_cache_config": {"jwt_cache_size": 100, "jwt_max_token_size": 8192},
    "claim_to_headers": [{"header_name": "x-level", "claim_name": "level"}],
}
# Never fetched (no rule uses it): its numbers only have to load.
REMOTE = {
    "issuer": "https://remote.example.com",
    "remote_jwks": {
        "http_uri": {"uri": "https://remote.example.com/keys", "cluster": "none", "timeout": "1s"},
        "retry_policy": {"num_retries": 3},
    },
}
CONFIG = {
    "providers": {"idp": PROVIDER, "remote": REMOTE},
    "token_cache": {"max_entries": 10},
    "rules": [
        # x-version 2, 3 or 4 (range_match: start included, end excluded).
        {"match": {"prefix": "/v", "headers": [{"name": "x-version",
                                                 "range_match": {"start": 2, "end": 5}}]},
         "requires": {"provider_name": "idp"},
         "authorize": {"all": [{"claim": "level", "gte": 2, "lt": 10},
                               {"claim": "tier", "equals": 1}]}},
        {"match": {"prefix": "/v"}},
        {"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}},
    ],
}
CONFIGS = {"plain": CONFIG, "struct": as_struct(CONFIG)}


def test_the_struct_form_really_holds_doubles():
    text = struct_text(CONFIG)
    for fragment in ('"clock_skew_seconds": 300.0', '"max_entries": 10.0', '"start": 2.0',
                     '"num_retries": 3.0', '"gte": 2.0', '"equals": 1.0',
                     '"min_rsa_key_bits": 2048.0', '"jwt_cache_size": 100.0'):
        assert fragment in text, fragment


@pytest.fixture(scope="module")
def stack():
    with wasm_stack("struct-numbers", CONFIGS) as s:
        yield s


def tok(**kw) -> str:
    now = int(time.time())
    return Tok(kid="k1", payload=claims(**{"iat": now - 60, "exp": now + 3600, **kw}))()


def expired(seconds_ago: int) -> str:
    now = int(time.time())
    return tok(iat=now - 7200, exp=now - seconds_ago)


# (name, path, token factory or None, headers, expected status, expected body)
CASES = [
    ("no token", "/", None, [], 401, MISSING),
    ("valid", "/", lambda: tok(), [], 200, None),
    # clock_skew_seconds 300: 120 s past exp still passes, 400 s does not.
    ("expired within skew", "/", lambda: expired(120), [], 200, None),
    ("expired beyond skew", "/", lambda: expired(400), [], 401, EXPIRED),
    ("in range, authorized", "/v", lambda: tok(level=5, tier=1), [("x-version", "3")], 200, None),
    ("range start is included", "/v", None, [("x-version", "2")], 401, MISSING),
    ("range end is excluded", "/v", None, [("x-version", "5")], 200, None),
    ("out of range", "/v", None, [("x-version", "7")], 200, None),
    ("level below gte 2", "/v", lambda: tok(level=1, tier=1), [("x-version", "4")], 403,
     NOT_AUTHORIZED + 'claim level fails "gte"'),
    ("tier not equal to 1", "/v", lambda: tok(level=5, tier=2), [("x-version", "4")], 403,
     NOT_AUTHORIZED + 'claim tier fails "equals"'),
    ("tier 1.0 equals 1", "/v", lambda: tok(level=2.0, tier=1.0), [("x-version", "4")], 200,
     None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_struct_config_decides_as_the_plain_one(stack, case):
    _, path, make, headers, status, body = case
    token = make() if make else None
    answers = {}
    for name in CONFIGS:
        resp = stack.send(name, path, token, headers=headers)
        check(resp, status, body=body)
        answers[name] = (resp.status, resp.body if status != 200 else b"",
                         resp.header("www-authenticate"),
                         upstream_headers(resp).get("x-level") if status == 200 else None)
    assert answers["plain"] == answers["struct"]


def test_fractions_and_imprecise_doubles_are_refused_by_path():
    fraction = json.loads(json.dumps(CONFIG))
    fraction["providers"]["idp"]["clock_skew_seconds"] = 60.5
    big = json.loads(json.dumps(CONFIG))
    big["rules"][0]["match"]["headers"][0]["range_match"]["end"] = 2.0 ** 53 + 2
    results = try_configs("struct-refusals", {"fraction": fraction, "big": big})
    assert_refused(results["fraction"],
                   "providers.idp.clock_skew_seconds: expected an integer, got 60.5")
    assert_refused(results["big"], "rules[0].match.headers[0].range_match.end: "
                                   "9007199254740994.0 is a double at or beyond 2^50")
