"""Token hardening provider fields (docs/hardening.md), wasm only.

One Envoy, one listener: each rule `/<name>/` requires the provider `<name>`,
so every option gets its own provider next to a `plain` one without options
(the same token passing there shows the option is what refuses it). The
native jwt_authn refuses these fields: expectations are hand-written from the
documented behaviour. Configs that must be refused get short-lived Envoys (wasm_stack).
"""

from __future__ import annotations

import copy
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from model import provider
from scenarios.common import BAD_ISS, EXPIRED, NO_KEY, VERIFY_FAIL
from tokens import Tok, claims, jwks, session_keys
from wasm_stack import REALM, assert_refused, check, needs_wasm, try_configs, wasm_stack

pytestmark = needs_wasm

K = session_keys()

ALG_NOT_ALLOWED = "Jwt header [alg] is not allowed for this provider"
TYP_WRONG = "Jwt header [typ] is not the required type"
AUTH_TIME_MISSING = "Jwt payload [auth_time] field is missing or not a number"
AUTH_TIME_OLD = "Jwt auth_time is too old"
CLAIM_MISSING = "Jwt payload is missing a required claim"
CRIT = "Jwt header [crit] names an unsupported extension"

RSA_EC = jwks(K.jwk("rsa", kid="k1"), K.jwk("ec256", kid="e1"))
# Key usage: `use`/`key_ops` say which keys may verify; each kid is unique,
# so a token names exactly one key.
USAGE = jwks(K.jwk("rsa", kid="k-enc", use="enc"),
             K.jwk("rsa2", kid="k-sig", use="sig"),
             K.jwk("ec256", kid="ops-enc", key_ops=["encrypt"]),
             K.jwk("ec384", kid="ops-verify", key_ops=["verify"]))

PROVIDERS = {
    "plain": provider(RSA_EC),
    "typ": provider(RSA_EC, required_typ="at+jwt"),
    "typ-app": provider(RSA_EC, required_typ="application/at+jwt"),
    "alg": provider(RSA_EC, allowed_algorithms=["ES256"]),
    "age": provider(RSA_EC, max_auth_age="3600s"),
    "claims": provider(RSA_EC, required_claims=["jti", "org.id", "tenant"]),
    "crit": provider(RSA_EC, reject_unknown_crit=True),
    "use": provider(USAGE, honor_key_use=True),
    "use-plain": provider(USAGE),
    "bits": provider(RSA_EC, min_rsa_key_bits=2048),  # session RSA keys: 2048 bits
    # Everything at once, to pin the order of checks.
    "strict": provider(RSA_EC, allowed_algorithms=["RS256"], required_typ="at+jwt",
                       reject_unknown_crit=True, required_claims=["jti"],
                       max_auth_age="3600s"),
}
CONFIG = {"providers": PROVIDERS,
          "rules": [{"match": {"prefix": f"/{name}/"}, "requires": {"provider_name": name}}
                    for name in PROVIDERS]}


@pytest.fixture(scope="module")
def stack():
    with wasm_stack("hardening", {"hardening": CONFIG}) as s:
        yield s


def tok(alg: str = "RS256", kid: str | None = None, key: str | None = None,
        header: dict | None = None, raw_header: str | None = None, **kw) -> str:
    """A token minted now; RS256 with the `rsa` key (kid k1) unless told,
    ES256 with `ec256` (kid e1). Claims: claims() plus kw (None drops one)."""
    default_kid, default_key = {"RS256": ("k1", "rsa"), "PS256": ("k1", "rsa"),
                                "ES256": ("e1", "ec256"), "ES384": (None, "ec384")}[alg]
    return Tok(alg=alg, kid=kid or default_kid, key=key or default_key,
               header=header or {}, raw_header=raw_header, payload=claims(**kw))()


def send(stack, provider_name: str, token: str | None):
    path = f"/{provider_name}/x"
    return stack.send("hardening", path, token), path


def ok(stack, provider_name: str, token: str) -> None:
    resp, _ = send(stack, provider_name, token)
    check(resp, 200)


def refused(stack, provider_name: str, token: str, body: str) -> None:
    """401 with the contract's body and error="invalid_token"."""
    resp, path = send(stack, provider_name, token)
    check(resp, 401, body=body, content_type="text/plain",
          www_authenticate=f'Bearer realm="{REALM}{path}", error="invalid_token"')


def now() -> int:
    return int(time.time())


# ---------------------------------------------------------------- required_typ

@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT",
                                 "Application/At+Jwt"])
def test_typ_accepted(stack, typ):
    ok(stack, "typ", tok(header={"typ": typ}))


@pytest.mark.parametrize("typ", ["JWT", "application/jwt", "at+jwt+x", "jwt+at"])
def test_typ_other_refused(stack, typ):
    refused(stack, "typ", tok(header={"typ": typ}), TYP_WRONG)


def test_typ_missing_refused(stack):
    token = tok(raw_header='{"alg":"RS256","kid":"k1"}')
    refused(stack, "typ", token, TYP_WRONG)
    ok(stack, "plain", token)  # control: the token itself is fine


def test_typ_prefix_ignored_on_the_config_side_too(stack):
    ok(stack, "typ-app", tok(header={"typ": "at+jwt"}))
    refused(stack, "typ-app", tok(), TYP_WRONG)  # default typ "JWT"


# ---------------------------------------------------------------- allowed_algorithms

def test_allowed_algorithm_passes(stack):
    ok(stack, "alg", tok("ES256"))


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_other_algorithm_with_a_valid_key_refused(stack, alg):
    token = tok(alg)
    refused(stack, "alg", token, ALG_NOT_ALLOWED)
    ok(stack, "plain", token)


# ---------------------------------------------------------------- max_auth_age

def test_recent_auth_time_passes(stack):
    ok(stack, "age", tok(auth_time=now() - 60))
    ok(stack, "age", tok(auth_time=now() - 60.5))  # any JSON number


def test_auth_time_within_clock_skew_passes(stack):
    # 30 s past max_auth_age, inside the default 60 s clock skew.
    ok(stack, "age", tok(auth_time=now() - 3600 - 30))


def test_old_auth_time_refused(stack):
    refused(stack, "age", tok(auth_time=now() - 3600 - 120), AUTH_TIME_OLD)
    refused(stack, "age", tok(auth_time=now() - 86400), AUTH_TIME_OLD)


@pytest.mark.parametrize("value", [None, str(int(time.time())), True, [1]],
                         ids=["missing", "string", "bool", "list"])
def test_auth_time_missing_or_not_a_number_refused(stack, value):
    token = tok(auth_time=value)  # None drops the claim
    refused(stack, "age", token, AUTH_TIME_MISSING)
    ok(stack, "plain", token)


# ---------------------------------------------------------------- required_claims

def test_required_claims_present(stack):
    ok(stack, "claims", tok(jti="id-1", org={"id": 7}, tenant="acme"))
    # "" and false are present values, only null and absence are not
    ok(stack, "claims", tok(jti="", org={"id": "acme"}, tenant=False))


@pytest.mark.parametrize("claims_", [
    {"org": {"id": 7}, "tenant": "acme"},                     # no jti
    {"jti": "id-1", "tenant": "acme"},                        # no org at all
    {"jti": "id-1", "org": {}, "tenant": "acme"},             # org without id
    {"jti": "id-1", "org": {"id": None}, "tenant": "acme"},   # org.id null
    {"jti": "id-1", "org.id": 7, "tenant": "acme"},           # a dotted key is not a path
    {"jti": "id-1", "org": {"id": 7}},                        # no tenant
], ids=["no-jti", "no-org", "org-without-id", "org-id-null", "dotted-key", "no-tenant"])
def test_required_claim_missing_refused(stack, claims_):
    token = tok(**claims_)
    refused(stack, "claims", token, CLAIM_MISSING)
    ok(stack, "plain", token)


def test_required_claim_null_refused(stack):
    # claims() drops None values, so a top-level JSON null needs a hand-made
    # payload. (Not jti: Envoy's own parsing refuses a null jti first.)
    payload = {**claims(), "jti": "id-1", "org": {"id": 7}, "tenant": None}
    refused(stack, "claims", Tok(kid="k1", payload=payload)(), CLAIM_MISSING)


# ---------------------------------------------------------------- reject_unknown_crit

@pytest.mark.parametrize("crit", [["exp"], ["b64"], []], ids=["exp", "b64", "empty"])
def test_crit_refused_only_where_asked(stack, crit):
    token = tok(header={"crit": crit})
    refused(stack, "crit", token, CRIT)
    ok(stack, "plain", token)  # Envoy's behaviour: crit is not processed


def test_no_crit_passes(stack):
    ok(stack, "crit", tok())


# ---------------------------------------------------------------- honor_key_use

@pytest.mark.parametrize("alg,kid,key", [("RS256", "k-enc", "rsa"),
                                         ("ES256", "ops-enc", "ec256")],
                         ids=["use-enc", "key-ops-encrypt"])
def test_encryption_keys_do_not_verify_when_honoured(stack, alg, kid, key):
    token = tok(alg, kid=kid, key=key)
    # The key is not used: as if the JWKS did not have it.
    refused(stack, "use", token, NO_KEY)
    ok(stack, "use-plain", token)


@pytest.mark.parametrize("alg,kid,key", [("RS256", "k-sig", "rsa2"),
                                         ("ES384", "ops-verify", "ec384")],
                         ids=["use-sig", "key-ops-verify"])
def test_signature_keys_still_verify(stack, alg, kid, key):
    ok(stack, "use", tok(alg, kid=kid, key=key))


# ---------------------------------------------------------------- min_rsa_key_bits

def test_min_rsa_key_bits_2048_accepts_2048_bit_key(stack):
    ok(stack, "bits", tok())


# ---------------------------------------------------------------- order of checks
# parse → issuer → alg allow-list → typ → crit → time → audience → subject →
# lifetime → required claims → auth_time → keys/signature

AT_JWT = {"typ": "at+jwt"}


def _expired() -> dict:
    return {"iat": now() - 7200, "exp": now() - 3600}


def test_strict_provider_accepts_a_conforming_token(stack):
    ok(stack, "strict", tok(header=AT_JWT, jti="j", auth_time=now() - 60))


@pytest.mark.parametrize("make,body", [
    (lambda: tok("ES256", iss="https://evil.example.com"), BAD_ISS),
    (lambda: tok("ES256", header={"crit": ["exp"]}, **_expired()), ALG_NOT_ALLOWED),
    (lambda: tok(header={"crit": ["exp"]}, **_expired()), TYP_WRONG),
    (lambda: tok(header={**AT_JWT, "crit": ["exp"]}, **_expired()), CRIT),
    (lambda: tok(header=AT_JWT, **_expired()), EXPIRED),
    (lambda: tok(header=AT_JWT, key="rsa2"), CLAIM_MISSING),
    (lambda: tok(header=AT_JWT, jti="j", key="rsa2"), AUTH_TIME_MISSING),
    (lambda: tok(header=AT_JWT, jti="j", auth_time=now() - 7200, key="rsa2"), AUTH_TIME_OLD),
    (lambda: tok(header=AT_JWT, jti="j", auth_time=now() - 60, key="rsa2"), VERIFY_FAIL),
], ids=["issuer>alg", "alg>typ", "typ>crit", "crit>time", "time>required-claims",
        "required-claims>auth-time", "auth-time-missing>signature",
        "auth-time-old>signature", "signature-last"])
def test_order_of_checks(stack, make, body):
    refused(stack, "strict", make(), body)


# ---------------------------------------------------------------- config errors

def _rsa_1024_jwk() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k"}


BASE = {"providers": {"p": provider(jwks(K.jwk("rsa", kid="k")))},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]}


def _bad(**fields) -> dict:
    cfg = copy.deepcopy(BASE)
    cfg["providers"]["p"].update(fields)
    return cfg


BITS_1024 = ('providers.p.local_jwks: key 0 (kid "k"): '
             'RSA key has 1024 bits, below min_rsa_key_bits 2048')

# name -> (config, text the `jwt-guard: config error:` line must contain)
BAD_CONFIGS = {
    "rsa-1024-below-min-bits": (_bad(local_jwks={"inline_string": jwks(_rsa_1024_jwk())},
                                     min_rsa_key_bits=2048), BITS_1024),
    "no-key-left-after-use": (_bad(local_jwks={"inline_string": jwks(
        K.jwk("rsa", kid="k", use="enc"))}, honor_key_use=True), "providers.p"),
    "allowed-algorithms-empty": (_bad(allowed_algorithms=[]),
                                 "providers.p.allowed_algorithms"),
    "allowed-algorithms-unknown": (_bad(allowed_algorithms=["RS256", "XS256"]),
                                   "providers.p.allowed_algorithms"),
    "required-claims-empty-entry": (_bad(required_claims=["jti", ""]),
                                    "providers.p.required_claims"),
    "max-auth-age-not-a-duration": (_bad(max_auth_age="an hour"), "providers.p.max_auth_age"),
}


@pytest.fixture(scope="module")
def refusals():
    return try_configs("hardening-config", {n: c for n, (c, _) in BAD_CONFIGS.items()})


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_hardening_config_is_refused(refusals, name):
    assert_refused(refusals[name], BAD_CONFIGS[name][1])
