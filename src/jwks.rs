//! Verification keys (JWKS), parsed once at configure time.
//!
//! Input formats follow Envoy's `jwt_authn` (`source/common/jwt/jwks.cc`):
//! a JWKS JSON object (`{"keys": [...]}`) or Google's X.509 map
//! (`{"kid": "-----BEGIN CERTIFICATE-----\n..."}`). As an extension, [`parse`]
//! also takes PEM public keys (Envoy's `local_jwks` does not).
//!
//! Envoy silently skips keys it cannot use and fails only when none is left.
//! Local keys come from our own configuration, so we fail closed instead: any
//! key Envoy would skip is an error naming the key, and so are a few keys
//! Envoy keeps but that are surely mistakes (a non-string `kid`/`alg`, which
//! Envoy ignores so the key matches every token; an Ed25519 key that is not a
//! curve point or has small order). Other keys are kept with Envoy's
//! `kid`/`alg` semantics, including `alg` values that never match a token (an
//! RSA key with `"alg": "RSA-OAEP"`), and `use`/`key_ops` are ignored exactly
//! as Envoy ignores them (an `"use": "enc"` key still verifies) unless a
//! provider asks otherwise (`honor_key_use`, see [`KeyPolicy`]).

mod der;
mod error;
mod json;
mod pem;
mod policy;
#[cfg(test)]
pub(crate) mod testdata;
mod usage;

use std::fmt;
use std::sync::Arc;

pub use error::{JwksError, KeyError};
pub use json::parse_json;
pub use pem::parse_pem;
pub use policy::{weak_keys, KeyPolicy, KeyWarning, Weakness};
pub use usage::{KeyName, KeyOps, KeyOrigin, KeyUse};

use crate::crypto::ecdsa::{self, P256, P384};
use crate::crypto::rsa::RsaKey;

/// An ordered set of verification keys. Cloning is cheap (shared).
#[derive(Clone, Debug)]
pub struct Jwks {
    keys: Arc<[Jwk]>,
}

impl Jwks {
    pub(crate) fn from_keys(keys: Vec<Jwk>) -> Result<Jwks, JwksError> {
        if keys.is_empty() {
            return Err(JwksError::NoValidKey);
        }
        Ok(Jwks { keys: keys.into() })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false for a parsed set (an empty one is an error), kept for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys in source order (the order verification tries them).
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The keys `keep` accepts, in the same order; `NoValidKey` if none is.
    /// For configure-time key policies: verification never filters.
    pub fn filtered(&self, keep: impl Fn(&Jwk) -> bool) -> Result<Jwks, JwksError> {
        Jwks::from_keys(self.keys.iter().filter(|k| keep(k)).cloned().collect())
    }
}

/// One verification key with its precomputed public key.
#[derive(Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    key_use: KeyUse,
    key_ops: KeyOps,
    origin: KeyOrigin,
    material: KeyMaterial,
}

impl Jwk {
    /// Key id; `None` when absent or empty (Envoy treats both alike).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's `alg` member, compared verbatim with the token's `alg`.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// JWK key type: "RSA", "EC", "oct" or "OKP".
    pub fn kty(&self) -> &'static str {
        match self.material {
            KeyMaterial::Rsa(_) => "RSA",
            KeyMaterial::Ec(_) => "EC",
            KeyMaterial::Oct(_) => "oct",
            KeyMaterial::Ed25519(_) => "OKP",
        }
    }

    /// RSA modulus size in bits, for key-size policies.
    pub fn rsa_modulus_bits(&self) -> Option<u32> {
        match &self.material {
            KeyMaterial::Rsa(key) => u32::try_from(key.bits()).ok(),
            _ => None,
        }
    }

    /// HMAC secret length in bytes, for key-size warnings.
    pub fn hmac_secret_len(&self) -> Option<usize> {
        match &self.material {
            KeyMaterial::Oct(secret) => Some(secret.len()),
            _ => None,
        }
    }

    /// The declared `use` (ignored by verification, as in Envoy).
    pub fn key_use(&self) -> KeyUse {
        self.key_use
    }

    /// The declared `key_ops` (ignored by verification, as in Envoy).
    pub fn key_ops(&self) -> KeyOps {
        self.key_ops
    }

    /// Whether `use` and `key_ops`, where stated, allow verifying signatures.
    pub fn declared_for_verification(&self) -> bool {
        matches!(self.key_use, KeyUse::Unstated | KeyUse::Sig)
            && matches!(self.key_ops, KeyOps::Unstated | KeyOps::Verify)
    }

    /// Where the key was read from.
    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }

    /// `error` as a JWKS error naming this key the way parse errors do
    /// (`key 0 (kid "k"): ...`), for key policies.
    pub fn rejected(&self, error: KeyError) -> JwksError {
        usage::rejected(self.origin, self.kid(), error)
    }

    /// How errors and warnings name this key.
    pub fn name(&self) -> KeyName {
        KeyName {
            origin: self.origin,
            kid: self.kid.clone(),
        }
    }

    pub(crate) fn material(&self) -> &KeyMaterial {
        &self.material
    }

    fn new(
        origin: KeyOrigin,
        kid: Option<String>,
        alg: Option<String>,
        material: KeyMaterial,
    ) -> Jwk {
        Jwk {
            kid: kid.filter(|k| !k.is_empty()),
            alg: alg.filter(|a| !a.is_empty()),
            key_use: KeyUse::Unstated,
            key_ops: KeyOps::Unstated,
            origin,
            material,
        }
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.key_use)
            .field("key_ops", &self.key_ops)
            .field("key", &self.material)
            .finish()
    }
}

/// Decoded public key (or HMAC secret), ready to verify with.
#[derive(Clone)]
pub(crate) enum KeyMaterial {
    /// With its Montgomery parameters, computed here once.
    Rsa(Box<RsaKey>),
    Ec(EcKey),
    Oct(Box<[u8]>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyMaterial::Rsa(key) => write!(f, "RSA({} bits)", key.bits()),
            KeyMaterial::Ec(EcKey::P256(_)) => f.write_str("EC(P-256)"),
            KeyMaterial::Ec(EcKey::P384(_)) => f.write_str("EC(P-384)"),
            KeyMaterial::Ec(EcKey::P521(_)) => f.write_str("EC(P-521)"),
            // Never print the secret itself.
            KeyMaterial::Oct(k) => write!(f, "oct({} bytes)", k.len()),
            KeyMaterial::Ed25519(_) => f.write_str("OKP(Ed25519)"),
        }
    }
}

#[derive(Clone)]
pub(crate) enum EcKey {
    /// Our own verifiers, with their per-key tables.
    P256(ecdsa::PublicKey<P256>),
    P384(ecdsa::PublicKey<P384>),
    P521(p521::ecdsa::VerifyingKey),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

/// Largest RSA modulus BoringSSL accepts (`rsa_check_public_key`).
const RSA_MAX_BITS: usize = 16384;
/// Smallest RSA modulus Envoy 1.40 keeps: a JWK with 511 bits or fewer is
/// dropped (`Jwks doesn't have key to match kid or alg from Jwt` for its
/// tokens), so it is refused here, as every key Envoy would skip is.
const RSA_MIN_BITS: usize = 512;

fn strip_leading_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

fn bit_len(b: &[u8]) -> usize {
    let b = strip_leading_zeros(b);
    match b.first() {
        None => 0,
        Some(&top) => b
            .len()
            .saturating_mul(8)
            .saturating_sub(top.leading_zeros() as usize),
    }
}

/// Builds an RSA key from big-endian `n` and `e` with BoringSSL's public-key
/// checks (`rsa_check_public_key`): odd modulus of 512..=16384 bits, odd
/// exponent in 3..2^33.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<KeyMaterial, KeyError> {
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    let n_bits = bit_len(n);
    if n_bits > RSA_MAX_BITS {
        return Err(KeyError::Rsa("modulus is longer than 16384 bits"));
    }
    if n_bits < RSA_MIN_BITS {
        return Err(KeyError::Rsa("modulus is too short"));
    }
    if n.last().is_none_or(|b| b % 2 == 0) {
        return Err(KeyError::Rsa("modulus is even"));
    }
    if e.last().is_none_or(|b| b % 2 == 0) || e == [1] {
        return Err(KeyError::Rsa("exponent is not an odd number above 1"));
    }
    if bit_len(e) > 33 {
        return Err(KeyError::Rsa("exponent is longer than 33 bits"));
    }
    RsaKey::new(n, e)
        .map(|k| KeyMaterial::Rsa(Box::new(k)))
        .map_err(|_| KeyError::Rsa("rejected by the RSA implementation"))
}

/// Builds an EC key from affine coordinates, which (like BoringSSL's
/// `BN_bin2bn`) may omit leading zero bytes.
fn ec_key_from_coordinates(curve: Curve, x: &[u8], y: &[u8]) -> Result<KeyMaterial, KeyError> {
    let len = curve.field_len();
    let mut sec1 = vec![0u8; len.saturating_mul(2).saturating_add(1)];
    for (member, value, at) in [("x", x, 1), ("y", y, len.saturating_add(1))] {
        let value = strip_leading_zeros(value);
        let end = at.saturating_add(len);
        let start = end.checked_sub(value.len()).filter(|s| *s >= at).ok_or(
            KeyError::EcCoordinateTooLong {
                member,
                crv: curve.name(),
            },
        )?;
        if let Some(dst) = sec1.get_mut(start..end) {
            dst.copy_from_slice(value);
        }
    }
    if let Some(tag) = sec1.first_mut() {
        *tag = 0x04;
    }
    ec_key_from_sec1(curve, &sec1)
}

/// Builds an EC key from a SEC1 point (uncompressed or compressed), checking
/// it is on the curve and not the identity.
fn ec_key_from_sec1(curve: Curve, point: &[u8]) -> Result<KeyMaterial, KeyError> {
    let key = match curve {
        Curve::P256 => ecdsa::PublicKey::from_sec1(point).ok().map(EcKey::P256),
        Curve::P384 => ecdsa::PublicKey::from_sec1(point).ok().map(EcKey::P384),
        Curve::P521 => p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .ok()
            .map(EcKey::P521),
    };
    key.map(KeyMaterial::Ec)
        .ok_or(KeyError::EcPointInvalid(curve.name()))
}

/// Builds an Ed25519 key. BoringSSL would accept an undecodable or
/// small-order key and then fail (or, for small order, be forgeable) at
/// verification; we reject both at configure time.
fn ed25519_key(x: &[u8]) -> Result<KeyMaterial, KeyError> {
    let bytes: [u8; 32] = x.try_into().map_err(|_| KeyError::Ed25519Length(x.len()))?;
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Ed25519Invalid)?;
    if key.is_weak() {
        return Err(KeyError::Ed25519Weak);
    }
    Ok(KeyMaterial::Ed25519(key))
}

/// Every key of a document, parsed or with why it cannot be used.
type Candidates = Vec<Result<Jwk, JwksError>>;

/// The keys of a document, for [`parse`] and [`parse_fetched`] to judge:
/// JWKS JSON first, then PEM public keys.
fn candidates(text: &str) -> Result<Candidates, JwksError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => json::candidates(&value),
        Err(_) if pem::looks_like_pem(text) => pem::candidates(text),
        Err(e) if text.trim_start().starts_with(['{', '[']) => {
            Err(JwksError::InvalidJson(e.to_string()))
        }
        Err(_) => Err(JwksError::NotJwksNorPem),
    }
}

/// All keys, or the first one that cannot be used.
fn strict(candidates: Candidates) -> Result<Jwks, JwksError> {
    Jwks::from_keys(candidates.into_iter().collect::<Result<Vec<_>, _>>()?)
}

/// Parses key material from our own configuration (`local_jwks`): JWKS
/// JSON first, then PEM public keys. A key that cannot be used is an error
/// naming it: a typo in one's own config must not pass unnoticed.
pub fn parse(text: &str) -> Result<Jwks, JwksError> {
    strict(candidates(text)?)
}

/// One JWK object as a key set of one (a DPoP proof's `jwk`): no text to
/// write and parse again. An error when the key cannot be used.
pub fn parse_one(key: &serde_json::Value) -> Result<Jwks, JwksError> {
    let jwk = json::parse_key(key, 0).map_err(|error| JwksError::Key {
        index: 0,
        kid: None,
        error,
    })?;
    Jwks::from_keys(vec![jwk])
}

/// A key set fetched from an IdP, with the keys it holds that cannot be used.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub jwks: Jwks,
    /// Each skipped key, named, with why (to be logged).
    pub skipped: Vec<JwksError>,
}

/// Parses a key set the world wrote (a fetched JWKS): as Envoy does, a key
/// this filter cannot use (an unknown `kty` such as a post-quantum `AKP`, a
/// curve such as X25519 or secp256k1, an encryption algorithm, malformed
/// members, a weak point) is skipped, so an IdP that publishes one more key
/// does not take every API down. An error for a document that is not a key
/// set, or that leaves no usable key.
pub fn parse_fetched(text: &str) -> Result<Fetched, JwksError> {
    let (keys, skipped): (Vec<_>, Vec<_>) = candidates(text)?.into_iter().partition(Result::is_ok);
    let keys: Vec<Jwk> = keys.into_iter().flatten().collect();
    let skipped: Vec<JwksError> = skipped.into_iter().filter_map(Result::err).collect();
    if keys.is_empty() && !skipped.is_empty() {
        return Err(JwksError::NoUsableKey(skipped));
    }
    Ok(Fetched {
        jwks: Jwks::from_keys(keys)?,
        skipped,
    })
}

#[cfg(test)]
mod tests;
