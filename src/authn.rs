//! Authenticating the tokens of one requirement node, in Envoy's order:
//! parse → issuer → time → audience → subject → lifetime → keys → signature,
//! then forward the payload, copy claims to headers and strip the token.
//! A provider's hardening (jwt-guard only) slots in: alg allow-list, `typ`
//! and `crit` right after the issuer; required claims and `auth_time` after
//! the lifetime.

pub mod dpop;
pub mod hardening;
mod opaque;
mod provider;
mod runtime;

pub use provider::{Audiences, ClaimToHeader, Keys, MaxLifetime, Provider, Providers};
pub use runtime::{Availability, Callout, Clock, Introspected, LocalKeysOnly, Runtime, Stop};

use crate::cache;
use crate::claims;
use crate::error::Status;
use crate::extract::{Extractor, Source, Token};
use crate::introspection::cache::Active;
use crate::jwks::Jwks;
use crate::jws::{self, KeyOutcome};
use crate::jwt::{self, Jwt};
use crate::request::Headers;
use std::rc::Rc;

/// A token that verified: its provider (index into [`Providers`]) and
/// its claims, kept for the rule's `authorize` conditions.
#[derive(Debug)]
pub struct Verified {
    pub provider: usize,
    pub claims: Rc<claims::Object>,
    /// Its DPoP proof, to record once the request is decided.
    pub proof: Option<dpop::Pending>,
}

/// Which provider checks the tokens.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'a> {
    /// A named provider, optionally with the requirement's own audiences.
    Provider {
        provider: &'a Provider,
        audiences: Option<&'a Audiences>,
    },
    /// `allow_missing` / `allow_missing_or_failed`: the provider is found by
    /// the token's issuer.
    ByIssuer { allow_failed: bool },
}

fn lifetime_ok(max: Option<MaxLifetime>, exp: u64, now: u64) -> bool {
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

/// Verifies one token; on success returns its provider and parsed form.
/// A token in the verified-token cache is not decoded again, and its
/// signature is not checked again if the same keys verified it.
fn verify_one<'c>(
    providers: &'c Providers,
    extractor: &Extractor,
    mode: Mode<'c>,
    token: &Token,
    clock: &dyn Clock,
    keys: &dyn Runtime,
) -> Result<(&'c Provider, Rc<Jwt>), Stop> {
    let (jwt, signed, hit) = match keys.cached(&token.value) {
        Some(hit) => (hit.jwt.clone(), None, Some(hit)),
        None => {
            let (jwt, signed) = jwt::parse(&token.value)?;
            (Rc::new(jwt), Some(signed), None)
        }
    };
    if !extractor.issuer_allowed(token, &jwt.iss) {
        return Err(Status::JwtUnknownIssuer.into());
    }
    let (provider, audiences) = match mode {
        Mode::Provider {
            provider,
            audiences,
        } => (provider, audiences),
        Mode::ByIssuer { .. } => (
            providers
                .for_issuer(&jwt.iss)
                .ok_or(Status::JwtUnknownIssuer)?,
            None,
        ),
    };
    // An introspection provider without keys cannot verify a JWT it does
    // not send to the endpoint (`jwt_tokens: verify_locally`): nothing
    // about an unverifiable token is worth reporting.
    if matches!(provider.keys, Keys::None) {
        return Err(Status::JwtVerificationFail.into());
    }
    hardening::check_header(&provider.hardening, &jwt)?;
    let now_ms = clock.now_ms().ok_or(Stop::NoClock)?;
    let now = now_ms / 1000;
    jwt.check_time(now, provider.clock_skew)?;
    if !audiences
        .unwrap_or(&provider.audiences)
        .allows(&jwt.audiences)
    {
        return Err(Status::JwtAudienceNotAllowed.into());
    }
    if provider
        .subjects
        .as_ref()
        .is_some_and(|m| !m.matches(&jwt.sub))
    {
        return Err(Status::JwtVerificationFail.into());
    }
    if !lifetime_ok(provider.max_lifetime, jwt.exp, now) {
        return Err(Status::JwtVerificationFail.into());
    }
    hardening::check_claims(&provider.hardening, &jwt.payload, now, provider.clock_skew)?;
    let remote;
    let (jwks, generation): (&Jwks, u64) = match &provider.keys {
        Keys::Local(jwks) => (jwks, 0),
        Keys::Remote { .. } => match keys.remote_keys(provider.index, now_ms) {
            Availability::Ready(jwks, generation) => {
                remote = jwks;
                (&remote, generation)
            }
            Availability::Pending => return Err(Stop::Wait(Callout::Keys(provider.index))),
            Availability::Unavailable => return Err(Status::JwksFetchFail.into()),
        },
        Keys::None => return Err(Status::JwtVerificationFail.into()),
    };
    if jwks.is_empty() {
        return Err(Status::JwksNoValidKeys.into());
    }
    // Every check above ran; only the signature verdict may be reused.
    if hit
        .as_ref()
        .is_some_and(|h| h.verified_by(provider.index, generation))
    {
        return Ok((provider, jwt));
    }
    let signed = match signed {
        Some(s) => s,
        None => jwt::signed_parts(&token.value)?,
    };
    let status = match jws::verify_with_jwks(
        jwks,
        jwt.alg,
        jwt.kid.as_deref(),
        signed.signing_input.as_bytes(),
        &signed.signature,
    ) {
        KeyOutcome::Verified => {
            keys.remember(
                &token.value,
                cache::Hit {
                    jwt: jwt.clone(),
                    provider: provider.index,
                    generation,
                },
            );
            return Ok((provider, jwt));
        }
        // A rotated key: refetch (rate-limited by the key source) and retry.
        KeyOutcome::NoKeyMatched
            if matches!(provider.keys, Keys::Remote { .. })
                && keys.unknown_kid(provider.index, now_ms) =>
        {
            return Err(Stop::Wait(Callout::Keys(provider.index)));
        }
        KeyOutcome::NoKeyMatched => Status::JwksKidAlgMismatch,
        KeyOutcome::SignatureInvalid => Status::JwtVerificationFail,
        KeyOutcome::Ed25519SignatureWrongLength => Status::JwtEd25519SignatureWrongLength,
    };
    Err(status.into())
}

/// A token that passed, as its provider's headers need it.
enum Good {
    /// A JWT: its payload segment is forwarded as received.
    Jwt(Rc<Jwt>),
    /// An introspected token: the answer is the payload.
    Introspected(Rc<Active>),
}

impl Good {
    fn claims(&self) -> &Rc<claims::Object> {
        match self {
            Good::Jwt(jwt) => &jwt.payload,
            Good::Introspected(active) => &active.claims,
        }
    }

    /// What `forward_payload_header` carries: the JWT's payload segment, or
    /// the introspection answer's JSON, base64url (unpadded).
    fn payload(&self, token: &Token) -> String {
        match self {
            Good::Jwt(_) => jwt::payload_segment(&token.value).to_owned(),
            Good::Introspected(active) => active.payload().to_owned(),
        }
    }
}

/// Checks one token with `mode`'s provider: introspected, or verified as
/// a JWT.
fn check_one<'c>(
    providers: &'c Providers,
    extractor: &Extractor,
    mode: Mode<'c>,
    token: &Token,
    clock: &dyn Clock,
    keys: &dyn Runtime,
) -> Result<(&'c Provider, Good), Stop> {
    if let Mode::Provider {
        provider,
        audiences,
    } = mode
    {
        if let Some(settings) = opaque::introspects(provider, token) {
            let active = opaque::verify(provider, settings, audiences, token, clock, keys)?;
            return Ok((provider, Good::Introspected(active)));
        }
    }
    let (provider, jwt) = verify_one(providers, extractor, mode, token, clock, keys)?;
    Ok((provider, Good::Jwt(jwt)))
}

/// The DPoP step of a token that verified at `provider` (nothing without
/// `dpop`).
fn check_dpop(
    provider: &Provider,
    token: &Token,
    good: &Good,
    headers: &Headers,
    clock: &dyn Clock,
    keys: &dyn Runtime,
) -> Result<Option<dpop::Pending>, Stop> {
    let presented = token.source == Source::Dpop;
    let Some(settings) = &provider.dpop else {
        // Found by issuer at a provider without DPoP: the location was not
        // this provider's.
        return match presented {
            true => Err(Status::JwtUnknownIssuer.into()),
            false => Ok(None),
        };
    };
    let verified = dpop::Verified {
        token: &token.value,
        presented,
        claims: good.claims(),
        introspected: matches!(good, Good::Introspected(_)),
    };
    dpop::check(settings, &verified, headers, clock, keys)
}

/// What a verified token changes in the request.
fn apply_good(
    provider: &Provider,
    extractor: &Extractor,
    token: &Token,
    good: &Good,
    headers: &mut Headers,
) {
    if let Some(h) = &provider.forward_payload_header {
        let mut payload = good.payload(token);
        if provider.pad_forward_payload_header {
            while payload.len() % 4 != 0 {
                payload.push('=');
            }
        }
        headers.add(h, payload);
    }
    for c in &provider.claim_to_headers {
        if let claims::Lookup::Found(v) = claims::get_path(good.claims(), &c.claim) {
            if let Some(value) = claims::header_value(v) {
                headers.add(&c.header, value);
            }
        }
    }
    if !provider.forward {
        extractor.remove(token, headers);
        if token.source == Source::Dpop {
            headers.remove(dpop::PROOF_HEADER);
        }
    }
}

/// One requirement leaf: strips the headers its providers set, then
/// authenticates every token `extractor` finds. Without `allow_*`, every
/// token must verify (a good token must not carry a bad one through).
/// Verified tokens are appended to `verified`, and taken back out if the
/// leaf fails, so authorization only sees tokens of passing leaves.
pub fn authenticate(
    providers: &Providers,
    extractor: &Extractor,
    mode: Mode<'_>,
    headers: &mut Headers,
    clock: &dyn Clock,
    keys: &dyn Runtime,
    verified: &mut Vec<Verified>,
) -> Result<(), Stop> {
    let (allow_failed, allow_missing) = match mode {
        Mode::Provider { .. } => (false, false),
        Mode::ByIssuer { allow_failed } => (allow_failed, true),
    };
    extractor.sanitize(headers);
    let mark = verified.len();
    let mut tokens = extractor.extract(headers);
    let mut status = if tokens.is_empty() {
        Err(Status::JwtMissed)
    } else {
        Ok(())
    };
    // A DPoP-scheme token must be the request's only one (RFC 6750 §2:
    // one method per request), else the proof's `ath` says nothing of
    // the others.
    if tokens.len() > 1 && tokens.iter().any(|t| t.source == Source::Dpop) {
        tokens.clear();
        status = Err(Status::DpopSchemesMixed);
    }
    // Envoy verifies from the last token found to the first.
    while let Some(token) = tokens.pop() {
        let checked = check_one(providers, extractor, mode, &token, clock, keys).and_then(
            |(provider, good)| {
                let proof = check_dpop(provider, &token, &good, headers, clock, keys)?;
                Ok((provider, good, proof))
            },
        );
        status = match checked {
            Ok((provider, good, proof)) => {
                apply_good(provider, extractor, &token, &good, headers);
                verified.push(Verified {
                    provider: provider.index,
                    claims: good.claims().clone(),
                    proof,
                });
                Ok(())
            }
            Err(Stop::Fail(status)) => Err(status),
            // Waiting (or no clock) beats every allowance: decide once the
            // callout ends (or refuse).
            Err(stop) => {
                verified.truncate(mark);
                return Err(stop);
            }
        };
        if status.is_err() && !allow_failed && !allow_missing {
            break;
        }
    }
    let result = match status {
        Err(_) if allow_failed => Ok(()),
        Err(Status::JwtMissed) if allow_missing => Ok(()),
        other => other,
    };
    if result.is_err() {
        verified.truncate(mark);
    }
    result.map_err(Stop::Fail)
}

#[cfg(test)]
mod tests;
