//! What a provider asks of its keys beyond parsing (`min_rsa_key_bits`,
//! `honor_key_use`), applied to `local_jwks` once at configure time and to
//! every fetched key set; and the warnings about keys that load but are weak.

use std::fmt;

use super::{Jwks, JwksError, KeyError, KeyName};

/// A provider's key policies. Both are jwt-guard extensions, off by default
/// so a plain Envoy config keeps every key Envoy keeps.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyPolicy {
    /// `min_rsa_key_bits`. Default: 0 (no minimum beyond BoringSSL's). Set: a
    /// smaller RSA key in `local_jwks` is a config error, and one in a fetched
    /// set is dropped with a warning, so a weak key cannot slip into a key set
    /// unnoticed.
    pub min_rsa_key_bits: u32,
    /// `honor_key_use`. Default: false (`use`/`key_ops` are ignored, as in
    /// Envoy). True: keys published for anything but signature verification
    /// (`use` other than `sig`, `key_ops` without `verify`) are dropped, so
    /// an encryption key never verifies a token (RFC 7517 §4.2, §4.3).
    pub honor_key_use: bool,
}

impl KeyPolicy {
    /// For `local_jwks`: drops keys not meant for verification, then
    /// refuses the whole set if any RSA key is below the minimum.
    pub fn apply(self, jwks: Jwks) -> Result<Jwks, JwksError> {
        let jwks = self.drop_unused(jwks)?;
        let min = self.min_rsa_key_bits;
        for key in jwks.keys() {
            if let Some(bits) = key.rsa_modulus_bits().filter(|b| *b < min) {
                return Err(key.rejected(KeyError::RsaBelowMinimum { bits, min }));
            }
        }
        Ok(jwks)
    }

    /// For a fetched set: drops keys not meant for verification and RSA keys
    /// below the minimum, naming the latter in `skipped`; an error only when
    /// no key is left.
    pub fn apply_fetched(
        self,
        jwks: Jwks,
        skipped: &mut Vec<JwksError>,
    ) -> Result<Jwks, JwksError> {
        let jwks = self.drop_unused(jwks)?;
        let min = self.min_rsa_key_bits;
        for key in jwks.keys() {
            if let Some(bits) = key.rsa_modulus_bits().filter(|b| *b < min) {
                skipped.push(key.rejected(KeyError::RsaBelowMinimum { bits, min }));
            }
        }
        jwks.filtered(|k| k.rsa_modulus_bits().is_none_or(|b| b >= min))
    }

    fn drop_unused(self, jwks: Jwks) -> Result<Jwks, JwksError> {
        if !self.honor_key_use {
            return Ok(jwks);
        }
        jwks.filtered(|k| k.declared_for_verification())
            .map_err(|_| JwksError::NoKeyForVerification)
    }
}

/// Why a key that loads deserves an operator's look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Weakness {
    /// An RSA modulus below 2048 bits (NIST SP 800-131A).
    RsaModulus { bits: u32 },
    /// An HMAC secret shorter than its hash (RFC 7518 §3.2).
    HmacSecret {
        len: usize,
        need: usize,
        alg: &'static str,
    },
}

/// A weak key, named as parse errors name keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyWarning {
    pub key: KeyName,
    pub weakness: Weakness,
}

impl fmt::Display for KeyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.weakness {
            Weakness::RsaModulus { bits } => write!(
                f,
                "{}: RSA key has {bits} bits, below the recommended {RECOMMENDED_RSA_BITS} \
                 (min_rsa_key_bits refuses such keys)",
                self.key
            ),
            Weakness::HmacSecret { len, need, alg } => write!(
                f,
                "{}: HMAC secret has {len} bytes, shorter than the {need} {alg} needs \
                 (RFC 7518 section 3.2)",
                self.key
            ),
        }
    }
}

/// RSA moduli below this many bits get a warning.
const RECOMMENDED_RSA_BITS: u32 = 2048;

/// Keys that load but are weak. Envoy loads them silently; we load them too
/// (a pasted config must work) and say so in the log, naming each key.
/// `min_rsa_key_bits` turns the RSA warning into a refusal.
pub fn weak_keys(jwks: &Jwks) -> Vec<KeyWarning> {
    let mut out = Vec::new();
    for key in jwks.keys() {
        if let Some(bits) = key.rsa_modulus_bits().filter(|b| *b < RECOMMENDED_RSA_BITS) {
            out.push(KeyWarning {
                key: key.name(),
                weakness: Weakness::RsaModulus { bits },
            });
        }
        if let Some(len) = key.hmac_secret_len() {
            let (alg, need) = match key.alg() {
                Some("HS384") => ("HS384", 48),
                Some("HS512") => ("HS512", 64),
                _ => ("HS256", 32),
            };
            if len < need {
                out.push(KeyWarning {
                    key: key.name(),
                    weakness: Weakness::HmacSecret { len, need, alg },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{EC256_JWK, RSA1024_E3_JWK, RSA_JWK};
    use super::*;

    fn set() -> Jwks {
        let small = RSA1024_E3_JWK.replacen('{', r#"{"kid": "small", "#, 1);
        crate::jwks::parse(&format!(r#"{{"keys":[{small},{RSA_JWK},{EC256_JWK}]}}"#)).unwrap()
    }

    const MIN_2048: KeyPolicy = KeyPolicy {
        min_rsa_key_bits: 2048,
        honor_key_use: false,
    };

    #[test]
    fn local_keys_below_the_minimum_refuse_the_set() {
        assert_eq!(
            MIN_2048.apply(set()).unwrap_err().to_string(),
            r#"key 0 (kid "small"): RSA key has 1024 bits, below min_rsa_key_bits 2048"#
        );
        assert_eq!(KeyPolicy::default().apply(set()).unwrap().len(), 3);
    }

    #[test]
    fn fetched_keys_below_the_minimum_are_dropped_and_named() {
        let mut skipped = Vec::new();
        let kept = MIN_2048.apply_fetched(set(), &mut skipped).unwrap();
        let kids: Vec<_> = kept.keys().iter().map(|k| k.kid()).collect();
        assert_eq!(kids, [Some("rsa1"), Some("ec256")]);
        let skipped: Vec<String> = skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            skipped,
            [r#"key 0 (kid "small"): RSA key has 1024 bits, below min_rsa_key_bits 2048"#]
        );
        let small = crate::jwks::parse(&format!(r#"{{"keys":[{RSA1024_E3_JWK}]}}"#)).unwrap();
        assert_eq!(
            MIN_2048.apply_fetched(small, &mut Vec::new()).unwrap_err(),
            JwksError::NoValidKey
        );
    }

    #[test]
    fn honor_key_use_leaving_no_key_is_an_error_either_way() {
        let enc = crate::jwks::parse(&format!(
            r#"{{"keys":[{}]}}"#,
            EC256_JWK.replacen('{', r#"{"use": "enc", "#, 1)
        ))
        .unwrap();
        let policy = KeyPolicy {
            min_rsa_key_bits: 0,
            honor_key_use: true,
        };
        assert_eq!(
            policy.apply(enc.clone()).unwrap_err(),
            JwksError::NoKeyForVerification
        );
        assert_eq!(
            policy.apply_fetched(enc, &mut Vec::new()).unwrap_err(),
            JwksError::NoKeyForVerification
        );
    }

    #[test]
    fn weak_keys_are_named_with_their_weakness() {
        let warnings: Vec<String> = weak_keys(&set()).iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                r#"key 0 (kid "small"): RSA key has 1024 bits, below the recommended 2048 (min_rsa_key_bits refuses such keys)"#
            ]
        );
    }
}
