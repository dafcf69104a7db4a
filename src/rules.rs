//! The compiled policy (providers and rules) and how a request is decided:
//! the first rule whose match fits runs its requirement tree, following
//! Envoy's verifier (groups run their children in order, `requires_all`
//! stops at the first failure, `requires_any` at the first success), then
//! its `authorize` conditions.

use crate::authn::{self, Audiences, Callout, Clock, Found, Mode, Providers, Runtime, Stop};
use crate::authz::{Authorize, Failure, Refusal};
use crate::dpop::settings::Offer;
use crate::error::{Fault, Status};
use crate::extract::Extractor;
use crate::matcher::RouteMatcher;
use crate::outcome::Reason;
use crate::request::Headers;
use crate::trace::{Decided, Event};

/// One entry of `rules`: the first whose `match` matches decides.
#[derive(Debug)]
pub struct Rule {
    pub matcher: RouteMatcher,
    pub verifier: Verifier,
    /// jwt-guard extension: claim conditions checked once `verifier` passed.
    pub authorize: Option<Authorize>,
    /// The DPoP challenge, when one of the rule's providers takes DPoP.
    pub offer: Option<Offer>,
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
    /// `stat_prefix`: prefixes the module's metric names (`crate::metrics`).
    pub stat_prefix: String,
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
/// two, "unknown issuer" wins. Introspection (which Envoy lacks) adds two
/// rules, whatever the order of the branches: an endpoint that could not
/// answer wins (the token may be good: a 503, not a 401), and what the
/// endpoint said of a token beats a JWT provider finding it not a JWT.
fn any_error(statuses: &[Status]) -> Status {
    let mut out = Status::JwtMissed;
    for &s in statuses {
        if (s != Status::JwtMissed && s != Status::JwtUnknownIssuer) || out == Status::JwtMissed {
            out = s;
        }
    }
    if statuses.contains(&Status::IntrospectionUnavailable) {
        return Status::IntrospectionUnavailable;
    }
    let said = [Status::TokenInactive, Status::TokenNotAccessToken];
    match statuses.iter().rev().find(|s| said.contains(s)) {
        Some(s) if out == Status::JwtBadFormat => *s,
        _ => out,
    }
}

/// One evaluation's inputs and what it gathers on the way: the tokens that
/// verified (for `authorize`) and failed (whom a denial is about), and the
/// callouts some branch waits for.
struct Run<'a> {
    providers: &'a Providers,
    clock: &'a dyn Clock,
    keys: &'a dyn Runtime,
    found: Found,
    /// Callouts waited for by `requires_any` branches that did not decide.
    waits: Vec<Callout>,
}

impl Verifier {
    /// Evaluates this node against the request, changing its headers as
    /// verified tokens require, and reports it. Tokens that verified are
    /// added to `run.found` (only by leaves that passed, so a failed branch
    /// contributes nothing).
    fn verify(&self, run: &mut Run<'_>, headers: &mut Headers) -> Result<(), Stop> {
        run.keys.observe(&Event::Enter(self));
        let result = self.verify_node(run, headers);
        let reported = match result {
            Ok(()) => Some(Ok(())),
            Err(Stop::Fail(status)) => Some(Err(status)),
            Err(Stop::Wait(_) | Stop::NoClock) => None,
        };
        run.keys.observe(&Event::Leave(self, reported));
        result
    }

    fn verify_node(&self, run: &mut Run<'_>, headers: &mut Headers) -> Result<(), Stop> {
        let (providers, clock, keys) = (run.providers, run.clock, run.keys);
        match self {
            Verifier::AllowAll => Ok(()),
            Verifier::Provider {
                provider,
                audiences,
                extractor,
            } => {
                let Some(provider) = providers.get(*provider) else {
                    return Err(Status::JwtUnknownIssuer.into());
                };
                let mode = Mode::Provider {
                    provider,
                    audiences: audiences.as_ref(),
                };
                let found = &mut run.found;
                authn::authenticate(providers, extractor, mode, headers, clock, keys, found)
            }
            Verifier::AllowMissing { extractor } | Verifier::AllowFailed { extractor } => {
                let allow_failed = matches!(self, Verifier::AllowFailed { .. });
                let mode = Mode::ByIssuer { allow_failed };
                let found = &mut run.found;
                authn::authenticate(providers, extractor, mode, headers, clock, keys, found)
            }
            Verifier::All(children) => {
                for c in children {
                    c.verify(run, headers)?;
                }
                Ok(())
            }
            Verifier::Any {
                children,
                allow_missing,
                allow_missing_or_failed,
            } => {
                let mark = run.waits.len();
                let mut statuses = Vec::with_capacity(children.len());
                let mut waiting = None;
                for c in children {
                    match c.verify(run, headers) {
                        Ok(()) => {
                            run.waits.truncate(mark);
                            return Ok(());
                        }
                        Err(Stop::Fail(s)) => statuses.push(s),
                        Err(Stop::Wait(callout)) => {
                            run.waits.extend(waiting.replace(callout));
                        }
                        Err(Stop::NoClock) => return Err(Stop::NoClock),
                    }
                }
                // Undecided until the callouts end, whatever the others said.
                if let Some(callout) = waiting {
                    return Err(Stop::Wait(callout));
                }
                let status = any_error(&statuses);
                if *allow_missing_or_failed || (*allow_missing && status == Status::JwtMissed) {
                    Ok(())
                } else {
                    Err(status.into())
                }
            }
        }
    }

    /// Adds the providers this node may verify tokens with to `out`
    /// (every provider, for a node that picks them by issuer).
    fn providers(&self, all: usize, out: &mut Vec<usize>) {
        let mut add = |i: usize| {
            if !out.contains(&i) {
                out.push(i);
            }
        };
        match self {
            Verifier::Provider { provider, .. } => add(*provider),
            Verifier::AllowMissing { .. } | Verifier::AllowFailed { .. } => (0..all).for_each(add),
            Verifier::Any { children, .. } | Verifier::All(children) => {
                for c in children {
                    c.providers(all, out);
                }
            }
            Verifier::AllowAll => {}
        }
    }
}

/// The DPoP challenge of a rule with `verifier` (see [`Offer`]).
pub fn offer(verifier: &Verifier, providers: &[crate::authn::Provider]) -> Option<Offer> {
    let mut used = Vec::new();
    verifier.providers(providers.len(), &mut used);
    Offer::new(
        used.iter()
            .filter_map(|&i| providers.get(i))
            .map(|p| p.dpop.as_deref()),
    )
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

/// What the filter does with a request.
#[derive(Clone, Debug)]
pub enum Decision<'p> {
    /// Let it through, with the header changes evaluation made.
    Allow,
    /// Answer it: `response::reply` turns the reason into the reply.
    Deny(Denial<'p>),
    /// Pause it until these callouts end, then evaluate it again from the
    /// headers as they arrived.
    Wait(Vec<Callout>),
}

/// Why a request is refused.
#[derive(Clone, Debug)]
pub enum Denial<'p> {
    /// No valid token: Envoy's 401 (or 403 for audiences).
    Authn(Status),
    /// No valid token, in a rule that takes DPoP: the reply challenges
    /// with `offer`, puts the error on the scheme the request `used_dpop`
    /// or not, and carries a `nonce` when the proof needs one.
    Dpop {
        status: Status,
        offer: &'p Offer,
        used_dpop: bool,
        nonce: Option<String>,
    },
    /// A valid token that does not meet the rule's `authorize`: 403; in a
    /// rule that takes DPoP, its offer and whether the request used DPoP.
    Authz(Failure<'p>, Option<(&'p Offer, bool)>),
    /// A request that does not meet an `authorize` read the Istio way
    /// (`authz::Reads::Request`): Istio's 403 `RBAC: access denied`.
    Rbac,
    /// The module's own failure (500/503): closed on doubt.
    Fault(Fault),
}

/// The filter's decision for a request: the first rule whose match fits
/// decides; no matching rule means nothing is required. Every step, and
/// the decision unless the request waits, is reported to `keys`
/// ([`Runtime::observe`]).
pub fn evaluate<'p>(
    policy: &'p Policy,
    headers: &mut Headers,
    clock: impl Clock,
    keys: &dyn Runtime,
) -> Decision<'p> {
    for h in &policy.sanitize {
        headers.remove(h);
    }
    if policy.bypass_cors_preflight && is_cors_preflight(headers) {
        keys.observe(&Event::CorsPreflight);
        report(keys, None, true, &Decision::Allow, &Found::default());
        return Decision::Allow;
    }
    let Some(index) = policy.rules.iter().position(|r| r.matcher.matches(headers)) else {
        keys.observe(&Event::Rule(None));
        report(keys, None, false, &Decision::Allow, &Found::default());
        return Decision::Allow;
    };
    keys.observe(&Event::Rule(Some(index)));
    let Some(rule) = policy.rules.get(index) else {
        return Decision::Allow;
    };
    let mut run = Run {
        providers: &policy.providers,
        clock: &clock,
        keys,
        found: Found::default(),
        waits: Vec::new(),
    };
    let decision = decide(rule, &mut run, headers, &clock, keys);
    report(keys, Some(index), false, &decision, &run.found);
    decision
}

/// Reports a decided request ([`Event::Decided`]): whom it is about.
fn report(
    keys: &dyn Runtime,
    rule: Option<usize>,
    cors_preflight: bool,
    decision: &Decision<'_>,
    found: &Found,
) {
    let denied = match decision {
        Decision::Allow => None,
        Decision::Deny(denial) => Some(denial),
        Decision::Wait(_) => return,
    };
    let verified = &found.verified[..];
    let (provider, kid) = match denied {
        None => (None, None),
        Some(Denial::Authn(status) | Denial::Dpop { status, .. }) => match found.blame(*status) {
            Some((provider, jwt)) => (provider, jwt.and_then(|j| j.kid.as_deref())),
            // Decided after authentication (a replayed proof): about the
            // tokens that carried the proofs.
            None => verified
                .iter()
                .find(|v| v.proof.is_some())
                .map_or((None, None), |v| (Some(v.provider), kid(v))),
        },
        Some(Denial::Authz(..) | Denial::Rbac) => {
            let v = verified.iter().min_by_key(|v| v.provider);
            v.map_or((None, None), |v| (Some(v.provider), kid(v)))
        }
        Some(Denial::Fault(_)) => (None, None),
    };
    let decided = Decided {
        rule,
        cors_preflight,
        denied: denied.map(Reason::of_denial),
        provider,
        kid,
        verified,
    };
    keys.observe(&Event::Decided(&decided));
}

fn kid(v: &authn::Verified) -> Option<&str> {
    v.jwt.as_ref().and_then(|j| j.kid.as_deref())
}

/// [`evaluate`] once the rule is known.
fn decide<'p>(
    rule: &'p Rule,
    run: &mut Run<'_>,
    headers: &mut Headers,
    clock: &dyn Clock,
    keys: &dyn Runtime,
) -> Decision<'p> {
    let used_dpop = rule.offer.is_some() && crate::extract::sends_dpop(headers);
    let authn = |status: Status| match &rule.offer {
        None => Denial::Authn(status),
        Some(offer) => Denial::Dpop {
            status,
            offer,
            used_dpop,
            // Only a checked proof asks for a nonce, after the clock was
            // read: no other denial reads it.
            nonce: match (status, &offer.nonces) {
                (Status::DpopNonceRequired, Some(n)) => clock.now_ms().map(|now| n.issue(now)),
                _ => None,
            },
        },
    };
    match rule.verifier.verify(run, headers) {
        Ok(()) => {}
        Err(Stop::Fail(status)) => return Decision::Deny(authn(status)),
        Err(Stop::Wait(callout)) => {
            // A handful at most: kept in order, each once (no sort, whose
            // code for a 40-byte item costs the module some 24 KiB).
            let mut waits: Vec<Callout> = Vec::with_capacity(run.waits.len().saturating_add(1));
            for c in run.waits.drain(..).chain(std::iter::once(callout)) {
                if !waits.contains(&c) {
                    waits.push(c);
                }
            }
            return Decision::Wait(waits);
        }
        Err(Stop::NoClock) => return Decision::Deny(Denial::Fault(Fault::NoClock)),
    }
    // Authentication is decided: the proofs it accepted are used now. (A
    // proof is only checked after the clock was read; a request without
    // one reads no clock here.)
    let mut proofs = run
        .found
        .verified
        .iter()
        .filter_map(|v| v.proof.as_ref())
        .peekable();
    if proofs.peek().is_some() {
        let Some(now) = clock.now_ms() else {
            return Decision::Deny(Denial::Fault(Fault::NoClock));
        };
        if let Err(status) = crate::authn::dpop::record(proofs, now, keys) {
            return Decision::Deny(authn(status));
        }
    }
    if let Some(a) = &rule.authorize {
        if let Err(r) = a.check(&run.found.verified, headers) {
            return Decision::Deny(match r {
                // Authorization needs a token: without one it is a missing token.
                Refusal::NoToken => authn(Status::JwtMissed),
                Refusal::Failed(f) => Denial::Authz(f, rule.offer.as_ref().map(|o| (o, used_dpop))),
                Refusal::Rbac => Denial::Rbac,
            });
        }
    }
    // A claim copied into a header must not smuggle header syntax upstream.
    match headers.unforwardable() {
        Some(name) => Decision::Deny(Denial::Fault(Fault::InvalidHeaderValue(name.to_owned()))),
        None => Decision::Allow,
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

    #[test]
    fn any_prefers_what_the_introspection_endpoint_said_in_any_order() {
        use Status::*;
        for pair in [
            [IntrospectionUnavailable, JwtBadFormat],
            [JwtBadFormat, IntrospectionUnavailable],
            [JwtExpired, IntrospectionUnavailable],
        ] {
            assert_eq!(any_error(&pair), IntrospectionUnavailable, "{pair:?}");
        }
        assert_eq!(any_error(&[TokenInactive, JwtBadFormat]), TokenInactive);
        assert_eq!(
            any_error(&[JwtBadFormat, TokenNotAccessToken]),
            TokenNotAccessToken
        );
        // A JWT's own error stays Envoy's choice.
        assert_eq!(any_error(&[TokenInactive, JwtExpired]), JwtExpired);
    }
}

#[cfg(test)]
mod decision_tests;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod stop_tests;
