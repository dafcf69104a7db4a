//! Authenticating the tokens of one requirement node, in Envoy's order:
//! parse → issuer → time → audience → subject → lifetime → keys → signature,
//! then forward the payload, copy claims to headers and strip the token.
//! A provider's hardening (jwt-guard only) slots in: alg allow-list, `typ`
//! and `crit` right after the issuer; required claims and `auth_time` after
//! the lifetime.

mod claim_checks;
pub mod dpop;
mod found;
pub mod hardening;
mod opaque;
mod provider;
mod runtime;

pub use found::{Failed, Found, Verified};
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
use crate::trace::{Check, Event};
use found::Seen;
use std::rc::Rc;

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
    seen: &mut Seen,
) -> Result<(&'c Provider, Rc<Jwt>), Stop> {
    let (jwt, signed, hit) = match keys.cached(&token.value) {
        Some(hit) => {
            keys.observe(&Event::Cached(&hit.jwt));
            (hit.jwt.clone(), None, Some(hit))
        }
        None => {
            let (jwt, signed) = jwt::parse(&token.value)?;
            let jwt = Rc::new(jwt);
            keys.observe(&Event::Decoded(&jwt));
            (jwt, Some(signed), None)
        }
    };
    seen.jwt = Some(jwt.clone());
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
    seen.provider = Some(provider.index);
    keys.observe(&Event::Provider(provider.index));
    keys.observe(&Event::Passed(Check::Issuer));
    // An introspection provider without keys cannot verify a JWT it does
    // not send to the endpoint (`jwt_tokens: verify_locally`): nothing
    // about an unverifiable token is worth reporting.
    if matches!(provider.keys, Keys::None) {
        return Err(Status::JwtVerificationFail.into());
    }
    hardening::check_header(&provider.hardening, &jwt)?;
    keys.observe(&Event::Passed(Check::Header));
    let now_ms = clock.now_ms().ok_or(Stop::NoClock)?;
    let now = now_ms / 1000;
    let claimed = claim_checks::Claimed {
        nbf: jwt.nbf,
        exp: jwt.exp,
        sub: &jwt.sub,
        audiences: &jwt.audiences,
        claims: &jwt.payload,
    };
    claim_checks::check(provider, audiences, &claimed, now, keys)?;
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
    let remote = matches!(provider.keys, Keys::Remote { .. });
    let count = jwks.len();
    keys.observe(&Event::Passed(Check::Keys { count, remote }));
    // Every check above ran; only the signature verdict may be reused.
    if hit
        .as_ref()
        .is_some_and(|h| h.verified_by(provider.index, generation))
    {
        keys.observe(&Event::Passed(Check::SignatureCached));
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
            keys.observe(&Event::Passed(Check::Signature));
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
    seen: &mut Seen,
) -> Result<(&'c Provider, Good), Stop> {
    if let Mode::Provider {
        provider,
        audiences,
    } = mode
    {
        if let Some(settings) = opaque::introspects(provider, token) {
            seen.provider = Some(provider.index);
            keys.observe(&Event::Provider(provider.index));
            let active = opaque::verify(provider, settings, audiences, token, clock, keys)?;
            return Ok((provider, Good::Introspected(active)));
        }
    }
    let (provider, jwt) = verify_one(providers, extractor, mode, token, clock, keys, seen)?;
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
    let proof = dpop::check(settings, &verified, headers, clock, keys)?;
    keys.observe(&Event::Passed(Check::Dpop));
    Ok(proof)
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
/// Verified tokens are appended to `found`, and taken back out if the
/// leaf fails, so authorization only sees tokens of passing leaves; every
/// failure stays on record there.
pub fn authenticate(
    providers: &Providers,
    extractor: &Extractor,
    mode: Mode<'_>,
    headers: &mut Headers,
    clock: &dyn Clock,
    keys: &dyn Runtime,
    found: &mut Found,
) -> Result<(), Stop> {
    let (allow_failed, allow_missing, named) = match mode {
        Mode::Provider { provider, .. } => (false, false, Some(provider.index)),
        Mode::ByIssuer { allow_failed } => (allow_failed, true, None),
    };
    extractor.sanitize(headers);
    let mark = found.verified.len();
    let mut tokens = extractor.extract(headers);
    let mut status = if tokens.is_empty() {
        keys.observe(&Event::NoToken);
        found.failed.push(Failed {
            status: Status::JwtMissed,
            provider: named,
            jwt: None,
        });
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
        found.failed.push(Failed {
            status: Status::DpopSchemesMixed,
            provider: named,
            jwt: None,
        });
    }
    // Envoy verifies from the last token found to the first.
    while let Some(token) = tokens.pop() {
        keys.observe(&Event::Token(&token));
        // At a named provider, every failure is about it (a malformed
        // token too); found by issuer, only once the issuer named one.
        let mut seen = Seen {
            provider: named,
            jwt: None,
        };
        let checked = check_one(providers, extractor, mode, &token, clock, keys, &mut seen)
            .and_then(|(provider, good)| {
                let proof = check_dpop(provider, &token, &good, headers, clock, keys)?;
                Ok((provider, good, proof))
            });
        status = match checked {
            Ok((provider, good, proof)) => {
                keys.observe(&Event::Checked {
                    provider: Some(provider.index),
                    result: Ok(()),
                });
                apply_good(provider, extractor, &token, &good, headers);
                found.verified.push(Verified {
                    provider: provider.index,
                    claims: good.claims().clone(),
                    proof,
                    jwt: match &good {
                        Good::Jwt(jwt) => Some(jwt.clone()),
                        Good::Introspected(_) => None,
                    },
                });
                Ok(())
            }
            Err(Stop::Fail(status)) => {
                let provider = seen.provider;
                keys.observe(&Event::Checked {
                    provider,
                    result: Err(status),
                });
                let jwt = seen.jwt;
                found.failed.push(Failed {
                    status,
                    provider,
                    jwt,
                });
                Err(status)
            }
            // Waiting (or no clock) beats every allowance: decide once the
            // callout ends (or refuse).
            Err(stop) => {
                found.verified.truncate(mark);
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
        found.verified.truncate(mark);
    }
    result.map_err(Stop::Fail)
}

#[cfg(test)]
mod tests;
