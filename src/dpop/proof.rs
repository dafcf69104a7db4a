//! A DPoP proof checked as RFC 9449 §4.3 lists the checks: a JWS of type
//! `dpop+jwt`, signed with an allowed asymmetric algorithm by the public
//! key in its own header, for this request's method and URI, fresh, with
//! the access token's hash, and with a valid server nonce when nonces are
//! on. What binds it to the token (the key's thumbprint) and whether its
//! `jti` was seen before are left to the caller.

use super::{ath, has_private_members, normalize_htu, thumbprint, Nonces};
use crate::claims::{self, Lookup, Object};
use crate::error::Status;
use crate::jws::{self, Alg, KeyOutcome};
use crate::jwt;
use serde_json::Value;
use std::fmt;

/// Why a proof is refused (each an `invalid_dpop_proof`, but
/// [`ProofError::NonceNeeded`], which asks the client for a nonce).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// Not a compact JWS with JSON header and payload.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    Typ,
    /// `alg` is symmetric, or not one of the allowed ones.
    Alg,
    /// No `jwk` object in the header.
    NoKey,
    /// The `jwk` carries private key material.
    PrivateKey,
    /// The `jwk` is not a key this filter can verify with.
    UnusableKey(String),
    /// The signature does not verify under the `jwk`.
    Signature,
    /// A required claim is missing or of the wrong type.
    Claim(&'static str),
    /// `jti` is longer than allowed.
    JtiTooLong,
    /// `htm` is not the request's method.
    Htm,
    /// `htu` is not the request's URI.
    Htu,
    /// `iat` is older than the allowed age, or too far ahead.
    Iat,
    /// `ath` is not the hash of the presented access token.
    Ath,
    /// Nonces are on and the proof's is missing, stale or not ours.
    NonceNeeded,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Malformed => f.write_str("DPoP proof is not a compact JWS"),
            ProofError::Typ => f.write_str("DPoP proof [typ] is not dpop+jwt"),
            ProofError::Alg => f.write_str("DPoP proof [alg] is not allowed"),
            ProofError::NoKey => f.write_str("DPoP proof has no [jwk]"),
            ProofError::PrivateKey => f.write_str("DPoP proof [jwk] holds a private key"),
            ProofError::UnusableKey(why) => write!(f, "DPoP proof [jwk] is unusable: {why}"),
            ProofError::Signature => f.write_str("DPoP proof signature does not verify"),
            ProofError::Claim(c) => write!(f, "DPoP proof [{c}] is missing or invalid"),
            ProofError::JtiTooLong => f.write_str("DPoP proof [jti] is too long"),
            ProofError::Htm => f.write_str("DPoP proof [htm] is not the request method"),
            ProofError::Htu => f.write_str("DPoP proof [htu] is not the request URI"),
            ProofError::Iat => f.write_str("DPoP proof [iat] is outside the allowed window"),
            ProofError::Ath => f.write_str("DPoP proof [ath] does not match the access token"),
            ProofError::NonceNeeded => f.write_str("DPoP proof needs a valid server nonce"),
        }
    }
}

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
}

/// A proof that passed: its key's thumbprint, its `jti` and `iat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
    pub jti: String,
    pub iat: u64,
}

fn string<'o>(payload: &'o Object, name: &'static str) -> Result<&'o str, ProofError> {
    match claims::get_str(payload, name) {
        Lookup::Found(s) if !s.is_empty() => Ok(s),
        _ => Err(ProofError::Claim(name)),
    }
}

/// Checks `proof` against `expect` at `now_ms`.
pub fn verify(proof: &str, expect: &Expect<'_>, now_ms: u64) -> Result<Proof, ProofError> {
    let (jwt, signed) = jwt::parse(proof).map_err(|status| match status {
        Status::JwtPayloadIatNotInteger | Status::JwtPayloadIatOutOfRange => {
            ProofError::Claim("iat")
        }
        Status::JwtPayloadJtiNotString => ProofError::Claim("jti"),
        _ => ProofError::Malformed,
    })?;
    let typ_ok = matches!(jwt.header.get("typ"), Some(Value::String(t)) if t.eq_ignore_ascii_case("dpop+jwt"));
    if !typ_ok {
        return Err(ProofError::Typ);
    }
    let symmetric = matches!(jwt.alg, Alg::HS256 | Alg::HS384 | Alg::HS512);
    if symmetric || !expect.algorithms.contains(&jwt.alg) {
        return Err(ProofError::Alg);
    }
    let Some(Value::Object(jwk)) = jwt.header.get("jwk") else {
        return Err(ProofError::NoKey);
    };
    if has_private_members(jwk) {
        return Err(ProofError::PrivateKey);
    }
    let jkt = thumbprint(jwk).map_err(|e| ProofError::UnusableKey(e.to_string()))?;
    let text = format!("{{\"keys\":[{}]}}", Value::Object(jwk.clone()));
    let key = crate::jwks::parse(&text).map_err(|e| ProofError::UnusableKey(e.to_string()))?;
    let outcome = jws::verify_with_jwks(
        &key,
        jwt.alg,
        None,
        signed.signing_input.as_bytes(),
        &signed.signature,
    );
    match outcome {
        KeyOutcome::Verified => {}
        KeyOutcome::NoKeyMatched => {
            return Err(ProofError::UnusableKey(format!(
                "not a key for {}",
                jwt.alg.name()
            )))
        }
        KeyOutcome::SignatureInvalid | KeyOutcome::Ed25519SignatureWrongLength => {
            return Err(ProofError::Signature)
        }
    }
    let payload = &jwt.payload;
    let jti = string(payload, "jti")?;
    let htm = string(payload, "htm")?;
    let htu = string(payload, "htu")?;
    let iat = match claims::get_u64(payload, "iat") {
        Lookup::Found(iat) => iat,
        _ => return Err(ProofError::Claim("iat")),
    };
    if jti.len() > expect.max_jti_len {
        return Err(ProofError::JtiTooLong);
    }
    if htm != expect.method {
        return Err(ProofError::Htm);
    }
    if normalize_htu(htu).as_deref() != Some(expect.htu) {
        return Err(ProofError::Htu);
    }
    if let Some(nonces) = expect.nonces {
        let ok =
            matches!(payload.get("nonce"), Some(Value::String(n)) if nonces.accepts(n, now_ms));
        if !ok {
            return Err(ProofError::NonceNeeded);
        }
    }
    let now = now_ms / 1000;
    let too_old = now.saturating_sub(iat) > expect.max_age_s;
    let too_new = iat.saturating_sub(now) > expect.future_skew_s;
    if too_old || too_new {
        return Err(ProofError::Iat);
    }
    if string(payload, "ath")? != ath(expect.access_token) {
        return Err(ProofError::Ath);
    }
    Ok(Proof {
        jkt,
        jti: jti.to_owned(),
        iat,
    })
}

#[cfg(test)]
mod tests;
