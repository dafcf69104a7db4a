"""Attack catalogue, part 2: signatures and keys (ATTACKS.md): ECDSA scalars
and encodings, lenient base64, Ed25519 small-order keys and non-canonical S,
weak RSA keys and short HMAC secrets. Native jwt_authn runs beside jwt-guard
wherever it accepts the config; a config only one side accepts is served on
that side, and the other side's refusal is shown by a short-lived Envoy.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt.algorithms import RSAAlgorithm

from attack_stack import Answer, Listen, Probes, module_fixtures
from attack_tokens import (CURVES, ED25519_L, SMALL_ORDER, WeakRsa, be, ecdsa_token,
                           identity_forgery, signed_raw, small_order_jwk, std_claims,
                           trailing_bits, with_sig)
from model import jwt_config, provider
from scenarios.common import NO_KEY, VERIFY_FAIL
from envoy_runner import Envoy, bootstrap, listener, native_filter
from tokens import Tok, compact_json, json_len_mod3, jwks, session_keys, space_in_sig
from wasm_stack import assert_refused, check, try_configs

K = session_keys()
SIG_B64 = "Jwt signature is an invalid Base64url encoded"
PAYLOAD_B64 = "Jwt payload is an invalid Base64url encoded"
HEADER_B64 = "Jwt header is an invalid Base64url encoded"
ED_LEN = "Jwt ED25519 signature is wrong length"
SMALL_ORDER_ERROR = "Ed25519 public key is a small-order point"
DENY = Answer(401, VERIFY_FAIL)

W512, W1024, W511 = WeakRsa(512), WeakRsa(1024), WeakRsa(511)
E3 = rsa.generate_private_key(public_exponent=3, key_size=2048)
E3_JWK = {**RSAAlgorithm.to_jwk(E3.public_key(), as_dict=True), "kid": "e3"}


def _single(keyset: str) -> dict:
    return jwt_config({"p": provider(keyset)})


def _pad(member: str) -> str:
    return member + "=" * (-len(member) % 4)


def _padded_jwk(name: str, **kw) -> dict:
    """The public JWK of key `name` with every base64url member padded."""
    jwk = K.jwk(name, **kw)
    return {m: _pad(v) if m in ("n", "e", "x", "y", "k") else v for m, v in jwk.items()}


# absl also takes `.` as a padding character: JWK members padded with dots.
DOT_PADDED = {"hs": {**K.jwk("hs", kid="hs"), "k": K.jwk("hs")["k"] + ".."},
              "ec": {**K.jwk("ec256", kid="ec"), "x": K.jwk("ec256")["x"] + "."}}

LISTENS = {
    "main": Listen(_single(jwks(K.jwk("rsa", kid="rsa"), K.jwk("ec256", kid="ec"),
                                K.jwk("ec384", kid="ec384"), K.jwk("ec521", kid="ec521")))),
    "ed": Listen(_single(jwks(K.jwk("ed", kid="ed")))),
    "weak": Listen(_single(jwks(W512.jwk("w512"), W1024.jwk("w1024"), E3_JWK,
                                {"kty": "oct", "k": "AQ", "kid": "short"}))),
    # Tokens in a header without prefix and in a cookie.
    "locations": Listen(jwt_config({"p": provider(jwks(K.jwk("rsa", kid="rsa")),
                                                  from_headers=[{"name": "x-jwt"}],
                                                  from_cookies=["jwt"])})),
    # Every key member carrying its complete `=` padding.
    "padded-jwks": Listen(_single(jwks(*(_padded_jwk(n, kid=n) for n in ("rsa", "ec256", "hs"))))),
    # Configs jwt-guard refuses (see test_jwt_guard_refuses_*): native only.
    "dot-padded-jwks": Listen(_single(jwks(*DOT_PADDED.values())), wasm=False),
    "small-order": Listen(_single(jwks(small_order_jwk("identity"))), wasm=False),
    "rsa-511": Listen(_single(jwks(W511.jwk("w511"), K.jwk("rsa", kid="rsa"))), wasm=False),
}

PROBES = Probes()
probe = PROBES.add


# ---------------------------------------------------------------- ECDSA

INVALID = {
    "all-zero-psychic": lambda r, s, z, n: bytes(2 * z),
    "r-zero": lambda r, s, z, n: bytes(z) + be(s, z),
    "s-zero": lambda r, s, z, n: be(r, z) + bytes(z),
    "r-equals-n": lambda r, s, z, n: be(n, z) + be(s, z),
    "s-equals-n": lambda r, s, z, n: be(r, z) + be(n, z),
    "r-and-s-equal-n": lambda r, s, z, n: be(n, z) + be(n, z),
    "r-above-n": lambda r, s, z, n: bytes([0xff]) * z + be(s, z),
    "r-plus-n-s-plus-n": lambda r, s, z, n: be(r + n, z + 1) + be(s + n, z + 1),
    "der-encoded": lambda r, s, z, n: encode_dss_signature(r, s),
    "one-byte-short": lambda r, s, z, n: (be(r, z) + be(s, z))[:-1],
    "r-and-s-swapped": lambda r, s, z, n: be(s, z) + be(r, z),
    "one-byte": lambda r, s, z, n: bytes([1]),
}
# Other encodings of the same valid signature: malleable, not forged.
MALLEABLE = {
    "high-s": ("n - s verifies as well as s (no low-S rule in either filter)",
               lambda r, s, z, n: be(r, z) + be(n - s, z)),
    "extra-trailing-byte": ("r and s are the halves of the signature; an odd last byte "
                            "is ignored", lambda r, s, z, n: be(r, z) + be(s, z) + bytes(1)),
    "leading-zero-per-half": ("r and s are read as integers of any length",
                              lambda r, s, z, n: bytes(1) + be(r, z) + bytes(1) + be(s, z)),
    "double-width": ("r and s are read as integers of any length",
                     lambda r, s, z, n: be(r, 2 * z) + be(s, 2 * z)),
}
for alg in CURVES:
    probe("ecdsa-invalid-signature", f"{alg}-control",
          ecdsa_token(alg, lambda r, s, z, n: be(r, z) + be(s, z)), 200,
          accepted_because="control: the signature as PyJWT made it")
    for name, edit in INVALID.items():
        probe("ecdsa-invalid-signature", f"{alg}-{name}", ecdsa_token(alg, edit), DENY)
    for name, (why, edit) in MALLEABLE.items():
        probe("ecdsa-malleable-encoding", f"{alg}-{name}", ecdsa_token(alg, edit), 200,
              accepted_because=why)

# ---------------------------------------------------------------- base64url


def _rs256() -> str:
    return Tok(kid="rsa", payload=std_claims())()


def _es256() -> str:
    return Tok(alg="ES256", key="ec256", kid="ec", payload=std_claims())()


def _sig_edit(make, edit):
    def token() -> str:
        h, p, s = make().split(".")
        assert edit(s) != s
        return f"{h}.{p}.{edit(s)}"
    return token


def _header_edit(edit):
    """A token whose header segment, edited after signing, still decodes to
    the same JSON. 34 bytes of header: 46 characters, the last with 4 unused
    bits, and two `=` of padding to add."""
    def token() -> str:
        h, p, s = signed_raw(b'{"alg":"RS256","kid":"rsa","x":12}',
                             compact_json(std_claims())).split(".")
        assert len(h) % 4 == 2 and edit(h) != h
        return f"{edit(h)}.{p}.{s}"
    return token


LENIENT = "Envoy's lenient base64url decodes it to the same signature bytes"
for alg, make in (("RS256", _rs256), ("ES256", _es256)):
    probe("base64-non-canonical", f"{alg}-trailing-bits-set", _sig_edit(make, trailing_bits),
          200, accepted_because=LENIENT)
    probe("base64-non-canonical", f"{alg}-padded",
          _sig_edit(make, lambda s: s + "=" * (-len(s) % 4)), 200, accepted_because=LENIENT)
    probe("base64-non-canonical", f"{alg}-over-padded", _sig_edit(make, lambda s: s + "==="),
          Answer(401, SIG_B64))
    probe("base64-non-canonical", f"{alg}-plus", _sig_edit(make, lambda s: "+" + s[1:]),
          Answer(401, SIG_B64))
    probe("base64-non-canonical", f"{alg}-slash", _sig_edit(make, lambda s: s[:-1] + "/"),
          Answer(401, SIG_B64))
    probe("base64-non-canonical", f"{alg}-space-inside", lambda m=make: space_in_sig(m()), 200,
          accepted_because=LENIENT + " (whitespace is skipped)")
probe("base64-non-canonical", "header-trailing-bits-set", _header_edit(trailing_bits), DENY)
probe("base64-non-canonical", "header-padded-after-signing", _header_edit(lambda h: h + "=="),
      DENY)
probe("base64-non-canonical", "padded-before-signing", Tok(kid="rsa", pad=True), 200,
      accepted_because="the signature covers the padded text")

# ---------------------------------------------------------------- base64 padding


def _padded(part: str, pad: str, rest: int = 1, **tok):
    """A token signed with a published key, `pad` added to its `part`
    segment (to the header or payload before signing, so the signature
    covers it); a header or payload segment is `rest` bytes over a multiple
    of 3 (rest 1: a 2-character last quantum, whose padding is `==`)."""
    def make() -> str:
        kw = {"kid": "rsa", "payload": std_claims(), **tok}
        if part == "payload":
            kw["payload"] = json_len_mod3(rest, **kw["payload"])
        if part == "header":
            alg = kw.get("alg", "RS256")
            kw.update(raw_header=json_len_mod3(rest, alg=alg, kid=kw["kid"]), sign_alg=alg)
        return Tok(**kw, append={part: pad})()
    return make


COMPLETE = "complete padding is optional, and allowed, in both decoders"
PADDING = "base64-padding-length"
# RS256 (256 bytes), ES256 and EdDSA (64) signatures end in a 2-character
# quantum, HS256 (32 bytes) in a 3-character one, ES384 (96) in none.
for alg, key, kid, config in (("RS256", "rsa", "rsa", "main"), ("ES256", "ec256", "ec", "main"),
                              ("EdDSA", "ed", "ed", "ed")):
    probe(PADDING, f"{alg}-signature-one-pad-of-two",
          _padded("signature", "=", alg=alg, key=key, kid=kid), Answer(401, SIG_B64),
          config=config)
    probe(PADDING, f"{alg}-signature-two-pads",
          _padded("signature", "==", alg=alg, key=key, kid=kid), 200, config=config,
          accepted_because=COMPLETE)
probe(PADDING, "RS256-signature-two-pads-apart", _padded("signature", "= ="), 200,
      accepted_because=COMPLETE + " (whitespace between them is skipped)")
probe(PADDING, "HS256-signature-one-pad",
      _padded("signature", "=", alg="HS256", key=bytes([1]), kid="short"), 200,
      config="weak", accepted_because=COMPLETE)
probe(PADDING, "HS256-signature-two-pads-of-one",
      _padded("signature", "==", alg="HS256", key=bytes([1]), kid="short"),
      Answer(401, SIG_B64), config="weak")
probe(PADDING, "ES384-signature-pad-after-full-quantum",
      _padded("signature", "=", alg="ES384", key="ec384", kid="ec384"), Answer(401, SIG_B64))
probe(PADDING, "payload-one-pad-of-two-signed", _padded("payload", "="),
      Answer(401, PAYLOAD_B64))
probe(PADDING, "payload-two-pads-signed", _padded("payload", "=="), 200,
      accepted_because=COMPLETE + " (the signature covers the padded text)")
probe(PADDING, "payload-two-pads-of-one-signed", _padded("payload", "==", rest=2),
      Answer(401, PAYLOAD_B64))
probe(PADDING, "payload-pad-after-full-quantum-signed", _padded("payload", "=", rest=0),
      Answer(401, PAYLOAD_B64))
probe(PADDING, "header-one-pad-of-two-signed", _padded("header", "="), Answer(401, HEADER_B64))
probe(PADDING, "cookie-signature-one-pad-of-two", _padded("signature", "="),
      Answer(401, SIG_B64), config="locations", headers=[("cookie", "jwt={t}")])
probe(PADDING, "header-without-prefix-payload-one-pad-of-two", _padded("payload", "="),
      Answer(401, PAYLOAD_B64), config="locations", headers=[("x-jwt", "{t}")])
for alg, key in (("RS256", "rsa"), ("ES256", "ec256"), ("HS256", "hs")):
    probe(PADDING, f"padded-jwk-members-{alg}", Tok(alg=alg, key=key, kid=key,
                                                     payload=std_claims()), 200,
          config="padded-jwks", accepted_because=COMPLETE + " (JWK members too)")

# What absl takes and jwt-guard's decoder does not (ATTACKS.md, where the two
# differ): a vertical tab, which absl skips as whitespace. Envoy's codec
# refuses it in a header (400), so only a percent-decoded query parameter
# carries it into a token.
EXTRAS = "base64-absl-extras"


def _vt_in_payload() -> str:
    h, p, s = Tok(kid="rsa", payload=std_claims())().split(".")
    return f"{h}.{p[:5]}%0B{p[5:]}.{s}"


probe(EXTRAS, "vertical-tab-after-signature-in-query", Tok(kid="rsa", payload=std_claims()),
      Answer(401, SIG_B64), native=Answer(200), path="/?access_token={t}%0B", headers=[])
probe(EXTRAS, "vertical-tab-inside-payload-in-query", _vt_in_payload, Answer(401, PAYLOAD_B64),
      native=Answer(401, VERIFY_FAIL), path="/?access_token={t}", headers=[])

# ---------------------------------------------------------------- Ed25519


def _ed_edit(edit):
    def token() -> str:
        return with_sig(Tok(alg="EdDSA", key="ed", kid="ed", payload=std_claims())(), edit)
    return token


def _s_plus(k: int):
    return lambda raw: raw[:32] + (int.from_bytes(raw[32:], "little") + k).to_bytes(32, "little")


probe("ed25519-non-canonical-s", "control", _ed_edit(lambda raw: raw), 200, config="ed",
      accepted_because="control: the signature as made")
probe("ed25519-non-canonical-s", "s-plus-l", _ed_edit(_s_plus(ED25519_L)), DENY, config="ed")
probe("ed25519-non-canonical-s", "s-equals-l",
      _ed_edit(lambda raw: raw[:32] + ED25519_L.to_bytes(32, "little")), DENY, config="ed")
probe("ed25519-non-canonical-s", "s-all-ones", _ed_edit(lambda raw: raw[:32] + bytes([255]) * 32),
      DENY, config="ed")
probe("ed25519-non-canonical-s", "all-zero", _ed_edit(lambda raw: bytes(64)), DENY, config="ed")
probe("ed25519-non-canonical-s", "identity-r-zero-s",
      _ed_edit(lambda raw: SMALL_ORDER["identity"] + bytes(32)), DENY, config="ed")
probe("ed25519-non-canonical-s", "63-bytes", _ed_edit(lambda raw: raw[:63]),
      Answer(401, ED_LEN), config="ed")
probe("ed25519-non-canonical-s", "65-bytes", _ed_edit(lambda raw: raw + bytes(1)),
      Answer(401, ED_LEN), config="ed")

# ---------------------------------------------------------------- weak keys

WEAK = "signed by a published key: key strength is the operator's choice"
probe("weak-rsa-key", "512-bit", lambda: W512.token("w512"), 200, config="weak",
      accepted_because=WEAK + " (min_rsa_key_bits refuses it at configure time)")
probe("weak-rsa-key", "1024-bit", lambda: W1024.token("w1024"), 200, config="weak",
      accepted_because=WEAK + " (min_rsa_key_bits refuses it at configure time)")
probe("weak-rsa-key", "exponent-3", Tok(key=E3, kid="e3", payload=std_claims()), 200,
      config="weak", accepted_because=WEAK)
probe("short-hmac-secret", "one-byte-secret",
      Tok(alg="HS256", key=bytes([1]), kid="short", payload=std_claims()), 200, config="weak",
      accepted_because=WEAK + " (no minimum HMAC key length in either filter)")
probe("short-hmac-secret", "guessed-wrong",
      Tok(alg="HS256", key=bytes([2]), kid="short", payload=std_claims()), DENY, config="weak")

CASES = PROBES.cases | {"ed25519-small-order-key"}


stack, healthy = module_fixtures("attacks-signatures", LISTENS)


@pytest.mark.parametrize("p", PROBES, ids=[p.id for p in PROBES])
def test_attack(stack, p):
    stack.run(p)


# ---------------------------------------------------------------- one side only

# JWK members padded with one `=` where two are needed (k: 64 bytes, n: 256)
# or two where one is (x: 32 bytes): both filters refuse the configuration.
SHORT_PADDED_JWKS = {
    "jwk-k-one-pad-of-two": (
        _single(jwks({**K.jwk("hs", kid="hs"), "k": K.jwk("hs")["k"] + "="})),
        'key 0 (kid "hs"): HMAC key "k" is not valid base64url',
        "Jwks Oct key is an invalid Base64"),
    "jwk-n-one-pad-of-two": (
        _single(jwks({**K.jwk("rsa", kid="rsa"), "n": K.jwk("rsa")["n"] + "="})),
        'key 0 (kid "rsa"): RSA modulus "n" is not valid base64url',
        "Jwks RSA [n] or [e] field is missing or has a parse error"),
    "jwk-x-two-pads-of-one": (
        _single(jwks({**K.jwk("ec256", kid="ec"), "x": K.jwk("ec256")["x"] + "=="})),
        'key 0 (kid "ec"): EC coordinate "x" is not valid base64url',
        "Jwks EC [x] or [y] field is an invalid Base64"),
}

REFUSED = {
    **{f"ed25519-{name}": (_single(jwks(small_order_jwk(name))), SMALL_ORDER_ERROR)
       for name in SMALL_ORDER},
    "rsa-511-bit": (_single(jwks(W511.jwk("w511"), K.jwk("rsa", kid="rsa"))),
                    'key 0 (kid "w511"): invalid RSA public key: modulus is too short'),
    **{name: (config, ours) for name, (config, ours, _) in SHORT_PADDED_JWKS.items()},
    "jwk-k-padded-with-dots": (_single(jwks(DOT_PADDED["hs"])),
                               'key 0 (kid "hs"): HMAC key "k" is not valid base64url'),
    "jwk-x-padded-with-a-dot": (_single(jwks(DOT_PADDED["ec"])),
                                'key 0 (kid "ec"): EC coordinate "x" is not valid base64url'),
}


@pytest.fixture(scope="module")
def refusals():
    return try_configs("attacks-refused", {n: c for n, (c, _) in REFUSED.items()})


@pytest.mark.parametrize("name", list(REFUSED))
def test_jwt_guard_refuses_the_key_at_configure_time(refusals, name):
    assert_refused(refusals[name], REFUSED[name][1])


def test_native_refuses_jwk_members_with_incomplete_padding():
    envoys = {name: Envoy(bootstrap([listener("native", native_filter(config))], echo_port=9),
                          f"attacks-native-refused-{name}").start()
              for name, (config, _, _) in SHORT_PADDED_JWKS.items()}
    try:
        for name, envoy in envoys.items():
            rc = envoy.wait_exit_or_ready(timeout=60)
            assert rc is not None, f"{name}: native jwt_authn accepted the JWKS"
            assert SHORT_PADDED_JWKS[name][2] in envoy.log_text(), envoy.tail(5)
    finally:
        for envoy in envoys.values():
            envoy.stop()


def test_native_accepts_jwk_members_padded_with_dots(stack):
    # absl reads `.` as padding; jwt-guard refuses the JWKS (above).
    check(stack.send("native", "dot-padded-jwks",
                     Tok(alg="HS256", key="hs", kid="hs", payload=std_claims())()), 200)
    check(stack.send("native", "dot-padded-jwks",
                     Tok(alg="ES256", key="ec256", kid="ec", payload=std_claims())()), 200)


def test_native_accepts_a_small_order_ed25519_key_and_a_forgery(stack):
    # The identity key: R = identity, S = 0 verifies any message. Native
    # jwt_authn loads the key and lets the forged token through; jwt-guard
    # refuses the configuration (above).
    resp = stack.send("native", "small-order", identity_forgery(sub="admin"))
    check(resp, 200)


def test_native_drops_a_511_bit_rsa_key(stack):
    check(stack.send("native", "rsa-511", W511.token("w511")), 401, body=NO_KEY)
    check(stack.send("native", "rsa-511", Tok(kid="rsa", payload=std_claims())()), 200)


def test_weak_keys_load_with_a_configure_time_warning_naming_each(stack):
    # Loaded (a pasted Envoy config must work, and the operator published
    # these keys) but never silently: one warning per weak key.
    log = stack.envoy.log_text()
    for key, why in [('key 0 (kid "w512")', "RSA key has 512 bits, below the recommended 2048"),
                     ('key 1 (kid "w1024")', "RSA key has 1024 bits, below the recommended 2048"),
                     ('key 3 (kid "short")', "HMAC secret has 1 bytes, shorter than the 32 HS256 needs")]:
        assert f"jwt-guard: config warning: providers.p.local_jwks: {key}: {why}" in log, key
