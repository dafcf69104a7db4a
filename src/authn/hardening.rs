//! jwt-guard's per-token checks beyond Envoy's (a provider's hardening
//! fields, none of them in Envoy's `JwtProvider`), all off by default so a
//! plain Envoy config means exactly what it means to Envoy. `authn` runs
//! them in the contract's order: alg, `typ` and `crit` right after the
//! issuer; required claims and `auth_time` after the lifetime.

use crate::claims;
use crate::error::Status;
use crate::jws::Alg;
use crate::jwt::Jwt;

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

const APPLICATION: &str = "application/";

/// A media type without its optional `application/` prefix (any case),
/// as RFC 7515 §4.1.9 says `typ` values compare.
pub fn without_application_prefix(typ: &str) -> &str {
    match (typ.get(..APPLICATION.len()), typ.get(APPLICATION.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(APPLICATION) => rest,
        _ => typ,
    }
}

/// Hardening of the header, checked right after the issuer: nothing else
/// about a token with a forbidden alg, type or extension is worth reporting.
pub(super) fn check_header(h: &Hardening, jwt: &Jwt) -> Result<(), Status> {
    if h.allowed_algorithms
        .is_some_and(|set| !set.contains(jwt.alg))
    {
        return Err(Status::JwtHeaderAlgNotAllowed);
    }
    if let Some(required) = &h.required_typ {
        let ok = jwt
            .typ()
            .is_some_and(|t| without_application_prefix(t).eq_ignore_ascii_case(required));
        if !ok {
            return Err(Status::JwtHeaderTypNotRequired);
        }
    }
    if h.reject_unknown_crit && jwt.has_crit() {
        return Err(Status::JwtHeaderCritUnsupported);
    }
    Ok(())
}

/// Whether `auth_time` (seconds, any JSON number) is within `max_age`
/// nanoseconds plus `skew` seconds of `now`; `None` if it is not a number.
/// Whole nanoseconds in i128 keep fractional durations exact and cannot
/// overflow for any u64/i64 time.
fn auth_time_fresh(
    auth_time: &serde_json::Value,
    max_age: i128,
    skew: u64,
    now: u64,
) -> Option<bool> {
    const NANOS: i128 = 1_000_000_000;
    let n = auth_time.as_number()?;
    let at = match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i128::from(i).saturating_mul(NANOS),
        (None, Some(u)) => i128::from(u).saturating_mul(NANOS),
        // A fraction: a saturating float conversion is exact to well under
        // a second for any plausible time.
        _ => (n.as_f64()? * 1e9) as i128,
    };
    let deadline = at
        .saturating_add(max_age)
        .saturating_add(i128::from(skew).saturating_mul(NANOS));
    Some(i128::from(now).saturating_mul(NANOS) <= deadline)
}

/// Hardening of the claims, checked after the lifetime and before any key.
pub(super) fn check_claims(
    h: &Hardening,
    payload: &claims::Object,
    now: u64,
    skew: u64,
) -> Result<(), Status> {
    for path in &h.required_claims {
        match claims::get_path(payload, path) {
            claims::Lookup::Found(v) if !v.is_null() => {}
            _ => return Err(Status::JwtPayloadRequiredClaimMissing),
        }
    }
    if let Some(max_age) = h.max_auth_age {
        let fresh = payload
            .get("auth_time")
            .and_then(|t| auth_time_fresh(t, max_age, skew, now))
            .ok_or(Status::JwtPayloadAuthTimeMissing)?;
        if !fresh {
            return Err(Status::JwtAuthTimeTooOld);
        }
    }
    Ok(())
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
