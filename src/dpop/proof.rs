//! A DPoP proof checked as RFC 9449 §4.3 lists the checks: a JWS of type
//! `dpop+jwt`, signed with an allowed asymmetric algorithm by the public
//! key in its own header, for this request's method and URI, fresh, with
//! the access token's hash, and with a valid server nonce when nonces are
//! on. What binds it to the token (the key's thumbprint) and whether its
//! `jti` was seen before are left to the caller. Each failed check is its
//! own [`Status`], whose sentence names it.

use super::keys::{KeyCache, ProofKey};
use super::{ath, has_private_members, normalize_htu, thumbprint, Nonces};
use crate::claims::{self, Lookup, Object};
use crate::error::Status;
use crate::jwks;
use crate::jws::{self, Alg, KeyOutcome};
use crate::jwt;
use serde_json::Value;
use std::rc::Rc;

/// What the request says a proof must match, and the provider's limits.
pub struct Expect<'a> {
    /// The request method, as sent.
    pub method: &'a str,
    /// The request URI in [`normalize_htu`] form.
    pub htu: &'a str,
    /// The access token the proof comes with.
    pub access_token: &'a str,
    /// Allowed algorithms (symmetric ones are refused whatever this says).
    pub algorithms: &'a [Alg],
    pub max_age_s: u64,
    pub future_skew_s: u64,
    pub max_jti_len: usize,
    pub nonces: Option<&'a Nonces>,
    /// Keys of proofs seen before ([`super::keys::NoKeyCache`]: none).
    pub keys: &'a dyn KeyCache,
}

/// A proof that passed: its key's thumbprint, its `jti` and `iat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
    pub jti: String,
    pub iat: u64,
}

/// A required, non-empty string claim; `missing` when it is not one.
fn string<'o>(payload: &'o Object, name: &str, missing: Status) -> Result<&'o str, Status> {
    match claims::get_str(payload, name) {
        Lookup::Found(s) if !s.is_empty() => Ok(s),
        _ => Err(missing),
    }
}

/// Whether `proof` is an unsecured JWS: two segments and an empty
/// signature, its header naming an `alg` this filter does not verify with.
fn unsigned(proof: &str) -> bool {
    let mut parts = proof.split('.');
    let (Some(header), Some(_), Some(""), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let header = crate::b64::decode_url(header.as_bytes()).and_then(|h| claims::parse_object(&h));
    match header.as_ref().and_then(|h| h.get("alg")) {
        Some(Value::String(alg)) => Alg::from_name(alg).is_none(),
        _ => false,
    }
}

/// Whether the JWK's type (and curve) is the one `alg` signs with: a key
/// of another type is unusable, not a bad signature.
fn fits(alg: Alg, jwk: &Object) -> bool {
    let member = |name: &str| match jwk.get(name) {
        Some(Value::String(s)) => s.as_str(),
        _ => "",
    };
    match alg {
        Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
            member("kty") == "RSA"
        }
        Alg::ES256 => member("kty") == "EC" && member("crv") == "P-256",
        Alg::ES384 => member("kty") == "EC" && member("crv") == "P-384",
        Alg::ES512 => member("kty") == "EC" && member("crv") == "P-521",
        Alg::EdDSA => member("kty") == "OKP" && member("crv") == "Ed25519",
        Alg::HS256 | Alg::HS384 | Alg::HS512 => false,
    }
}

/// The proof's `jwk`: a public key of the type its `alg` signs with.
fn proof_key(jwt: &jwt::Jwt) -> Result<ProofKey, Status> {
    let Some(jwk_value @ Value::Object(jwk)) = jwt.header.get("jwk") else {
        return Err(Status::DpopProofNoKey);
    };
    if has_private_members(jwk) {
        return Err(Status::DpopProofPrivateKey);
    }
    let jkt = thumbprint(jwk).map_err(|_| Status::DpopProofUnusableKey)?;
    if !fits(jwt.alg, jwk) {
        return Err(Status::DpopProofUnusableKey);
    }
    let jwks = jwks::parse_one(jwk_value).map_err(|_| Status::DpopProofUnusableKey)?;
    Ok(ProofKey { jkt, jwks })
}

/// Checks `proof` against `expect` at `now_ms`.
pub fn verify(proof: &str, expect: &Expect<'_>, now_ms: u64) -> Result<Proof, Status> {
    let (jwt, signed) = jwt::parse(proof).map_err(|status| match status {
        Status::JwtPayloadIatNotInteger | Status::JwtPayloadIatOutOfRange => {
            Status::DpopProofBadIat
        }
        Status::JwtPayloadJtiNotString => Status::DpopProofBadJti,
        // `none`, or no `alg` at all.
        Status::JwtHeaderBadAlg | Status::JwtHeaderNotImplementedAlg => Status::DpopProofBadAlg,
        // An unsecured JWS (`alg` none, empty signature) is well-formed
        // (RFC 7515 §A.5): it fails on its `alg`, as RFC 9449 §4.3 orders.
        Status::JwtBadFormat if unsigned(proof) => Status::DpopProofBadAlg,
        _ => Status::DpopProofMalformed,
    })?;
    let typ_ok = matches!(jwt.header.get("typ"), Some(Value::String(t)) if t.eq_ignore_ascii_case("dpop+jwt"));
    if !typ_ok {
        return Err(Status::DpopProofBadTyp);
    }
    if jwt.alg.is_symmetric() || !expect.algorithms.contains(&jwt.alg) {
        return Err(Status::DpopProofBadAlg);
    }
    // A client's proofs repeat their header: its key was parsed before.
    let header = proof.split('.').next().unwrap_or("");
    let (key, fresh) = match expect.keys.get(header) {
        Some(key) => (key, false),
        None => (Rc::new(proof_key(&jwt)?), true),
    };
    let outcome = jws::verify_with_jwks(
        &key.jwks,
        jwt.alg,
        None,
        signed.signing_input.as_bytes(),
        &signed.signature,
    );
    match outcome {
        KeyOutcome::Verified if fresh => expect.keys.put(header, key.clone()),
        KeyOutcome::Verified => {}
        KeyOutcome::NoKeyMatched => return Err(Status::DpopProofUnusableKey),
        KeyOutcome::SignatureInvalid | KeyOutcome::Ed25519SignatureWrongLength => {
            return Err(Status::DpopProofBadSignature)
        }
    }
    let payload = &jwt.payload;
    let jti = string(payload, "jti", Status::DpopProofBadJti)?;
    let htm = string(payload, "htm", Status::DpopProofBadHtm)?;
    let htu = string(payload, "htu", Status::DpopProofBadHtu)?;
    let iat = match claims::get_u64(payload, "iat") {
        Lookup::Found(iat) => iat,
        _ => return Err(Status::DpopProofBadIat),
    };
    if jti.len() > expect.max_jti_len {
        return Err(Status::DpopProofBadJti);
    }
    if htm != expect.method {
        return Err(Status::DpopProofBadHtm);
    }
    if normalize_htu(htu).as_deref() != Some(expect.htu) {
        return Err(Status::DpopProofBadHtu);
    }
    if let Some(nonces) = expect.nonces {
        let ok =
            matches!(payload.get("nonce"), Some(Value::String(n)) if nonces.accepts(n, now_ms));
        if !ok {
            return Err(Status::DpopNonceRequired);
        }
    }
    let now = now_ms / 1000;
    let too_old = now.saturating_sub(iat) > expect.max_age_s;
    let too_new = iat.saturating_sub(now) > expect.future_skew_s;
    if too_old || too_new {
        return Err(Status::DpopProofBadIat);
    }
    if string(payload, "ath", Status::DpopProofBadAth)? != ath(expect.access_token) {
        return Err(Status::DpopProofBadAth);
    }
    Ok(Proof {
        jkt: key.jkt.clone(),
        jti: jti.to_owned(),
        iat,
    })
}

#[cfg(test)]
mod tests;
