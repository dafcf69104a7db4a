//! JWS algorithms and signature verification against a JWKS.
//!
//! Key selection and per-key verification follow Envoy's
//! `verifyJwtWithoutTimeChecking` (`source/common/jwt/verify.cc`, from
//! google/jwt_verify_lib) exactly, quirks included, because a token Envoy
//! accepts must be accepted here and vice versa:
//! - the hash follows the token's `alg`, the algorithm follows the key's type:
//!   an EC key without `alg` verifies any non-RSA/HMAC-labelled token as ECDSA
//!   (SHA-384 for ES384, SHA-512 for ES512, else SHA-256) on the key's own
//!   curve; an `oct` key without `alg` verifies any token as HMAC; an Ed25519
//!   key verifies any token as Ed25519. An RSA key only verifies `RS*`/`PS*`.
//!   None of this weakens security: each still needs that key's signature.
//! - a key that passes the kid/alg filter counts as matched even when its type
//!   cannot verify the token's alg (RSA key, ES256 token): "Jwt verification
//!   fails" rather than "Jwks doesn't have key to match kid or alg from Jwt".

use hmac::{Hmac, KeyInit, Mac};
use sha2::digest::Digest;
use sha2::{Sha256, Sha384, Sha512};

use crate::crypto::rsa::{Padding, RsaKey};
use crate::jwks::{EcKey, Jwks, KeyMaterial};

/// JWS `alg` values Envoy's `jwt_authn` supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

impl Alg {
    pub const ALL: [Alg; 13] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::EdDSA,
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
    ];

    /// An HMAC algorithm (its key is a shared secret).
    pub fn is_symmetric(self) -> bool {
        matches!(self, Alg::HS256 | Alg::HS384 | Alg::HS512)
    }

    /// Exact, case-sensitive JOSE name. `None` for anything else, incl. "none".
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|alg| alg.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Outcome of trying the JWKS against a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    Verified,
    /// No key passed the kid/alg filter.
    NoKeyMatched,
    /// Some key passed the kid/alg filter but no signature verified.
    SignatureInvalid,
    /// An Ed25519 key was tried with a signature that is not 64 bytes; Envoy
    /// stops there with its own status, whatever keys follow.
    Ed25519SignatureWrongLength,
}

/// Tries the keys in order, as Envoy does. `kid` is the token header's kid
/// (`None` or empty: every key is a candidate); `signing_input` is the raw
/// "header.payload"; `signature` is already base64url-decoded.
pub fn verify_with_jwks(
    jwks: &Jwks,
    alg: Alg,
    kid: Option<&str>,
    signing_input: &[u8],
    signature: &[u8],
) -> KeyOutcome {
    let kid = kid.filter(|k| !k.is_empty());
    let mut matched = false;
    for key in jwks.keys() {
        if matches!((kid, key.kid()), (Some(want), Some(have)) if want != have) {
            continue;
        }
        if key.alg().is_some_and(|a| a != alg.name()) {
            continue;
        }
        matched = true;
        let verified = match key.material() {
            KeyMaterial::Rsa(rsa) => verify_rsa(rsa, alg, signing_input, signature),
            KeyMaterial::Ec(ec) => verify_ec(ec, alg, signing_input, signature),
            KeyMaterial::Oct(secret) => verify_hmac(secret, alg, signing_input, signature),
            KeyMaterial::Ed25519(ed) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return KeyOutcome::Ed25519SignatureWrongLength;
                };
                // Cofactorless check, s < L, R compared as bytes, small-order
                // keys allowed: the same rules as BoringSSL's ED25519_verify
                // (`verify_strict` would also reject small-order R).
                ed25519_dalek::Verifier::verify(ed, signing_input, &sig).is_ok()
            }
        };
        if verified {
            return KeyOutcome::Verified;
        }
    }
    if matched {
        KeyOutcome::SignatureInvalid
    } else {
        KeyOutcome::NoKeyMatched
    }
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The `*384`/`*512` variants pick SHA-384/512; everything else SHA-256.
    fn for_alg(alg: Alg) -> Hash {
        match alg {
            Alg::RS384 | Alg::PS384 | Alg::ES384 | Alg::HS384 => Hash::Sha384,
            Alg::RS512 | Alg::PS512 | Alg::ES512 | Alg::HS512 => Hash::Sha512,
            _ => Hash::Sha256,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

fn verify_rsa(key: &RsaKey, alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    // PSS: MGF1 with the same hash; salt length recovered from the signature,
    // as BoringSSL does with its default RSA_PSS_SALTLEN_AUTO (-2).
    let padding = match alg {
        Alg::RS256 | Alg::RS384 | Alg::RS512 => Padding::Pkcs1v15,
        Alg::PS256 | Alg::PS384 | Alg::PS512 => Padding::Pss,
        _ => return false,
    };
    match Hash::for_alg(alg) {
        Hash::Sha256 => key.verify::<Sha256>(padding, msg, sig),
        Hash::Sha384 => key.verify::<Sha384>(padding, msg, sig),
        Hash::Sha512 => key.verify::<Sha512>(padding, msg, sig),
    }
}

/// ECDSA as jwt_verify_lib's `verifySignatureEC`: r and s are the two halves
/// of the signature read as big-endian integers of any length (an odd last
/// byte is ignored), must be in [1, n), and high S is accepted.
fn verify_ec(key: &EcKey, alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    use p521::ecdsa::signature::hazmat::PrehashVerifier;

    let half = sig.len() / 2;
    let (Some(r), Some(s)) = (sig.get(..half), sig.get(half..half.saturating_mul(2))) else {
        return false;
    };
    let prehash = Hash::for_alg(alg).digest(msg);
    match key {
        EcKey::P256(key) => {
            fixed::<32>(r, s).is_some_and(|(r, s)| key.verify_prehash(&prehash, &r, &s))
        }
        EcKey::P384(key) => {
            fixed::<48>(r, s).is_some_and(|(r, s)| key.verify_prehash(&prehash, &r, &s))
        }
        EcKey::P521(vk) => fixed::<66>(r, s)
            .and_then(|(r, s)| p521::ecdsa::Signature::from_scalars(r, s).ok())
            .is_some_and(|sig| vk.verify_prehash(&prehash, &sig).is_ok()),
    }
}

/// Left-pads r and s to the curve's scalar size; `None` if either is longer
/// once leading zeros are dropped (so it is at least the group order).
fn fixed<const N: usize>(r: &[u8], s: &[u8]) -> Option<([u8; N], [u8; N])> {
    fn pad<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
        let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        let v = v.get(first..)?;
        let mut out = [0u8; N];
        out.get_mut(N.checked_sub(v.len())?..)?.copy_from_slice(v);
        Some(out)
    }
    Some((pad(r)?, pad(s)?))
}

fn verify_hmac(secret: &[u8], alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    fn check<M: Mac + KeyInit>(secret: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let Ok(mut mac) = <M as KeyInit>::new_from_slice(secret) else {
            return false;
        };
        mac.update(msg);
        // Constant-time; a tag of the wrong length fails.
        mac.verify_slice(sig).is_ok()
    }
    match Hash::for_alg(alg) {
        Hash::Sha256 => check::<Hmac<Sha256>>(secret, msg, sig),
        Hash::Sha384 => check::<Hmac<Sha384>>(secret, msg, sig),
        Hash::Sha512 => check::<Hmac<Sha512>>(secret, msg, sig),
    }
}

#[cfg(test)]
mod tests;
