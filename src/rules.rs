//! The compiled policy (providers and rules) and how a request is decided:
//! the first rule whose match fits runs its requirement tree, following
//! Envoy's verifier (groups run their children in order, `requires_all`
//! stops at the first failure, `requires_any` at the first success), then
//! its `authorize` conditions.

use crate::authn::{self, Audiences, Clock, Mode, Providers, Runtime, Verified};
use crate::authz::{Authorize, Failure, Refusal};
use crate::error::Status;
use crate::extract::Extractor;
use crate::matcher::RouteMatcher;
use crate::request::Headers;

/// One entry of `rules`: the first whose `match` matches decides.
#[derive(Debug)]
pub struct Rule {
    pub matcher: RouteMatcher,
    pub verifier: Verifier,
    /// jwt-guard extension: claim conditions checked once `verifier` passed.
    pub authorize: Option<Authorize>,
}

/// A whole configuration, compiled (by `config`) for the request path.
#[derive(Debug)]
pub struct Policy {
    pub providers: Providers,
    pub rules: Vec<Rule>,
    pub bypass_cors_preflight: bool,
    /// jwt-guard extension: RFC 9457 `application/problem+json` denial bodies.
    pub problem_details: bool,
    /// jwt-guard extension `token_cache.max_entries`: verified-token cache
    /// size per worker (default 1000, 0 = off). See `crate::cache`.
    pub token_cache_entries: usize,
    /// Every header any provider sets: Envoy strips them from each request,
    /// whatever rule applies, so a client can never inject one.
    pub sanitize: Vec<String>,
}

/// A compiled `JwtRequirement`.
#[derive(Clone, Debug)]
pub enum Verifier {
    /// `provider_name` / `provider_and_audiences`.
    Provider {
        provider: usize,
        audiences: Option<Audiences>,
        extractor: Extractor,
    },
    /// `allow_missing`: no token passes, a bad token fails.
    AllowMissing { extractor: Extractor },
    /// `allow_missing_or_failed`: always passes; good tokens still take effect.
    AllowFailed { extractor: Extractor },
    /// `requires_any`, with its `allow_missing*` members folded into flags.
    Any {
        children: Vec<Verifier>,
        allow_missing: bool,
        allow_missing_or_failed: bool,
    },
    /// `requires_all`.
    All(Vec<Verifier>),
    /// A rule or requirement that requires nothing.
    AllowAll,
}

/// Envoy's choice of the error to report when every `requires_any` child
/// failed: anything but "missing" or "unknown issuer" wins; between those
/// two, "unknown issuer" wins.
fn any_error(statuses: &[Status]) -> Status {
    let mut out = Status::JwtMissed;
    for &s in statuses {
        if (s != Status::JwtMissed && s != Status::JwtUnknownIssuer) || out == Status::JwtMissed {
            out = s;
        }
    }
    out
}

impl Verifier {
    /// Evaluates this node against the request, changing its headers as
    /// verified tokens require.
    /// Tokens that verified are appended to `verified` (only by leaves that
    /// passed, so a failed branch contributes nothing).
    pub fn verify(
        &self,
        providers: &Providers,
        headers: &mut Headers,
        clock: &dyn Clock,
        keys: &dyn Runtime,
        verified: &mut Vec<Verified>,
    ) -> Result<(), Status> {
        match self {
            Verifier::AllowAll => Ok(()),
            Verifier::Provider {
                provider,
                audiences,
                extractor,
            } => {
                let Some(provider) = providers.get(*provider) else {
                    return Err(Status::JwtUnknownIssuer);
                };
                let mode = Mode::Provider {
                    provider,
                    audiences: audiences.as_ref(),
                };
                authn::authenticate(providers, extractor, mode, headers, clock, keys, verified)
            }
            Verifier::AllowMissing { extractor } | Verifier::AllowFailed { extractor } => {
                let allow_failed = matches!(self, Verifier::AllowFailed { .. });
                let mode = Mode::ByIssuer { allow_failed };
                authn::authenticate(providers, extractor, mode, headers, clock, keys, verified)
            }
            Verifier::All(children) => {
                for c in children {
                    c.verify(providers, headers, clock, keys, verified)?;
                }
                Ok(())
            }
            Verifier::Any {
                children,
                allow_missing,
                allow_missing_or_failed,
            } => {
                let mut statuses = Vec::with_capacity(children.len());
                for c in children {
                    match c.verify(providers, headers, clock, keys, verified) {
                        Ok(()) => return Ok(()),
                        Err(s) => statuses.push(s),
                    }
                }
                // Undecided until the keys arrive, whatever the others said.
                if statuses.contains(&Status::JwksPending) {
                    return Err(Status::JwksPending);
                }
                let status = any_error(&statuses);
                if *allow_missing_or_failed || (*allow_missing && status == Status::JwtMissed) {
                    Ok(())
                } else {
                    Err(status)
                }
            }
        }
    }
}

/// A CORS preflight: OPTIONS with non-empty `origin` and
/// `access-control-request-method`. It carries no credentials by design.
fn is_cors_preflight(headers: &Headers) -> bool {
    headers.get(":method") == Some("OPTIONS")
        && headers.get("origin").is_some_and(|v| !v.is_empty())
        && headers
            .get("access-control-request-method")
            .is_some_and(|v| !v.is_empty())
}

/// Why a request is refused.
#[derive(Clone, Copy, Debug)]
pub enum Denied<'c> {
    /// No valid token: Envoy's 401 (or 403 for audiences).
    Authn(Status),
    /// A valid token that does not meet the rule's `authorize`: 403.
    Authz(Failure<'c>),
    /// A request that does not meet an `authorize` read the Istio way
    /// (`authz::Reads::Request`): Istio's 403 `RBAC: access denied`.
    Rbac,
}

/// The filter's decision for a request: the first rule whose match fits
/// decides; no matching rule means nothing is required.
/// `Denied::Authn(Status::JwksPending)` means: wait for remote keys, then
/// evaluate again from the original headers.
pub fn evaluate<'c>(
    policy: &'c Policy,
    headers: &mut Headers,
    clock: impl Clock,
    keys: &dyn Runtime,
) -> Result<(), Denied<'c>> {
    for h in &policy.sanitize {
        headers.remove(h);
    }
    if policy.bypass_cors_preflight && is_cors_preflight(headers) {
        return Ok(());
    }
    let Some(rule) = policy.rules.iter().find(|r| r.matcher.matches(headers)) else {
        return Ok(());
    };
    let mut verified = Vec::new();
    rule.verifier
        .verify(&policy.providers, headers, &clock, keys, &mut verified)
        .map_err(Denied::Authn)?;
    match &rule.authorize {
        None => Ok(()),
        Some(a) => a.check(&verified, headers).map_err(|r| match r {
            // Authorization needs a token: without one it is a missing token.
            Refusal::NoToken => Denied::Authn(Status::JwtMissed),
            Refusal::Failed(f) => Denied::Authz(f),
            Refusal::Rbac => Denied::Rbac,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_prefers_real_errors_over_missing_and_unknown_issuer() {
        use Status::*;
        assert_eq!(any_error(&[JwtMissed, JwtExpired]), JwtExpired);
        assert_eq!(any_error(&[JwtExpired, JwtMissed]), JwtExpired);
        assert_eq!(any_error(&[JwtMissed, JwtUnknownIssuer]), JwtUnknownIssuer);
        assert_eq!(any_error(&[JwtUnknownIssuer, JwtMissed]), JwtUnknownIssuer);
        assert_eq!(
            any_error(&[JwtExpired, JwtVerificationFail]),
            JwtVerificationFail
        );
        assert_eq!(any_error(&[JwtMissed, JwtMissed]), JwtMissed);
    }
}

#[cfg(test)]
mod decision_tests;
