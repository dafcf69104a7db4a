//! The claim checks a JWT and an introspection answer share, in Envoy's
//! order after the issuer: time with the skew, audience, subject, lifetime,
//! then the provider's claim hardening; each passed check is reported.

use super::{hardening, Audiences, MaxLifetime, Provider, Runtime, Stop};
use crate::claims::Object;
use crate::error::Status;
use crate::jwt;
use crate::trace::{Check, Event};

/// The registered claims the checks read.
pub(super) struct Claimed<'a> {
    pub nbf: u64,
    pub exp: u64,
    pub sub: &'a str,
    pub audiences: &'a [String],
    /// The whole claim set, for the hardening's required claims.
    pub claims: &'a Object,
}

pub(super) fn lifetime_ok(max: Option<MaxLifetime>, exp: u64, now: u64) -> bool {
    match max {
        None => true,
        Some(_) if exp == 0 => false,
        Some(MaxLifetime::Unbounded) => true,
        Some(MaxLifetime::Nanos(max)) => {
            let left = i128::from(exp)
                .saturating_sub(i128::from(now))
                .saturating_mul(1_000_000_000);
            left < max
        }
    }
}

/// Checks `c` at `now` (seconds) for `provider`, with the requirement's
/// own `audiences` if it has them.
pub(super) fn check(
    provider: &Provider,
    audiences: Option<&Audiences>,
    c: &Claimed<'_>,
    now: u64,
    keys: &dyn Runtime,
) -> Result<(), Stop> {
    let skew = provider.clock_skew;
    jwt::check_time(c.nbf, c.exp, now, skew)?;
    keys.observe(&Event::Passed(Check::Time { now, skew }));
    if !audiences.unwrap_or(&provider.audiences).allows(c.audiences) {
        return Err(Status::JwtAudienceNotAllowed.into());
    }
    keys.observe(&Event::Passed(Check::Audience));
    if let Some(subjects) = &provider.subjects {
        if !subjects.matches(c.sub) {
            return Err(Status::JwtSubjectNotAllowed.into());
        }
        keys.observe(&Event::Passed(Check::Subject));
    }
    if !lifetime_ok(provider.max_lifetime, c.exp, now) {
        return Err(Status::JwtLifetimeTooLong.into());
    }
    if provider.max_lifetime.is_some() {
        keys.observe(&Event::Passed(Check::Lifetime));
    }
    hardening::check_claims(&provider.hardening, c.claims, now, skew)?;
    keys.observe(&Event::Passed(Check::Claims));
    Ok(())
}
