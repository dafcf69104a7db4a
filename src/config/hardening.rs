//! jwt-guard's token hardening fields of a provider (none of them in Envoy's
//! `JwtProvider`), all off by default so a plain Envoy config means exactly
//! what it means to Envoy. Parsed here into the per-token checks
//! ([`Hardening`], applied by `authn`) and the key policies applied once to
//! `local_jwks` ([`KeyPolicy`]).

use super::json::{err, join, Obj, Result};
use crate::jwks::{Jwks, KeyError};
use crate::jws::Alg;

/// A set of JWS algorithms, one bit per [`Alg`]: a lookup per token with no
/// allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlgSet(u16);

impl AlgSet {
    fn bit(alg: Alg) -> u16 {
        // Alg has 13 fieldless variants, so every discriminant fits in a u16.
        1 << (alg as u16)
    }

    pub fn insert(&mut self, alg: Alg) {
        self.0 |= AlgSet::bit(alg);
    }

    pub fn contains(self, alg: Alg) -> bool {
        self.0 & AlgSet::bit(alg) != 0
    }
}

/// Per-token checks beyond Envoy's, run by `authn::verify_one` in the
/// contract's order (alg, typ, crit right after the issuer; required claims
/// and `auth_time` after the lifetime, before the signature).
#[derive(Clone, Debug, Default)]
pub struct Hardening {
    /// `allowed_algorithms`. Default: none (every `alg` jwt-guard implements,
    /// as in Envoy, where only the keys limit it). Set: tokens signed with any
    /// other alg are refused before a key is tried, so a key published for
    /// several algs (or without `alg`) cannot be used with an unintended one.
    pub allowed_algorithms: Option<AlgSet>,
    /// `required_typ`, lowercased and without an `application/` prefix.
    /// Default: none (`typ` is ignored). Set: the header `typ` must name this
    /// type (RFC 7515 §4.1.9 comparison), so e.g. an ID token or a logout
    /// token from the same issuer cannot pass as an `at+jwt` access token
    /// (RFC 9068 §4; RFC 8725 §3.11 explicit typing).
    pub required_typ: Option<String>,
    /// `reject_unknown_crit`. Default: false (`crit` is ignored, as Envoy
    /// ignores it). True: a header with `crit` is refused, as RFC 7515 §4.1.11
    /// requires of a recipient that understands no extension.
    pub reject_unknown_crit: bool,
    /// `required_claims`: dotted claim paths. Default: empty (nothing
    /// required beyond Envoy's checks). Set: each must be present and not
    /// null, so a token minted without e.g. `jti` or a tenant id is refused
    /// here rather than misread downstream.
    pub required_claims: Vec<String>,
    /// `max_auth_age`, in nanoseconds. Default: none (`auth_time` is
    /// ignored). Set: `auth_time` must be a number and the end-user
    /// authentication no older than this (plus the clock skew), so a
    /// long-refreshed session cannot reach routes that need a recent login
    /// (OIDC `max_age`).
    pub max_auth_age: Option<i128>,
}

/// Key policies applied once, at configure time, to the provider's keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyPolicy {
    /// `min_rsa_key_bits`. Default: 0 (no minimum beyond BoringSSL's). Set: a
    /// smaller RSA key in `local_jwks` is a config error, so a weak key
    /// cannot slip into a key set unnoticed.
    pub min_rsa_key_bits: u32,
    /// `honor_key_use`. Default: false (`use`/`key_ops` are ignored, as in
    /// Envoy). True: keys published for anything but signature verification
    /// (`use` other than `sig`, `key_ops` without `verify`) are dropped, so
    /// an encryption key never verifies a token (RFC 7517 §4.2, §4.3).
    pub honor_key_use: bool,
}

/// Largest RSA modulus any key can have (BoringSSL's limit).
const MAX_RSA_BITS: u64 = 16384;
const APPLICATION: &str = "application/";

/// A media type without its optional `application/` prefix (any case),
/// as RFC 7515 §4.1.9 says `typ` values compare.
pub fn without_application_prefix(typ: &str) -> &str {
    match (typ.get(..APPLICATION.len()), typ.get(APPLICATION.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(APPLICATION) => rest,
        _ => typ,
    }
}

fn allowed_algorithms(o: &mut Obj<'_>) -> Result<Option<AlgSet>> {
    const FIELD: &str = "allowed_algorithms";
    if !o.has(FIELD) {
        return Ok(None);
    }
    let path = join(&o.path, FIELD);
    let names = o.strings(FIELD)?;
    if names.is_empty() {
        return err(&path, "must not be empty (it would refuse every token)");
    }
    let mut set = AlgSet::default();
    for (i, name) in names.iter().enumerate() {
        let Some(alg) = Alg::from_name(name) else {
            let known: Vec<&str> = Alg::ALL.iter().map(|a| a.name()).collect();
            return err(
                &format!("{path}[{i}]"),
                format!(
                    "unknown algorithm \"{name}\" (expected one of {})",
                    known.join(", ")
                ),
            );
        };
        set.insert(alg);
    }
    Ok(Some(set))
}

fn required_typ(o: &mut Obj<'_>) -> Result<Option<String>> {
    let Some(typ) = o.string("required_typ")? else {
        return Ok(None);
    };
    let normalized = without_application_prefix(&typ).to_ascii_lowercase();
    if normalized.is_empty() {
        return err(
            &join(&o.path, "required_typ"),
            "must name a media type such as \"at+jwt\"",
        );
    }
    Ok(Some(normalized))
}

fn required_claims(o: &mut Obj<'_>) -> Result<Vec<String>> {
    let path = join(&o.path, "required_claims");
    let claims = o.strings("required_claims")?;
    for (i, claim) in claims.iter().enumerate() {
        // An empty segment ("a..b", ".a") names no claim a token can have.
        if claim.split('.').any(str::is_empty) {
            return err(
                &format!("{path}[{i}]"),
                format!("\"{claim}\" is not a dotted claim path such as \"org.id\""),
            );
        }
    }
    Ok(claims)
}

/// Reads the hardening fields of the provider object `o`.
pub(super) fn parse(o: &mut Obj<'_>) -> Result<(Hardening, KeyPolicy)> {
    let allowed_algorithms = allowed_algorithms(o)?;
    let required_typ = required_typ(o)?;
    let reject_unknown_crit = o.bool("reject_unknown_crit")?;
    let required_claims = required_claims(o)?;
    let max_auth_age = match o.duration("max_auth_age")? {
        Some(n) if n < 0 => return err(&join(&o.path, "max_auth_age"), "must not be negative"),
        other => other,
    };
    let min_rsa_key_bits = o
        .u64("min_rsa_key_bits", MAX_RSA_BITS)?
        .and_then(|b| u32::try_from(b).ok())
        .unwrap_or(0);
    let honor_key_use = o.bool("honor_key_use")?;
    Ok((
        Hardening {
            allowed_algorithms,
            required_typ,
            reject_unknown_crit,
            required_claims,
            max_auth_age,
        },
        KeyPolicy {
            min_rsa_key_bits,
            honor_key_use,
        },
    ))
}

impl KeyPolicy {
    /// Drops keys not meant for verification, then refuses small RSA keys.
    /// Also applied by the glue to every fetched remote key set.
    pub fn apply(self, jwks: Jwks) -> std::result::Result<Jwks, String> {
        let jwks = if self.honor_key_use {
            jwks.filtered(|k| k.declared_for_verification()).map_err(|_| {
                "no key is left under honor_key_use: every key has \"use\" other than \"sig\" or \"key_ops\" without \"verify\"".to_owned()
            })?
        } else {
            jwks
        };
        let min = self.min_rsa_key_bits;
        for key in jwks.keys() {
            if let Some(bits) = key.rsa_modulus_bits().filter(|b| *b < min) {
                return Err(key
                    .rejected(KeyError::RsaBelowMinimum { bits, min })
                    .to_string());
            }
        }
        Ok(jwks)
    }
}

/// RSA moduli below this many bits get a warning (NIST SP 800-131A).
const RECOMMENDED_RSA_BITS: u32 = 2048;

/// Keys that load but are weak: RSA moduli under 2048 bits, HMAC secrets
/// shorter than their hash (RFC 7518 §3.2). Envoy loads them silently; we
/// load them too (a pasted config must work) and say so in the log, naming
/// each key. `min_rsa_key_bits` turns the RSA warning into a refusal.
pub fn weak_key_warnings(jwks: &Jwks) -> Vec<String> {
    let mut out = Vec::new();
    for key in jwks.keys() {
        if let Some(bits) = key.rsa_modulus_bits().filter(|b| *b < RECOMMENDED_RSA_BITS) {
            let why = format!(
                "RSA key has {bits} bits, below the recommended {RECOMMENDED_RSA_BITS} \
                 (min_rsa_key_bits refuses such keys)"
            );
            out.push(key.rejected(KeyError::Weak(why)).to_string());
        }
        if let Some(len) = key.hmac_secret_len() {
            let (alg, need) = match key.alg() {
                Some("HS384") => ("HS384", 48),
                Some("HS512") => ("HS512", 64),
                _ => ("HS256", 32),
            };
            if len < need {
                let why = format!(
                    "HMAC secret has {len} bytes, shorter than the {need} {alg} needs \
                     (RFC 7518 section 3.2)"
                );
                out.push(key.rejected(KeyError::Weak(why)).to_string());
            }
        }
    }
    out
}

/// Applies `policy` to the keys read from `path` (the `local_jwks` field).
pub(super) fn apply_key_policy(policy: KeyPolicy, jwks: Jwks, path: &str) -> Result<Jwks> {
    policy.apply(jwks).or_else(|e| err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg_set_holds_exactly_what_was_inserted() {
        let mut set = AlgSet::default();
        set.insert(Alg::RS256);
        set.insert(Alg::HS512);
        for alg in Alg::ALL {
            assert_eq!(
                set.contains(alg),
                matches!(alg, Alg::RS256 | Alg::HS512),
                "{alg}"
            );
        }
    }

    #[test]
    fn application_prefix_is_optional_and_case_insensitive() {
        assert_eq!(without_application_prefix("application/at+jwt"), "at+jwt");
        assert_eq!(without_application_prefix("Application/JWT"), "JWT");
        assert_eq!(without_application_prefix("at+jwt"), "at+jwt");
        assert_eq!(without_application_prefix("text/at+jwt"), "text/at+jwt");
        assert_eq!(without_application_prefix("applicatio"), "applicatio");
        // A multi-byte character across the prefix boundary is no prefix.
        assert_eq!(without_application_prefix("applicatioé"), "applicatioé");
    }
}
