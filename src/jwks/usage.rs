//! What a key declares it is for (RFC 7517 §4.2 `use`, §4.3 `key_ops`) and
//! where it came from. Envoy ignores both members, and so does verification by
//! default; a provider's `honor_key_use` uses them to drop keys at configure
//! time, and configure-time key policies name a key by its origin.

use serde_json::Value;
use std::fmt;

use super::{JwksError, KeyError};

/// A JWK's `use` member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// No `use` member (PEM keys and certificates never have one).
    Unstated,
    /// `"use": "sig"`.
    Sig,
    /// Anything else: `"enc"`, an unknown value, or not a string (which can
    /// only be a mistake, so it counts as "not for signatures").
    Other,
}

impl KeyUse {
    pub(super) fn from_member(v: Option<&Value>) -> KeyUse {
        match v {
            None => KeyUse::Unstated,
            Some(Value::String(s)) if s == "sig" => KeyUse::Sig,
            Some(_) => KeyUse::Other,
        }
    }
}

/// A JWK's `key_ops` member, reduced to what matters for verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOps {
    /// No `key_ops` member.
    Unstated,
    /// A list of strings holding `"verify"`.
    Verify,
    /// A list without `"verify"`, or a member that is not a list of strings
    /// (malformed counts as "not for verification", failing closed).
    NoVerify,
}

impl KeyOps {
    pub(super) fn from_member(v: Option<&Value>) -> KeyOps {
        match v {
            None => KeyOps::Unstated,
            Some(Value::Array(ops)) if ops.iter().all(Value::is_string) => {
                if ops.iter().any(|op| op == "verify") {
                    KeyOps::Verify
                } else {
                    KeyOps::NoVerify
                }
            }
            Some(_) => KeyOps::NoVerify,
        }
    }
}

/// Where a key was read from, to name it in configure-time errors exactly as
/// parse errors name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `keys[index]` of a JWKS document.
    Jwks { index: usize },
    /// A value of Google's kid → X.509 certificate map (the kid is the key's).
    Certificate,
    /// The index-th PEM block.
    Pem { index: usize },
}

/// A key as errors and warnings name it: `key 0 (kid "k")`, `X.509
/// certificate for kid "c"`, `PEM block 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyName {
    pub origin: KeyOrigin,
    pub kid: Option<String>,
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.origin, &self.kid) {
            (KeyOrigin::Jwks { index }, Some(kid)) => write!(f, "key {index} (kid \"{kid}\")"),
            (KeyOrigin::Jwks { index }, None) => write!(f, "key {index}"),
            (KeyOrigin::Certificate, kid) => write!(
                f,
                "X.509 certificate for kid \"{}\"",
                kid.as_deref().unwrap_or_default()
            ),
            (KeyOrigin::Pem { index }, _) => write!(f, "PEM block {index}"),
        }
    }
}

/// The error a key policy reports for `kid` from `origin`, worded like a
/// parse error for the same key.
pub(super) fn rejected(origin: KeyOrigin, kid: Option<&str>, error: KeyError) -> JwksError {
    match origin {
        KeyOrigin::Jwks { index } => JwksError::Key {
            index,
            kid: kid.map(str::to_owned),
            error,
        },
        KeyOrigin::Certificate => JwksError::Certificate {
            kid: kid.unwrap_or_default().to_owned(),
            error,
        },
        KeyOrigin::Pem { index } => JwksError::Pem { index, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn use_is_sig_only_for_the_exact_string() {
        assert_eq!(KeyUse::from_member(None), KeyUse::Unstated);
        assert_eq!(KeyUse::from_member(Some(&json!("sig"))), KeyUse::Sig);
        for other in [json!("enc"), json!("SIG"), json!(null), json!(["sig"])] {
            assert_eq!(KeyUse::from_member(Some(&other)), KeyUse::Other, "{other}");
        }
    }

    #[test]
    fn key_ops_allow_verification_only_as_a_list_of_strings_with_verify() {
        assert_eq!(KeyOps::from_member(None), KeyOps::Unstated);
        assert_eq!(
            KeyOps::from_member(Some(&json!(["sign", "verify"]))),
            KeyOps::Verify
        );
        for other in [
            json!([]),
            json!(["sign"]),
            json!(["verify", 1]),
            json!("verify"),
        ] {
            assert_eq!(
                KeyOps::from_member(Some(&other)),
                KeyOps::NoVerify,
                "{other}"
            );
        }
    }

    #[test]
    fn rejection_names_the_key_as_parse_errors_do() {
        let e = KeyError::RsaBelowMinimum {
            bits: 1024,
            min: 2048,
        };
        assert_eq!(
            rejected(KeyOrigin::Jwks { index: 0 }, Some("k"), e.clone()).to_string(),
            r#"key 0 (kid "k"): RSA key has 1024 bits, below min_rsa_key_bits 2048"#
        );
        assert_eq!(
            rejected(KeyOrigin::Certificate, Some("c"), e.clone()).to_string(),
            r#"X.509 certificate for kid "c": RSA key has 1024 bits, below min_rsa_key_bits 2048"#
        );
        assert_eq!(
            rejected(KeyOrigin::Pem { index: 1 }, None, e).to_string(),
            "PEM block 1: RSA key has 1024 bits, below min_rsa_key_bits 2048"
        );
    }
}
