//! The DPoP step of authentication (RFC 9449 §7), after a token verified at
//! a provider with `dpop`: a token sent with the `DPoP` scheme needs one
//! valid proof, from the key the token is bound to (`cnf.jkt`), seen once;
//! a bound token sent any other way is a downgrade; and a provider that
//! requires DPoP takes no Bearer token.

use super::{Clock, Runtime, Stop};
use crate::claims::Object;
use crate::dpop::keys::{KeyCache, ProofKey};
use crate::dpop::proof::{self, Expect};
use crate::dpop::replay;
use crate::dpop::settings::{Mode, Settings, MAX_JTI_LEN};
use crate::error::Status;
use crate::request::Headers;
use serde_json::Value;
use std::rc::Rc;

/// The header a proof comes in.
pub const PROOF_HEADER: &str = "dpop";

/// A proof that passed every check, to be recorded in the replay store
/// once the request's decision no longer depends on anything else: a
/// request that waits for keys and is evaluated again, or a branch that
/// fails after this one passed, must not find its own proof there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub slot: String,
    pub key: String,
    pub until_ms: u64,
}

/// What replaying a proof meets in the replay store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Not seen within its window: now recorded.
    First,
    /// Seen before within its window.
    Seen,
    /// Its slot is full of live proofs (or could not be written): refused,
    /// as the store cannot tell.
    Full,
}

/// The token's binding: `Some(Ok(jkt))`, `Some(Err(()))` for a `cnf.jkt`
/// that is not a string (bound, to no key we can match), `None` unbound.
fn binding(claims: &Object) -> Option<Result<&str, ()>> {
    match claims.get("cnf") {
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            Some(Value::String(jkt)) => Some(Ok(jkt)),
            Some(_) => Some(Err(())),
            None => None,
        },
        _ => None,
    }
}

/// The worker's proof keys, as the proof check looks them up.
struct WorkerKeys<'a>(&'a dyn Runtime);

impl KeyCache for WorkerKeys<'_> {
    fn get(&self, header: &str) -> Option<Rc<ProofKey>> {
        self.0.proof_key(header)
    }
    fn put(&self, header: &str, key: Rc<ProofKey>) {
        self.0.remember_proof_key(header, key);
    }
}

/// The one proof of the request: refused when absent, repeated, or a list.
fn proof_header(headers: &Headers) -> Result<&str, Status> {
    let mut values = headers.get_all(PROOF_HEADER);
    let first = values.next().ok_or(Status::DpopProofMissing)?;
    if values.next().is_some() || first.contains(',') {
        return Err(Status::DpopProofRepeated);
    }
    Ok(first.trim_matches([' ', '\t']))
}

/// A token that verified, as the DPoP step sees it.
pub struct Verified<'a> {
    pub token: &'a str,
    /// It came with the `DPoP` scheme.
    pub presented: bool,
    pub claims: &'a Object,
    /// `claims` is an introspection answer, whose `token_type` (if any)
    /// must then be `DPoP` (§6.2).
    pub introspected: bool,
}

/// The DPoP step of a verified token at a provider with `settings`. A
/// proof that passed comes back to be recorded ([`record`]).
pub fn check(
    settings: &Settings,
    verified: &Verified<'_>,
    headers: &Headers,
    clock: &dyn Clock,
    keys: &dyn Runtime,
) -> Result<Option<Pending>, Stop> {
    let Verified {
        token,
        presented,
        claims,
        introspected,
    } = *verified;
    let bound = binding(claims);
    if !presented {
        return match (bound, settings.mode) {
            (Some(_), _) => Err(Status::DpopTokenBound.into()),
            (None, Mode::Required) => Err(Status::DpopRequired.into()),
            (None, Mode::Allowed) => Ok(None),
        };
    }
    if introspected {
        let dpop_type = match claims.get("token_type") {
            None => true,
            Some(Value::String(t)) => t.eq_ignore_ascii_case("DPoP"),
            Some(_) => false,
        };
        if !dpop_type {
            return Err(Status::DpopTokenNotBound.into());
        }
    }
    let Some(jkt) = bound else {
        return Err(Status::DpopTokenNotBound.into());
    };
    let proof = proof_header(headers)?;
    let htu = settings
        .request_htu(headers)
        .ok_or(Status::DpopProofBadHtu)?;
    let now_ms = clock.now_ms().ok_or(Stop::NoClock)?;
    let expect = Expect {
        method: headers.get(":method").unwrap_or(""),
        htu: &htu,
        access_token: token,
        algorithms: &settings.algorithms,
        max_age_s: settings.max_age_s,
        future_skew_s: settings.future_skew_s,
        max_jti_len: MAX_JTI_LEN,
        nonces: settings.nonces.as_ref(),
        keys: &WorkerKeys(keys),
    };
    let proof = proof::verify(proof, &expect, now_ms)?;
    if jkt != Ok(proof.jkt.as_str()) {
        return Err(Status::DpopKeyMismatch.into());
    }
    let key = replay::proof_key(&proof.jkt, &proof.jti);
    Ok(Some(Pending {
        slot: settings.slot_name(&key),
        key,
        until_ms: replay::window_end_ms(proof.iat, settings.max_age_s, settings.future_skew_s),
    }))
}

/// Records the proofs of a request that passed authentication (each key
/// once: two providers may have checked the same proof), at `now_ms`. The
/// first one the store has seen, or whose slot is full, refuses it.
pub fn record<'a>(
    proofs: impl Iterator<Item = &'a Pending>,
    now_ms: u64,
    keys: &dyn Runtime,
) -> Result<(), Status> {
    let mut done: Vec<&str> = Vec::new();
    for p in proofs {
        if done.contains(&p.key.as_str()) {
            continue;
        }
        match keys.first_use(&p.slot, &p.key, p.until_ms, now_ms) {
            Replay::First => done.push(&p.key),
            Replay::Seen => return Err(Status::DpopProofReplayed),
            Replay::Full => return Err(Status::DpopReplayStoreFull),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
