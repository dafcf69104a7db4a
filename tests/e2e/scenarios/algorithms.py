"""Every signature algorithm, JWKS and inline_bytes key sources, and keys
pinned to an algorithm by the JWK `alg` member.

A PEM public key as `local_jwks.inline_string` is NOT a parity scenario: the
native filter refuses it at config load (`Jwks is an invalid JSON`), so it is
a case in test_config_errors.py instead."""

from __future__ import annotations

import base64

from model import Scenario, jwt_config, provider
from tokens import Tok, jwks, session_keys, tamper_payload, tamper_sig

from .common import NO_KEY, VERIFY_FAIL, deny, ok

K = session_keys()

# algorithm -> key attribute in Keys (and kid in the JWKS below)
ALG_KEY = {
    "RS256": "rsa", "RS384": "rsa", "RS512": "rsa",
    "PS256": "rsa", "PS384": "rsa", "PS512": "rsa",
    "ES256": "ec256", "ES384": "ec384", "ES512": "ec521",
    "EdDSA": "ed",
    "HS256": "hs", "HS384": "hs", "HS512": "hs",
}
ALL_KEYS = jwks(*(K.jwk(name, kid=name) for name in sorted(set(ALG_KEY.values()))))


def _every_alg():
    reqs = []
    for alg, key in ALG_KEY.items():
        reqs.append(ok(f"{alg}-valid", Tok(alg=alg, key=key, kid=key)))
        reqs.append(deny(f"{alg}-bad-signature",
                         Tok(alg=alg, key=key, kid=key, transform=tamper_sig), VERIFY_FAIL))
    # No kid: keys are tried in JWKS order (see keys_no_kid_* in malformed.py
    # for the orders where an Ed25519 key gets in the way).
    for alg in ("ES384", "EdDSA", "HS512"):
        reqs.append(ok(f"{alg}-no-kid", Tok(alg=alg, key=ALG_KEY[alg])))
    reqs.append(deny("RS256-forged-payload",
                     Tok(kid="rsa", transform=tamper_payload), VERIFY_FAIL))
    # Correct kid, but the token was signed by a key not in the JWKS.
    reqs.append(deny("HS256-other-secret", Tok(alg="HS256", key="hs2", kid="hs"),
                     VERIFY_FAIL))
    return Scenario("alg_every", jwt_config({"p": provider(ALL_KEYS)}), reqs)


def _inline_bytes():
    text = jwks(K.jwk("rsa", kid="rsa"), K.jwk("ec256", kid="ec256"))
    prov = provider("")
    prov["local_jwks"] = {"inline_bytes": base64.b64encode(text.encode()).decode()}
    reqs = [
        ok("RS256-valid", Tok(kid="rsa")),
        ok("ES256-valid", Tok(alg="ES256", key="ec256", kid="ec256")),
        deny("RS256-bad-signature", Tok(kid="rsa", transform=tamper_sig), VERIFY_FAIL),
    ]
    return Scenario("alg_inline_bytes", jwt_config({"p": prov}), reqs)


def _pinned():
    """JWK `alg` restricts the key to that algorithm; kty must fit too."""
    keys = jwks(K.jwk("rsa", kid="rsa", alg="RS256"),
                K.jwk("ec384", kid="ec384", alg="ES384"),
                K.jwk("hs", kid="hs", alg="HS384"))
    reqs = [
        ok("RS256-matches-pin", Tok(kid="rsa")),
        deny("PS256-vs-RS256-pin", Tok(alg="PS256", kid="rsa"), NO_KEY),
        deny("RS512-vs-RS256-pin", Tok(alg="RS512", kid="rsa"), NO_KEY),
        ok("ES384-matches-pin", Tok(alg="ES384", key="ec384", kid="ec384")),
        deny("ES256-vs-P384-key", Tok(alg="ES256", key="ec256", kid="ec384"), NO_KEY),
        ok("HS384-matches-pin", Tok(alg="HS384", key="hs", kid="hs")),
        deny("HS256-vs-HS384-pin", Tok(alg="HS256", key="hs", kid="hs"), NO_KEY),
        deny("ES384-with-rsa-kid", Tok(alg="ES384", key="ec384", kid="rsa"), NO_KEY),
    ]
    return Scenario("alg_pinned", jwt_config({"p": provider(keys)}), reqs)


SCENARIOS = [
    _every_alg(),
    _inline_bytes(),
    _pinned(),
]
