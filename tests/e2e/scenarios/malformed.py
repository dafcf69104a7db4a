"""Key selection and signature failures, alg none / confusion, and tokens
that are malformed in shape, encoding or JSON."""

from __future__ import annotations

from model import Req, Scenario, jwt_config, provider
from tokens import (AUD, ISS, Rel, Tok, b64url, claims, drop_sig, hs256_confusion,
                    json_len_mod3, jwks, non_canonical_sig, pad_all, segments,
                    session_keys, space_in_sig, std_b64_sig, tamper_sig, unsigned)

from .common import (ALG_UNSUPPORTED, BAD_FORM, BAD_JSON, NO_KEY, VERIFY_FAIL,
                     deny, ok)

K = session_keys()
ED_WRONG_LEN = "Jwt ED25519 signature is wrong length"
HEADER_B64 = "Jwt header is an invalid Base64url encoded"
PAYLOAD_B64 = "Jwt payload is an invalid Base64url encoded"
SIG_B64 = "Jwt signature is an invalid Base64url encoded"
ALG_REQUIRED = "Jwt header [alg] field is required and must be a string"


def _keys() -> Scenario:
    keyset = jwks(K.jwk("rsa", kid="a"), K.jwk("rsa2", kid="b"), K.jwk("ec256", kid="e"))
    reqs = [
        ok("kid-a", Tok(kid="a")),
        ok("kid-b", Tok(key="rsa2", kid="b")),
        deny("unknown-kid", Tok(kid="zzz"), NO_KEY),
        # No kid: every RSA key is tried, the second one verifies.
        ok("no-kid-second-key-verifies", Tok(key="rsa2")),
        deny("no-kid-no-key-verifies", Tok(transform=tamper_sig), VERIFY_FAIL),
        deny("kid-a-signed-by-b", Tok(key="rsa2", kid="a"), VERIFY_FAIL),
        deny("kid-of-rsa-but-ES256", Tok(alg="ES256", key="ec256", kid="a"), VERIFY_FAIL),
        deny("kid-of-ec-but-RS256", Tok(kid="e"), VERIFY_FAIL),
        deny("kid-not-a-string", Tok(header={"kid": 5}),
             "Jwt header [kid] field is not a string"),
    ]
    return Scenario("keys_select", jwt_config({"p": provider(keyset)}), reqs)


def _no_kid_order() -> list[Scenario]:
    """Without kid every key is tried in JWKS order; an Ed25519 key seen
    before the right key turns a wrong-length signature into a hard error."""
    rsa_first = jwks(K.jwk("rsa"), K.jwk("ed"), K.jwk("hs"))
    ed_first = jwks(K.jwk("ed"), K.jwk("rsa"))
    first = [
        ok("RS256", Tok()),
        ok("PS256", Tok(alg="PS256")),
        ok("EdDSA", Tok(alg="EdDSA", key="ed")),
        deny("HS256-after-ed", Tok(alg="HS256", key="hs"), ED_WRONG_LEN),
        deny("ES256-no-ec-key", Tok(alg="ES256", key="ec256"), VERIFY_FAIL),
    ]
    second = [
        deny("RS256-after-ed", Tok(), ED_WRONG_LEN),
        ok("EdDSA", Tok(alg="EdDSA", key="ed")),
        deny("ES256-same-length-as-ed", Tok(alg="ES256", key="ec256"), VERIFY_FAIL),
    ]
    return [Scenario("keys_no_kid_rsa_first", jwt_config({"p": provider(rsa_first)}), first),
            Scenario("keys_no_kid_ed_first", jwt_config({"p": provider(ed_first)}), second)]


def _alg_attacks() -> Scenario:
    keyset = jwks(K.jwk("rsa", kid="rsa"))
    pem = K.pem("rsa")
    std = {"iss": ISS, "aud": AUD, "sub": "alice", "exp": Rel(3600)}
    reqs = [
        deny("alg-none-empty-sig", lambda: unsigned({"alg": "none"}, std), BAD_FORM),
        deny("alg-none-with-sig", lambda: unsigned({"alg": "none"}, std, "c2ln"),
             ALG_UNSUPPORTED),
        deny("alg-None-with-sig", lambda: unsigned({"alg": "None"}, std, "c2ln"),
             ALG_UNSUPPORTED),
        deny("lowercase-rs256", Tok(alg="rs256", sign_alg="RS256", kid="rsa"),
             ALG_UNSUPPORTED),
        deny("alg-missing", Tok(raw_header='{"typ":"JWT","kid":"rsa"}', sign_alg="RS256"),
             ALG_REQUIRED),
        deny("alg-not-string", Tok(raw_header='{"alg":256,"kid":"rsa"}', sign_alg="RS256"),
             ALG_REQUIRED),
        deny("alg-HS512-unknown-to-rsa-key", Tok(alg="HS512", key="hs", kid="rsa"),
             VERIFY_FAIL),
        # HS256 keyed with the RSA public key PEM: must never verify.
        deny("hs256-confusion-no-kid",
             lambda: hs256_confusion(pem, {**std, "exp": Rel(3600).resolve()}), VERIFY_FAIL),
        deny("hs256-confusion-rsa-kid", Tok(alg="HS256", key=pem.encode(), kid="rsa"),
             VERIFY_FAIL),
        ok("control-valid", Tok(kid="rsa")),
    ]
    return Scenario("alg_attacks", jwt_config({"p": provider(keyset)}), reqs)


def _shapes() -> Scenario:
    keyset = jwks(K.jwk("rsa", kid="rsa"))
    good = dict(kid="rsa")
    dup_exp = ('{"iss":"%s","aud":"%s","exp":1,"exp":4102444800}' % (ISS, AUD))
    dup_exp2 = ('{"iss":"%s","aud":"%s","exp":4102444800,"exp":1}' % (ISS, AUD))
    reqs = [
        deny("two-segments", Tok(**good, transform=segments(2)), BAD_FORM),
        deny("four-segments", Tok(**good, transform=segments(4)), BAD_FORM),
        deny("five-segments", Tok(**good, transform=segments(5)), BAD_FORM),
        deny("empty-signature", Tok(**good, transform=drop_sig), BAD_FORM),
        deny("just-dots", "..", BAD_FORM),
        deny("garbage-word", "hello", BAD_FORM),
        # Observed: after `Bearer ` the extractor skips to the first base64url
        # character, so "!!!." vanishes and two segments are left.
        deny("junk-before-token-leaves-two-segments",
             lambda: "!!!." + Tok(**good)().split(".", 1)[1], BAD_FORM),
        deny("header-bad-base64", lambda: "X!" + Tok(**good)(),
             "Jwt header is an invalid Base64url encoded"),
        deny("header-not-json", lambda: b64url(b"nope") + "." + Tok(**good)().split(".", 1)[1],
             "Jwt header is an invalid JSON"),
        deny("payload-bad-base64",
             lambda: (lambda p: f"{p[0]}.%%%.{p[2]}")(Tok(**good)().split(".")),
             "Jwt payload is an invalid Base64url encoded"),
        deny("signature-bad-base64",
             lambda: Tok(**good)()[:-4] + "%%%%", "Jwt signature is an invalid Base64url encoded"),
        deny("signature-std-base64", Tok(**good, transform=std_b64_sig),
             "Jwt signature is an invalid Base64url encoded"),
        ok("padded-segments", Tok(**good, pad=True)),
        # Padding added after signing: the signed text differs, so it fails.
        deny("padded-after-signing", Tok(**good, transform=pad_all), VERIFY_FAIL),
        ok("space-inside-signature", Tok(**good, transform=space_in_sig)),
        ok("non-canonical-last-sig-char", Tok(**good, transform=non_canonical_sig)),
        deny("duplicate-exp-expired-first", Tok(**good, payload=dup_exp), BAD_JSON),
        deny("duplicate-exp-expired-last", Tok(**good, payload=dup_exp2), BAD_JSON),
        deny("payload-array", Tok(**good, payload='["a","b"]'), BAD_JSON),
        deny("payload-string", Tok(**good, payload='"hello"'), BAD_JSON),
        deny("payload-trailing-garbage",
             Tok(**good, payload='{"iss":"%s","aud":"%s"} x' % (ISS, AUD)), BAD_JSON),
        deny("header-array", Tok(raw_header='["RS256"]', sign_alg="RS256"),
             "Jwt header is an invalid JSON"),
        deny("duplicate-alg-in-header",
             Tok(raw_header='{"alg":"none","alg":"RS256","kid":"rsa"}', sign_alg="RS256"),
             "Jwt header is an invalid JSON"),
        ok("unknown-claims-and-header-members",
           Tok(**good, header={"x5u": "https://evil.example.com", "crit2": 1},
               payload=claims(extra={"deep": [1, {"x": None}]}))),
        ok("unicode-claims", Tok(**good, payload=claims(name="Zoë ✓"))),
    ]
    return Scenario("malformed", jwt_config({"p": provider(keyset)}), reqs)


def _dots() -> Scenario:
    """Observed: empty segments are skipped when splitting on '.', so extra
    dots anywhere still give three sections (and the signed text is rebuilt
    from the non-empty ones). A header without value_prefix is used so the
    extractor keeps the value verbatim."""
    keyset = jwks(K.jwk("rsa", kid="rsa"))
    prov = provider(keyset, from_headers=[{"name": "x-jwt"}])

    def shaped(fmt: str):
        def make() -> str:
            h, p, s = Tok(kid="rsa")().split(".")
            return fmt.format(h=h, p=p, s=s)
        return make

    def r(name: str, fmt: str, status: int, body: str | None = None):
        return Req(name, status, headers=[("x-jwt", "{t}")], tokens={"t": shaped(fmt)},
                   body=body)

    reqs = [
        r("plain", "{h}.{p}.{s}", 200),
        r("double-dot-after-header", "{h}..{p}.{s}", 200),
        r("double-dot-before-signature", "{h}.{p}..{s}", 200),
        r("leading-dots", "..{h}.{p}.{s}", 200),
        r("trailing-dot", "{h}.{p}.{s}.", 200),
        r("trailing-dots", "{h}.{p}.{s}..", 200),
        r("empty-signature", "{h}.{p}.", 401, BAD_FORM),
        r("four-non-empty", "{h}.{p}.{s}.{s}", 401, BAD_FORM),
        r("two-non-empty-three-dots", "{h}..{p}", 401, BAD_FORM),
        r("leading-space", " {h}.{p}.{s}", 200),
        r("space-inside-payload", "{h}. {p}.{s}", 401, VERIFY_FAIL),
        r("trailing-word", "{h}.{p}.{s} x", 401, VERIFY_FAIL),
        r("junk-first-no-prefix-skipping", "!!!{h}.{p}.{s}", 401,
          "Jwt header is an invalid Base64url encoded"),
    ]
    return Scenario("malformed_dots", jwt_config({"p": prov}), reqs)


def _padding() -> Scenario:
    """Observed: a segment's `=` padding is optional, but when present it
    must be complete (absl): a segment ending in a 2-character quantum takes
    `==` (one `=` is refused), a 3-character one `=`, a full quantum none;
    whitespace between the `=` is skipped. RS256 signatures (256 bytes) end
    in a 2-character quantum, HS256 (32 bytes) in a 3-character one, ES384
    (96 bytes) in none. Header and payload padding is signed, so only the
    base64 decides."""
    keyset = jwks(K.jwk("rsa", kid="rsa"), K.jwk("hs", kid="hs"), K.jwk("ec384", kid="ec384"))
    prov = provider(keyset, from_headers=[{"name": "x-jwt"},
                                          {"name": "authorization", "value_prefix": "Bearer "}],
                    from_cookies=["jwt"], from_params=["access_token"])

    def sig(suffix: str, **tok) -> Tok:
        return Tok(**{"kid": "rsa", **tok}, append={"signature": suffix})

    def payload(rest: int, suffix: str):
        # Built when sent, so that iat/exp are current.
        return lambda: Tok(kid="rsa", payload=json_len_mod3(rest, **claims()),
                           append={"payload": suffix})()

    def header(suffix: str) -> Tok:
        return Tok(raw_header=json_len_mod3(1, alg="RS256", typ="JWT", kid="rsa"),
                   sign_alg="RS256", append={"header": suffix})

    def x(name: str, status: int, token, body: str | None = None) -> Req:
        return Req(name, status, headers=[("x-jwt", "{t}")], tokens={"t": token}, body=body)

    one_short = sig("=")
    reqs = [
        x("sig-one-pad-where-two-needed", 401, one_short, SIG_B64),
        x("sig-two-pads", 200, sig("==")),
        x("sig-two-pads-apart", 200, sig("= =")),
        x("sig-space-then-two-pads", 200, sig(" ==")),
        x("sig-three-pads", 401, sig("==="), SIG_B64),
        x("sig-one-pad-then-empty-segment", 401, sig("=."), SIG_B64),
        Req("bearer-sig-one-pad-where-two-needed", 401, headers=[("authorization",
                                                                   "Bearer {t}")],
            tokens={"t": one_short}, body=SIG_B64),
        Req("cookie-sig-one-pad-where-two-needed", 401, headers=[("cookie", "jwt={t}")],
            tokens={"t": one_short}, body=SIG_B64),
        Req("param-sig-one-pad-where-two-needed", 401, path="/?access_token={t}",
            tokens={"t": one_short}, body=SIG_B64),
        x("hs256-sig-one-pad", 200, sig("=", alg="HS256", key="hs", kid="hs")),
        x("hs256-sig-two-pads-where-one-needed", 401,
          sig("==", alg="HS256", key="hs", kid="hs"), SIG_B64),
        x("es384-sig-pad-after-full-quantum", 401,
          sig("=", alg="ES384", key="ec384", kid="ec384"), SIG_B64),
        x("payload-one-pad-where-two-needed", 401, payload(1, "="), PAYLOAD_B64),
        x("payload-two-pads", 200, payload(1, "==")),
        x("payload-two-pads-where-one-needed", 401, payload(2, "=="), PAYLOAD_B64),
        x("payload-one-pad", 200, payload(2, "=")),
        x("payload-pad-after-full-quantum", 401, payload(0, "="), PAYLOAD_B64),
        Req("cookie-payload-one-pad-where-two-needed", 401, headers=[("cookie", "jwt={t}")],
            tokens={"t": payload(1, "=")}, body=PAYLOAD_B64),
        x("payload-pad-in-the-middle", 401,
          Tok(kid="rsa", transform=lambda t: t.replace(".", ".e30=", 1)), PAYLOAD_B64),
        x("header-one-pad-where-two-needed", 401, header("="), HEADER_B64),
        x("header-two-pads", 200, header("==")),
    ]
    return Scenario("b64_padding", jwt_config({"p": prov}), reqs)


SCENARIOS = [_keys(), *_no_kid_order(), _alg_attacks(), _shapes(), _dots(), _padding()]
