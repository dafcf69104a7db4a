//! Shared unit-test fixtures: one HMAC secret and the JWKS holding it, one
//! fixed `now`, HS256 tokens signed here, policies compiled from JSON and
//! request headers. The only test code that names the config compiler: the
//! rest of the crate's tests build policies through [`policy`].

use crate::config::{self, Compiled, ConfigError};
use crate::request::Headers;
use crate::rules::Policy;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The HMAC secret every fixture token is signed with (32 bytes: no
/// weak-key warning for HS256).
pub const SECRET: &[u8] = b"a-test-secret-of-thirty-two-byte";

/// The time every fixture evaluates at (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;

/// Unpadded base64url, as JWS segments are written.
/// The JSON object `v` is (a test's claim set or answer).
pub fn object(v: Value) -> crate::claims::Object {
    match v {
        Value::Object(o) => o,
        other => panic!("not a JSON object: {other}"),
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    crate::b64::encode_std(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A JWKS with [`SECRET`] as an `oct` key, with `kid` when given.
pub fn jwks(kid: Option<&str>) -> String {
    let mut key = json!({"kty": "oct", "k": b64url(SECRET)});
    if let Some(kid) = kid {
        key["kid"] = Value::from(kid);
    }
    json!({"keys": [key]}).to_string()
}

/// Signs `header.claims` with HS256 under [`SECRET`]: the header is
/// `{"alg": "HS256"}` plus the members of `header` (which may replace
/// `alg`), the payload is `claims` as written.
pub fn hs256(header: Value, claims: Value) -> String {
    let header = merged(json!({"alg": "HS256"}), header);
    sign(&header.to_string(), &claims.to_string())
}

/// Signs raw header and payload JSON text (for tokens `serde_json` would
/// not write, such as duplicate members).
pub fn sign(header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes())
    );
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}

/// The object `base` with the members of `extra` added or replaced (a
/// `null` in `extra` sets that member to null).
pub fn merged(base: Value, extra: Value) -> Value {
    let mut out = base;
    if let (Some(o), Value::Object(e)) = (out.as_object_mut(), extra) {
        o.extend(e);
    }
    out
}

/// Compiles a configuration written as JSON.
pub fn compile(config: &Value) -> Result<Compiled, ConfigError> {
    config::compile(&config.to_string())
}

/// The policy of a configuration that must compile.
pub fn policy(config: Value) -> Policy {
    match compile(&config) {
        Ok(c) => c.policy,
        Err(e) => panic!("fixture config does not compile: {e}"),
    }
}

/// Request headers from name/value pairs, in order.
pub fn headers(pairs: &[(&str, &str)]) -> Headers {
    Headers::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn fixture_tokens_verify_with_the_fixture_keys() {
    let token = hs256(json!({"kid": "k"}), json!({"iss": "A", "exp": NOW + 60}));
    let (jwt, signed) = crate::jwt::parse(&token).expect("a well-formed token");
    assert_eq!((jwt.kid.as_deref(), jwt.iss.as_str()), (Some("k"), "A"));
    let keys = crate::jwks::parse(&jwks(Some("k"))).expect("a valid JWKS");
    let verify = |sig: &[u8]| {
        crate::jws::verify_with_jwks(
            &keys,
            jwt.alg,
            jwt.kid.as_deref(),
            signed.signing_input.as_bytes(),
            sig,
        )
    };
    assert_eq!(verify(&signed.signature), crate::jws::KeyOutcome::Verified);
    let mut forged = signed.signature.clone();
    forged[0] ^= 1;
    assert_eq!(verify(&forged), crate::jws::KeyOutcome::SignatureInvalid);
}

/// The Ed25519 key DPoP proofs in tests are signed with.
pub fn proof_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
}

/// [`proof_key`]'s public JWK.
pub fn proof_jwk() -> Value {
    let x = b64url(proof_key().verifying_key().as_bytes());
    json!({"kty": "OKP", "crv": "Ed25519", "x": x})
}

/// [`proof_key`]'s RFC 7638 thumbprint: what a bound token's `cnf.jkt` holds.
pub fn proof_jkt() -> String {
    crate::dpop::thumbprint(&object(proof_jwk())).unwrap_or_default()
}

/// A DPoP proof with `claims`, signed by [`proof_key`], its header
/// `{"typ": "dpop+jwt", "alg": "EdDSA", "jwk": ...}` plus `header`.
pub fn proof(header: Value, claims: Value) -> String {
    use ed25519_dalek::Signer;
    let header = merged(
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": proof_jwk()}),
        header,
    );
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = proof_key().sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig.to_bytes()))
}

/// Counts clock reads; `None` plays a host whose clock fails.
pub struct CountingClock(pub std::cell::Cell<usize>, pub Option<u64>);

impl crate::authn::Clock for CountingClock {
    fn now_ms(&self) -> Option<u64> {
        self.0.set(self.0.get() + 1);
        self.1.map(|s| s * 1000)
    }
}
