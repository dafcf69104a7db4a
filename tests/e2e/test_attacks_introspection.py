"""Attack catalogue, part 4: hostile answers from the introspection endpoint
(ATTACKS.md, `hostile-introspection-answer`).

The authorization server is trusted for what it says, not for how it says
it: a compromised, misconfigured or impersonated endpoint may answer
`"active": "true"`, repeat `active`, hide it in a nested object, send a
top-level array, numbers no 64-bit field holds, a body past 1 MiB or JSON
nested 10,000 levels. jwt-guard must never let such an answer through: a
malformed answer is no answer (503 `Token introspection is unavailable`),
and an active answer whose claims are malformed is refused as a token with
those claims would be (401, Envoy's sentence). Controls show a well-formed
active answer passes on the same listener.

Native jwt_authn has no introspection: there is no native listener and no
parity reference. Each probe's token gets its own raw answer from one
`AuthorizationServer` (`answer_raw`); the Envoy serves jwt-guard listeners
only, with the attack harness's health check after every test (Envoy
running, no panic/trap/crash line in its log, every listener answering a
tokenless request with its own 401).
"""

from __future__ import annotations

import json
import time

import pytest

from attack_stack import Answer, AttackStack, Listen, Probes
from echo import EchoServer
from envoy_runner import (NATIVE_ONLY, WASM, Envoy, EnvoyError, bootstrap, listener,
                          static_cluster, wasm_filter)
from idp_server import OVERSIZE_BYTES
from introspection_server import (AUDIENCE, CLIENT_ID, CLIENT_SECRET, ISSUER,
                                  AuthorizationServer, opaque_token, typical_claims)
from model import jwt_config
from scenarios.common import EXP_NOT_INT, EXP_NOT_POSITIVE, EXPIRED

CASE = "hostile-introspection-answer"
UNAVAILABLE = Answer(503, "Token introspection is unavailable")
INACTIVE = Answer(401, "Token is not active")
AUD_NOT_STRING = Answer(401, "Jwt payload [aud] field is not a string or string list")
ISS_NOT_STRING = Answer(401, "Jwt payload [iss] field is not a string")
NBF_NOT_POSITIVE = Answer(401, "Jwt payload [nbf] field is not a positive 64 bit integer")


def _config(**intro) -> dict:
    return jwt_config({"as": {
        "issuer": ISSUER, "audiences": [AUDIENCE],
        "claim_to_headers": [{"claim_name": "sub", "header_name": "x-sub"}],
        "introspection": {
            # The cluster does the routing; the authority is only the Host.
            "http_uri": {"uri": "http://as.test/introspect", "cluster": "as", "timeout": "2s"},
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **intro}}})


LISTENS = {
    "main": Listen(_config(), native=False),
    # serve_stale with nothing remembered: a malformed answer is still no
    # answer (a remembered one standing in: test_introspection.py).
    "stale": Listen(_config(failure_mode="serve_stale"), native=False),
}

# The AS of the running module (set by the `stack` fixture): each probe's
# token is registered with its raw answer when the probe is sent.
_AS: list[AuthorizationServer] = []

PROBES = Probes()


def answer(raw: str | bytes, status: int = 200):
    """A token source: a new opaque token the AS answers with `raw`."""
    def make() -> str:
        return _AS[0].answer_raw(opaque_token("hostile"), raw, status)
    return make


def claims_text(**overrides) -> str:
    """Compact JSON of a valid active answer, with members replaced (None
    drops one)."""
    return json.dumps({"active": True, **typical_claims(**overrides)}, separators=(",", ":"))


def active_plus(member: str, **drop) -> str:
    """The valid active answer (without the members named in `drop`) plus
    one raw `"name":value` member, spelled exactly."""
    return claims_text(**{k: None for k in drop})[:-1] + "," + member + "}"


def active_is(value: str) -> str:
    """The valid answer's claims with `"active":<value>` spelled exactly."""
    return '{"active":' + value + "," + json.dumps(typical_claims(),
                                                    separators=(",", ":"))[1:]


def probe(variant: str, raw, ours: Answer | int, config: str = "main", **kw) -> None:
    PROBES.add(CASE, variant, answer(raw), ours, native=None, config=config, **kw)


# ---------------------------------------------------------------- controls

probe("control-active", claims_text(), 200,
      accepted_because="control: a well-formed active answer for this audience")
probe("control-inactive", '{"active":false}', INACTIVE)
probe("control-nested-20-levels", active_plus('"x":' + "[" * 20 + "]" * 20), 200,
      accepted_because="control: a well-formed active answer with a 20-level array")

# ---------------------------------------------------------------- `active` itself

for name, value in {"string-true": '"true"', "string-false": '"false"', "one": "1",
                    "zero": "0", "null": "null", "object": '{"active":true}',
                    "array": "[true]"}.items():
    probe(f"active-{name}", active_is(value), UNAVAILABLE)
probe("active-duplicate-false-then-true", '{"active":false,"active":true}', UNAVAILABLE)
probe("active-duplicate-true-then-false", '{"active":true,"active":false}', UNAVAILABLE)
probe("active-duplicate-full-answer", active_plus('"active":true'), UNAVAILABLE)
probe("active-duplicate-through-escape", claims_text()[:-1] + ',"\\u0061ctive":false}',
      UNAVAILABLE)
probe("active-only-nested", '{"x":{"active":true}}', UNAVAILABLE)
probe("active-missing", json.dumps(typical_claims()), UNAVAILABLE)
probe("duplicate-member-nested", active_plus('"x":{"a":1,"a":2}'), UNAVAILABLE)
probe("duplicate-claim", active_plus('"sub":"admin"'), UNAVAILABLE)

# ---------------------------------------------------------------- not one JSON object

probe("top-level-array", "[" + claims_text() + "]", UNAVAILABLE)
probe("top-level-true", "true", UNAVAILABLE)
probe("top-level-string", '"active"', UNAVAILABLE)
probe("empty-body", "", UNAVAILABLE)
probe("trailing-garbage", claims_text() + " x", UNAVAILABLE)
probe("two-objects", claims_text() + claims_text(), UNAVAILABLE)
probe("utf8-bom", "\ufeff" + claims_text(), UNAVAILABLE)
probe("single-quotes", claims_text().replace('"', "'"), UNAVAILABLE)
probe("trailing-comma", claims_text()[:-1] + ",}", UNAVAILABLE)
probe("invalid-utf8", claims_text()[:-1].encode() + b',"name":"\xff\xfe"}', UNAVAILABLE)

# ---------------------------------------------------------------- status codes
# Only a 200 carries an answer (RFC 7662 §2.2): a valid active body with
# another status is not one (204: no body at all).

for status in (201, 204, 302, 404, 500, 502):
    PROBES.add(CASE, f"status-{status}",
               answer("" if status == 204 else claims_text(), status), UNAVAILABLE, native=None)

# ---------------------------------------------------------------- numbers

# 1e400 is no JSON number a parser can hold: an unreadable answer, as a
# token payload holding it is unreadable (`Jwt payload is an invalid JSON`).
probe("exp-1e400", active_plus('"exp":1e400', exp=None), UNAVAILABLE)
probe("exp-minus-1e400", active_plus('"exp":-1e400', exp=None), UNAVAILABLE)
probe("exp-2-pow-64", active_plus(f'"exp":{2 ** 64}', exp=None), Answer(401, EXP_NOT_POSITIVE))
probe("exp-2-pow-64-minus-1", active_plus(f'"exp":{2 ** 64 - 1}', exp=None),
      Answer(401, EXP_NOT_POSITIVE))
probe("exp-minus-1", active_plus('"exp":-1', exp=None), Answer(401, EXP_NOT_POSITIVE))
probe("exp-string", active_plus(f'"exp":"{int(time.time()) + 3600}"', exp=None),
      Answer(401, EXP_NOT_INT))
probe("exp-true", active_plus('"exp":true', exp=None), Answer(401, EXP_NOT_INT))
probe("exp-1.0", active_plus('"exp":1.0', exp=None), Answer(401, EXPIRED))
probe("nbf-2-pow-64", active_plus(f'"nbf":{2 ** 64}'), NBF_NOT_POSITIVE)
probe("unread-claim-100-digits", active_plus('"x":' + "9" * 100), 200,
      accepted_because="a long integer in a claim nobody reads is valid JSON")

# ---------------------------------------------------------------- claim types

probe("aud-number", active_plus('"aud":5', aud=None), AUD_NOT_STRING)
probe("aud-list-with-number", active_plus(f'"aud":[5,"{AUDIENCE}"]', aud=None), AUD_NOT_STRING)
probe("iss-number", active_plus('"iss":5', iss=None), ISS_NOT_STRING)

# ---------------------------------------------------------------- size and depth

probe("over-1-MiB", active_plus('"padding":"' + "x" * OVERSIZE_BYTES + '"'), UNAVAILABLE)
probe("just-under-1-MiB", active_plus('"padding":"' + "x" * ((1 << 20) - 4096) + '"'), 200,
      accepted_because="a valid active answer within the 1 MiB limit")
probe("nested-10000-arrays", active_plus('"x":' + "[" * 10000 + "]" * 10000), UNAVAILABLE)
probe("nested-10000-objects", active_plus('"x":' + '{"a":' * 10000 + "1" + "}" * 10000),
      UNAVAILABLE)
probe("nested-10000-unclosed", active_plus('"x":' + "[" * 10000)[:-1], UNAVAILABLE)

# ---------------------------------------------------------------- with a remembered answer
# serve_stale answers from memory only what it remembers: a hostile answer
# for a token it has never seen is still no answer.

probe("stale-active-string-true", '{"active":"true"}', UNAVAILABLE, config="stale")
probe("stale-top-level-array", "[" + claims_text() + "]", UNAVAILABLE, config="stale")

CASES = PROBES.cases


@pytest.fixture(scope="module")
def stack():
    if NATIVE_ONLY:
        pytest.skip("JWT_GUARD_NATIVE_ONLY=1: wasm-only tests")
    if not WASM.exists():
        pytest.fail(f"{WASM} not found: run `make build`")  # never skip a broken build
    server = AuthorizationServer()
    _AS.append(server)
    echo = EchoServer().start()
    listeners = [listener(f"wasm-{name}", wasm_filter(ls.config)) for name, ls in LISTENS.items()]
    envoy = Envoy(bootstrap(listeners, echo.port,
                            extra_clusters=[static_cluster("as", server.port)]),
                  "attacks-introspection").start()
    try:
        try:
            ports = envoy.serve([ls["name"] for ls in listeners])
        except EnvoyError as e:
            pytest.fail(f"the attack configs did not load:\n{e}")
        yield AttackStack(envoy, ports, LISTENS, echo)
    finally:
        envoy.stop()
        echo.stop()
        server.stop()
        _AS.clear()


@pytest.fixture(autouse=True)
def healthy(stack):
    yield
    stack.assert_healthy()


@pytest.mark.parametrize("p", PROBES, ids=[p.id for p in PROBES])
def test_attack(stack, p):
    before = _AS[0].count()
    stack.run(p)
    assert _AS[0].count() == before + 1, "the probe's token did not reach the endpoint once"
