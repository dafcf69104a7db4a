//! JSON → jwt-guard's token hardening fields of a provider (none of them in
//! Envoy's `JwtProvider`, all off by default): the per-token checks
//! ([`Hardening`], run by `authn`) and the key policies ([`KeyPolicy`],
//! applied by `jwks` to local and fetched keys).

use super::json::{err, join, Obj, Result};
use crate::authn::hardening::{without_application_prefix, AlgSet, Hardening};
use crate::jwks::{Jwks, KeyPolicy};
use crate::jws::Alg;

/// Largest RSA modulus any key can have (BoringSSL's limit).
const MAX_RSA_BITS: u64 = 16384;

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

/// Applies `policy` to the keys read from `path` (the `local_jwks` field).
pub(super) fn apply_key_policy(policy: KeyPolicy, jwks: Jwks, path: &str) -> Result<Jwks> {
    policy.apply(jwks).or_else(|e| err(path, e.to_string()))
}
