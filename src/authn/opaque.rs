//! Tokens checked by the authorization server (RFC 7662): the worker says
//! whether the token is active and hands over the answer, which is then
//! checked as a JWT's claims are (type, issuer, time, audience, subject,
//! lifetime, required claims), on every request, cached answer or not.
//! What every request checks was read once, when the answer arrived.

use super::{claim_checks, Audiences, Callout, Clock, Introspected, Provider};
use super::{Runtime, Stop};
use crate::error::Status;
use crate::extract::Token;
use crate::introspection::cache::Active;
use crate::introspection::settings::{JwtTokens, Settings};
use crate::jwt;
use crate::trace::{Check, Event};
use std::rc::Rc;

/// Whether `token` goes to `provider`'s introspection endpoint.
pub(super) fn introspects<'p>(provider: &'p Provider, token: &Token) -> Option<&'p Settings> {
    let settings = provider.introspection.as_deref()?;
    match settings.jwt_tokens {
        JwtTokens::Introspect => Some(settings),
        JwtTokens::VerifyLocally => (!jwt::looks_like_jwt(&token.value)).then_some(settings),
    }
}

/// Checks a token the worker introspects; on success, its claim set.
pub(super) fn verify(
    provider: &Provider,
    settings: &Settings,
    audiences: Option<&Audiences>,
    token: &Token,
    clock: &dyn Clock,
    runtime: &dyn Runtime,
) -> Result<Rc<Active>, Stop> {
    let now_ms = clock.now_ms().ok_or(Stop::NoClock)?;
    let key = settings.key(&token.value);
    let active = match runtime.introspected(provider.index, &key, &token.value, now_ms) {
        Introspected::Active(active) => active,
        Introspected::Inactive => return Err(Status::TokenInactive.into()),
        Introspected::Pending => {
            let provider = provider.index;
            return Err(Stop::Wait(Callout::Introspect { provider, key }));
        }
        Introspected::Unavailable => return Err(Status::IntrospectionUnavailable.into()),
    };
    runtime.observe(&Event::Passed(Check::Introspected));
    if !active.access_token {
        return Err(Status::TokenNotAccessToken.into());
    }
    let r = active.registered.as_ref().map_err(|s| *s)?;
    // RFC 7662 makes `iss` optional: an answer without it is the endpoint's
    // word about its own token; one naming another issuer is refused.
    if !provider.issuer.is_empty() && !r.iss.is_empty() && r.iss != provider.issuer {
        return Err(Status::JwtUnknownIssuer.into());
    }
    runtime.observe(&Event::Passed(Check::Issuer));
    let claimed = claim_checks::Claimed {
        nbf: r.nbf,
        exp: r.exp,
        sub: &r.sub,
        audiences: &r.audiences,
        claims: &active.claims,
    };
    claim_checks::check(provider, audiences, &claimed, now_ms / 1000, runtime)?;
    Ok(active)
}
