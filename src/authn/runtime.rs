//! What authentication needs from outside a pure computation: the time,
//! remote keys, the verified-token cache and introspection answers, and how it stops when it
//! cannot decide yet (waiting for a callout) or at all (no clock).

use super::dpop::Replay;
use crate::cache;
use crate::dpop::keys::ProofKey;
use crate::error::Status;
use crate::introspection::cache::Active;
use crate::jwks::Jwks;
use crate::trace::Event;
use std::rc::Rc;
use std::sync::Arc;

/// A callout a request must wait for before it can be decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Callout {
    /// The remote keys (`remote_jwks` or `discovery`) of the provider at
    /// this index.
    Keys(usize),
    /// The introspection of one token at the provider at this index; `key`
    /// is the token's cache key (`introspection::cache_key`), never the
    /// token.
    Introspect { provider: usize, key: [u8; 32] },
}

/// Why authenticating did not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The token, or its absence, fails for this reason.
    Fail(Status),
    /// The answer depends on a callout still under way: decide when it ends.
    /// Beats every allowance (`requires_any`, `allow_missing*`).
    Wait(Callout),
    /// The request's time is unknown (the host's clock failed): nothing is
    /// decided at a guessed time, the request is refused.
    NoClock,
}

impl From<Status> for Stop {
    fn from(status: Status) -> Stop {
        Stop::Fail(status)
    }
}

/// Remote keys of a provider as the request sees them.
#[derive(Clone, Debug)]
pub enum Availability {
    /// Keys, and their generation (bumped whenever the set changes).
    Ready(Arc<Jwks>, u64),
    /// Being fetched (or about to be): the request should wait.
    Pending,
    /// The fetch failed and nothing usable is cached.
    Unavailable,
}

/// What the worker knows of a token at an introspection provider.
#[derive(Clone, Debug)]
pub enum Introspected {
    /// Active, with the answer as its claim set (fresh, or stale where
    /// `serve_stale` allows it).
    Active(Rc<Active>),
    Inactive,
    /// Being asked (or about to be): the request should wait.
    Pending,
    /// No usable answer, and nothing remembered may stand in.
    Unavailable,
}

/// The worker's mutable state as the request path sees it: remote keys and
/// the verified-token cache. Implemented by the callout worker's view, and
/// trivially (`LocalKeysOnly`) for tests and local-only configs. Time is
/// passed in: the view reads no clock of its own.
pub trait Runtime {
    /// Keys of a provider with `remote_jwks`/`discovery` (by index) at
    /// `now_ms`.
    fn remote_keys(&self, provider: usize, now_ms: u64) -> Availability;
    /// A token's kid/alg matched no cached key: may the provider refetch now?
    /// True grants it; the request then waits for the refetch.
    fn unknown_kid(&self, provider: usize, now_ms: u64) -> bool;
    /// This exact token, if it verified before (`crate::cache`).
    fn cached(&self, _token: &str) -> Option<cache::Hit> {
        None
    }
    /// Records a token whose signature verified.
    fn remember(&self, _token: &str, _hit: cache::Hit) {}
    /// What the introspection provider at `provider` knows of `token`
    /// (cache key `key`) at `now_ms`. `Pending` also asks for it.
    fn introspected(
        &self,
        _provider: usize,
        _key: &[u8; 32],
        _token: &str,
        _now_ms: u64,
    ) -> Introspected {
        Introspected::Unavailable
    }
    /// Records proof `key` (whose window ends at `until_ms`) in the replay
    /// store's `slot`, unless it is there already. Without a store every
    /// proof is refused: replay protection is not optional.
    fn first_use(&self, _slot: &str, _key: &str, _until_ms: u64, _now_ms: u64) -> Replay {
        Replay::Full
    }
    /// The parsed key of a DPoP proof whose header segment is `header`,
    /// if one verified a proof on this worker before.
    fn proof_key(&self, _header: &str) -> Option<Rc<ProofKey>> {
        None
    }
    /// Remembers the key of a proof that verified.
    fn remember_proof_key(&self, _header: &str, _key: Rc<ProofKey>) {}
    /// Hears each step of the evaluation ([`crate::trace`]): metrics and
    /// the decision log in the module, every step in `jwt-guard explain`.
    fn observe(&self, _event: &Event<'_>) {}
}

/// The request's time. Read through this so the glue asks the host only for
/// requests whose token gets that far: a missing or malformed token costs no
/// clock call.
pub trait Clock {
    /// Milliseconds since the epoch; `None` when the host cannot tell.
    fn now_ms(&self) -> Option<u64>;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> Option<u64> {
        (**self).now_ms()
    }
}

/// A fixed time in whole seconds (tests, and callers that already have it).
impl Clock for u64 {
    fn now_ms(&self) -> Option<u64> {
        self.checked_mul(1000)
    }
}

/// For configs (and tests) where every provider has local keys.
pub struct LocalKeysOnly;

impl Runtime for LocalKeysOnly {
    fn remote_keys(&self, _provider: usize, _now_ms: u64) -> Availability {
        Availability::Unavailable
    }
    fn unknown_kid(&self, _provider: usize, _now_ms: u64) -> bool {
        false
    }
}
