//! Typed errors for key material, with the messages shown to operators.

use std::fmt;

use super::usage::{KeyName, KeyOrigin};

/// Why one key was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    NotAnObject,
    Missing(&'static str),
    NotAString(&'static str),
    UnsupportedKty(String),
    AlgNotForKty {
        alg: String,
        kty: &'static str,
        expected: &'static str,
    },
    NotBase64Url {
        what: &'static str,
        member: &'static str,
    },
    RsaExponentNotStandard,
    Rsa(&'static str),
    CurveNotForAlg {
        crv: String,
        alg: String,
    },
    UnsupportedCurve {
        crv: String,
        kty: &'static str,
    },
    UnsupportedEcAlg(String),
    EcCoordinateTooLong {
        member: &'static str,
        crv: &'static str,
    },
    EcPointInvalid(&'static str),
    EmptyHmacKey,
    Ed25519Length(usize),
    Ed25519Invalid,
    Ed25519Weak,
    Der(&'static str),
    UnsupportedKeyType(String),
    CertificateKeyNotRsa,
    /// A provider's `min_rsa_key_bits` policy, checked after parsing.
    RsaBelowMinimum {
        bits: u32,
        min: u32,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotAnObject => write!(f, "not a JSON object"),
            KeyError::Missing(m) => write!(f, "missing \"{m}\""),
            KeyError::NotAString(m) => write!(f, "\"{m}\" is not a string"),
            KeyError::UnsupportedKty(k) => write!(f, "unsupported kty \"{k}\""),
            KeyError::AlgNotForKty { alg, kty, expected } => {
                write!(f, "alg \"{alg}\" is not {expected} for an {kty} key")
            }
            KeyError::NotBase64Url { what, member } => {
                write!(f, "{what} \"{member}\" is not valid base64url")
            }
            KeyError::RsaExponentNotStandard => {
                write!(f, "RSA exponent \"e\" is neither 3 nor 65537")
            }
            KeyError::Rsa(why) => write!(f, "invalid RSA public key: {why}"),
            KeyError::CurveNotForAlg { crv, alg } => {
                write!(f, "crv \"{crv}\" does not match alg \"{alg}\"")
            }
            KeyError::UnsupportedCurve { crv, kty } => {
                write!(f, "unsupported crv \"{crv}\" for an {kty} key")
            }
            KeyError::UnsupportedEcAlg(alg) => write!(f, "unsupported alg \"{alg}\" for an EC key"),
            KeyError::EcCoordinateTooLong { member, crv } => {
                write!(f, "EC coordinate \"{member}\" is too long for {crv}")
            }
            KeyError::EcPointInvalid(crv) => write!(f, "EC public key is not a point on {crv}"),
            KeyError::EmptyHmacKey => write!(f, "HMAC key \"k\" is empty"),
            KeyError::Ed25519Length(n) => {
                write!(f, "Ed25519 public key \"x\" is {n} bytes, expected 32")
            }
            KeyError::Ed25519Invalid => write!(f, "Ed25519 public key is not a valid point"),
            KeyError::Ed25519Weak => write!(
                f,
                "Ed25519 public key is a small-order point (signatures would be forgeable)"
            ),
            KeyError::Der(why) => write!(f, "malformed DER: {why}"),
            KeyError::UnsupportedKeyType(what) => write!(f, "unsupported public key type {what}"),
            KeyError::CertificateKeyNotRsa => {
                write!(
                    f,
                    "certificate key is not RSA (Envoy only uses RSA certificates)"
                )
            }
            KeyError::RsaBelowMinimum { bits, min } => {
                write!(f, "RSA key has {bits} bits, below min_rsa_key_bits {min}")
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// Why key material was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksError {
    NotJwksNorPem,
    InvalidJson(String),
    NotAnObject,
    NoKeys,
    KeysNotArray,
    NoValidKey,
    Key {
        index: usize,
        kid: Option<String>,
        error: KeyError,
    },
    Certificate {
        kid: String,
        error: KeyError,
    },
    Pem {
        index: usize,
        error: KeyError,
    },
    PemUnsupportedLabel {
        index: usize,
        label: String,
    },
    PemUnterminated {
        index: usize,
    },
    PemBadBase64 {
        index: usize,
    },
    NoPemBlock,
    /// A provider's `honor_key_use` policy dropped every key.
    NoKeyForVerification,
    /// A fetched set in which every key was skipped, each with why.
    NoUsableKey(Vec<JwksError>),
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksError::NotJwksNorPem => write!(f, "not a JWKS JSON object nor a PEM public key"),
            JwksError::InvalidJson(e) => write!(f, "JWKS is not valid JSON: {e}"),
            JwksError::NotAnObject => write!(f, "JWKS is not a JSON object"),
            JwksError::NoKeys => write!(
                f,
                "JWKS has no \"keys\" member (nor is it a map of kid to X.509 certificate)"
            ),
            JwksError::KeysNotArray => write!(f, "\"keys\" in JWKS is not an array"),
            JwksError::NoValidKey => write!(f, "no valid key in JWKS"),
            JwksError::Key { .. } | JwksError::Certificate { .. } | JwksError::Pem { .. } => {
                match self.key() {
                    Some((name, error)) => write!(f, "{name}: {error}"),
                    None => Ok(()),
                }
            }
            JwksError::PemUnsupportedLabel { index, label } => write!(
                f,
                "PEM block {index}: \"{label}\" is not a PUBLIC KEY or RSA PUBLIC KEY"
            ),
            JwksError::PemUnterminated { index } => {
                write!(f, "PEM block {index}: missing its END line")
            }
            JwksError::PemBadBase64 { index } => write!(f, "PEM block {index}: invalid base64"),
            JwksError::NoPemBlock => write!(f, "no PEM block found"),
            JwksError::NoUsableKey(skipped) => {
                f.write_str("no usable key in JWKS")?;
                for (i, e) in skipped.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            JwksError::NoKeyForVerification => write!(
                f,
                "no key is left under honor_key_use: every key has \"use\" other than \"sig\" or \"key_ops\" without \"verify\""
            ),
        }
    }
}

impl JwksError {
    /// For an error about one key: that key's name and what is wrong with it.
    pub fn key(&self) -> Option<(KeyName, &KeyError)> {
        let (origin, kid, error) = match self {
            JwksError::Key { index, kid, error } => {
                (KeyOrigin::Jwks { index: *index }, kid.clone(), error)
            }
            JwksError::Certificate { kid, error } => {
                (KeyOrigin::Certificate, Some(kid.clone()), error)
            }
            JwksError::Pem { index, error } => (KeyOrigin::Pem { index: *index }, None, error),
            _ => return None,
        };
        Some((KeyName { origin, kid }, error))
    }
}

impl std::error::Error for JwksError {}
