"""Writes the fuzz targets' fixed keys (fuzz/fuzz_targets/keys.json) and seed
corpora (fuzz/seeds/<target>/): valid tokens for every algorithm, a few
broken ones, JWKS, configs and claims. Tokens are minted with PyJWT, not by
the code under test. Run once; the output is checked in.

    .venv/bin/python fuzz/make_seeds.py
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = Path(__file__).resolve().parent
NOW = 1_700_000_000
SECRET = b"fuzz-secret-of-at-least-32-bytes!!"


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    keys = [
        json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())) | {"kid": "rs", "alg": "RS256"},
        json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key())) | {"kid": "es", "alg": "ES256"},
        json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ed_key.public_key())) | {"kid": "ed", "alg": "EdDSA"},
        {"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64(SECRET)},
    ]
    (HERE / "fuzz_targets" / "keys.json").write_text(json.dumps({"keys": keys}, indent=1) + "\n")

    claims = {"iss": "https://issuer.example", "sub": "alice", "aud": "api", "exp": NOW + 3600,
              "nbf": NOW - 10, "iat": NOW - 10, "scope": "orders:read orders:write",
              "groups": ["dev", "ops"], "org": {"tier": "gold"}, "https://example.com/roles": ["a"]}
    signers = [("RS256", rsa_key, "rs"), ("PS256", rsa_key, "rs"), ("ES256", ec_key, "es"),
               ("EdDSA", ed_key, "ed"), ("HS256", SECRET, "hs")]
    tokens = [jwt.encode(claims, k, algorithm=alg, headers={"kid": kid}) for alg, k, kid in signers]
    tokens.append(jwt.encode(claims | {"exp": NOW - 3600}, SECRET, algorithm="HS256"))
    tokens += ["abc.def.ghi", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.", tokens[0] + "x",
               ".".join(tokens[0].split(".")[:2]) + "." + tokens[2].split(".")[2]]
    write("token", tokens)
    write("request", [f"/api?access_token={t}\nx-jwt: {t}\ncookie: a=b; jwt={t}\n" for t in tokens[:3]]
          + ["/public\nauthorization: Bearer x\n", "/api\nauthorization: Bearer  a.b.c\nauthorization: Basic x\n"])
    write("claims", [json.dumps(claims), json.dumps({"scope": 1, "groups": "dev", "exp": 1e400}),
                     '{"a":{"b":{"c":[1,2,{"d":null}]}}}', '{"exp":1,"exp":2}'])
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    write("jwks", [json.dumps({"keys": keys}), json.dumps({"keys": [keys[1]]}), pem,
                   '{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}', '{"kty":"EC","crv":"P-256"}'])
    cfg = {"providers": {"p": {"issuer": "https://issuer.example", "audiences": ["api"],
                               "local_jwks": {"inline_string": json.dumps({"keys": keys[:1]})},
                               "from_headers": [{"name": "x-jwt", "value_prefix": "Bearer "}],
                               "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}]}},
           "rules": [{"match": {"prefix": "/api"}, "requires": {"provider_name": "p"},
                      "authorize": {"all": [{"scopes": {"all_of": ["orders:read"]}},
                                            {"claim": "org.tier", "one_of": ["gold"]}]}}]}
    # The Istio dialect: a RequestAuthentication and an AuthorizationPolicy spec.
    istio = {"istio": {
        "requestAuthentication": {"jwtRules": [
            {"issuer": "https://issuer.example", "jwks": json.dumps({"keys": keys[:1]}),
             "fromHeaders": [{"name": "x-jwt", "prefix": "Bearer "}],
             "outputClaimToHeaders": [{"header": "x-sub", "claim": "sub"}]},
            {"issuer": "https://other.example", "jwksUri": "https://other.example/keys"}]},
        "authorizationPolicy": [
            {"action": "DENY", "rules": [{"when": [{"key": "request.headers[x-debug]",
                                                    "values": ["*"]}]}]},
            {"rules": [{"from": [{"source": {"requestPrincipals": ["https://issuer.example/*"]}}],
                        "to": [{"operation": {"methods": ["GET"], "paths": ["/api*"]}}],
                        "when": [{"key": "request.auth.claims[scope]", "values": ["orders:read"]},
                                 {"key": "request.auth.claims[org][tier]",
                                  "notValues": ["free"]}]}]}]}}
    write("config", [json.dumps(cfg), json.dumps({"providers": {}}),
                     '{"rules":[{"match":{"safe_regex":{"regex":"(a+)+"}}}]}', json.dumps(istio)])
    write_introspection()
    write_dpop()


def write_dpop() -> None:
    """htu candidates, the RFCs' example keys as JWKs, and nonce-like text."""
    write("dpop", [
        "https://server.example.com/token",
        "HTTPS://Server.Example.COM:443/a/../token?x=1#f",
        "http://[::1]:8080/%7euser/caf%c3%a9",
        json.dumps({"kty": "EC", "crv": "P-256",
                    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}),
        json.dumps({"kty": "RSA", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWh",
                    "e": "AQAB", "d": "private"}),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ])


def write_introspection() -> None:
    """Introspection answers (RFC 7662 §2.2): active with claims, inactive,
    and the hostile shapes an AS must not get away with."""
    write("introspection", [
        json.dumps({"active": True, "scope": "read write", "client_id": "l238j323ds-23ij4",
                    "username": "jdoe", "token_type": "Bearer", "exp": NOW + 3600,
                    "iat": NOW, "nbf": NOW, "sub": "Z5O3upPC88QrAjx00dis",
                    "aud": "https://protected.example.net/resource",
                    "iss": "https://server.example.com/", "cnf": {"jkt": "0ZcOCORZNYy"}}),
        '{"active":false}',
        '{"active":"true"}',
        '{"active":false,"active":true}',
        '{"token":{"active":true}}',
        '{"active":true,"exp":1e400,"token_type":"refresh_token"}',
        # Found by fuzzing: a double whose shortest form reads back elsewhere.
        '{"active":true,"iat":' + "1" * 140 + '6999.9999}',
    ])


def write(target: str, items: list[str]) -> None:
    d = HERE / "seeds" / target
    d.mkdir(parents=True, exist_ok=True)
    for i, item in enumerate(items):
        (d / f"seed-{i:02}").write_text(item)


if __name__ == "__main__":
    main()
