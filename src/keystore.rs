//! Remote key state for one provider: when to fetch, what to serve meanwhile.
//!
//! Pure: the glue passes time in (milliseconds) and performs the HTTP calls;
//! this module only decides. A *round* is one fetch plus its retries: it ends
//! with a success or, once `num_retries` retries have failed, with
//! [`Attempt::Settled`], when paused requests get their answer.
//!
//! Expected use: on each tick and each request that needs keys, `due` →
//! `start` → dispatch; on the response `succeeded` / `failed`; on ticks
//! `expire_stuck`; requests read `keys(now)` and pause while `pending()`.

use std::sync::Arc;

use crate::discovery::Target;
use crate::jwks::Jwks;

/// Where a provider's remote keys come from (`remote_jwks`, or
/// jwt-guard's `discovery`) and how to fetch them.
#[derive(Clone, Debug)]
pub struct Remote {
    /// Dispatch target: an Envoy cluster name, or `host:port` on Kong.
    pub cluster: String,
    /// The JWKS URI, or with `discovery` the discovery document's URI.
    pub target: Target,
    /// True: `target` is an OpenID Provider Configuration to read `jwks_uri` from.
    pub discovery: bool,
    pub policy: FetchPolicy,
    /// Shared-data key: one cache per cluster and URI across workers.
    pub shared_key: String,
}

/// Grace beyond the dispatch timeout: the host answers every call by its
/// timeout, so a fetch silent for longer is lost and must not block anyone.
const STUCK_GRACE_MS: u64 = 1000;

/// Settings compiled from config (all durations in ms).
#[derive(Clone, Debug, PartialEq)]
pub struct FetchPolicy {
    pub cache_duration_ms: u64,
    pub timeout_ms: u64,
    pub num_retries: u32,
    pub base_interval_ms: u64,
    pub max_interval_ms: u64,
    pub failed_refetch_ms: u64,
    pub unknown_kid_refetch_ms: u64,
    pub max_stale_ms: u64,
    /// `async_fetch` present: fetch at start-up and refresh before expiry.
    pub prefetch: bool,
}

impl Default for FetchPolicy {
    /// Envoy's defaults plus ours; `timeout_ms` has no Envoy default (the
    /// field is required there), 1 s is only a placeholder.
    fn default() -> FetchPolicy {
        FetchPolicy {
            cache_duration_ms: 600_000,
            timeout_ms: 1_000,
            num_retries: 0,
            base_interval_ms: 25,
            max_interval_ms: 250,
            failed_refetch_ms: 1_000,
            unknown_kid_refetch_ms: 30_000,
            max_stale_ms: 86_400_000,
            prefetch: false,
        }
    }
}

/// What a failed fetch means for the requests waiting on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// A retry is scheduled (`due` turns true after the back-off): keep waiting.
    Retrying,
    /// The round is over: answer waiting requests with `keys(now)` or a 401.
    Settled,
}

/// Per-provider remote key state machine.
#[derive(Clone, Debug)]
pub struct KeyStore {
    policy: FetchPolicy,
    keys: Option<Arc<Jwks>>,
    expires_at: u64,
    generation: u64,
    in_flight_since: Option<u64>,
    /// Failures in the current round (0 when idle).
    round_failures: u32,
    retry_scheduled: bool,
    /// No attempt starts before this (retry back-off, failed-refetch wait).
    not_before: u64,
    waiting_since: Option<u64>,
    refetch_requested: bool,
    last_unknown_kid_grant: Option<u64>,
    last_failure: Option<u64>,
    consecutive_failures: u32,
}

impl KeyStore {
    pub fn new(policy: FetchPolicy) -> KeyStore {
        KeyStore {
            policy,
            keys: None,
            expires_at: 0,
            generation: 0,
            in_flight_since: None,
            round_failures: 0,
            retry_scheduled: false,
            not_before: 0,
            waiting_since: None,
            refetch_requested: false,
            last_unknown_kid_grant: None,
            last_failure: None,
            consecutive_failures: 0,
        }
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Keys usable now: fresh, or stale but within `max_stale` past expiry.
    /// None before the first success.
    pub fn keys(&self, now_ms: u64) -> Option<&Arc<Jwks>> {
        let keys = self.keys.as_ref()?;
        let limit = self.expires_at.saturating_add(self.policy.max_stale_ms);
        (now_ms < limit).then_some(keys)
    }

    /// Keys present and not yet past `cache_duration`.
    pub fn fresh(&self, now_ms: u64) -> bool {
        self.keys.is_some() && now_ms < self.expires_at
    }

    /// `keys(now)` would serve expired keys (worth a warn log).
    pub fn stale(&self, now_ms: u64) -> bool {
        !self.fresh(now_ms) && self.keys(now_ms).is_some()
    }

    /// When the current keys stop being fresh; None before the first success.
    pub fn expires_at(&self) -> Option<u64> {
        self.keys.as_ref().map(|_| self.expires_at)
    }

    /// Bumped on every install, so the glue can notice new keys.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Time of the most recent failed attempt.
    pub fn last_failure(&self) -> Option<u64> {
        self.last_failure
    }

    /// Failed attempts since the last success (across rounds), for logs.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Since when requests have been waiting for keys (None: nobody).
    pub fn waiting_since(&self) -> Option<u64> {
        self.waiting_since
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight_since.is_some()
    }

    /// A fetch is in flight or a retry is scheduled: a request needing keys
    /// should pause; otherwise it is answered from `keys(now)` at once.
    pub fn pending(&self) -> bool {
        self.in_flight() || self.retry_scheduled
    }

    /// True when a fetch should start now.
    pub fn due(&self, now_ms: u64) -> bool {
        if let Some(since) = self.in_flight_since {
            // A lost fetch is replaced rather than waited on forever.
            return self.stuck(since, now_ms);
        }
        if now_ms < self.not_before {
            return false;
        }
        if self.retry_scheduled || self.refetch_requested {
            return true;
        }
        let waiting = self.waiting_since.is_some();
        match self.keys {
            None => self.policy.prefetch || waiting,
            Some(_) => {
                (self.policy.prefetch && now_ms >= self.refresh_at())
                    || (waiting && now_ms >= self.expires_at)
            }
        }
    }

    /// Earliest time `due` may turn true without another call (for the
    /// glue's tick period); None when only a request can make it due.
    pub fn wake_at(&self) -> Option<u64> {
        if let Some(since) = self.in_flight_since {
            return Some(self.stuck_at(since));
        }
        let waiting = self.waiting_since.is_some();
        let at = if self.retry_scheduled || self.refetch_requested {
            Some(self.not_before)
        } else {
            match self.keys {
                None => (self.policy.prefetch || waiting).then_some(self.not_before),
                Some(_) if self.policy.prefetch => Some(self.refresh_at()),
                Some(_) => waiting.then_some(self.expires_at),
            }
        };
        at.map(|t| t.max(self.not_before))
    }

    /// From now on, fetch keys ahead as `async_fetch` does: refresh them
    /// before they expire, without waiting for a request to want them.
    pub fn fetch_ahead(&mut self) {
        self.policy.prefetch = true;
    }

    /// Records that requests want keys (makes a fetch due without
    /// prefetch). Call it when keys are missing or stale; a no-op while
    /// they are fresh, since nobody needs to wait then.
    pub fn mark_waiting(&mut self, now_ms: u64) {
        if !self.fresh(now_ms) && self.waiting_since.is_none() {
            self.waiting_since = Some(now_ms);
        }
    }

    /// A fetch is now in flight (replacing a stuck one, if any).
    pub fn start(&mut self, now_ms: u64) {
        self.in_flight_since = Some(now_ms);
        self.retry_scheduled = false;
        self.refetch_requested = false;
    }

    /// The fetch delivered parsed keys: install them, expiry = now +
    /// cache_duration, end the round.
    pub fn succeeded(&mut self, jwks: Jwks, now_ms: u64) {
        self.in_flight_since = None;
        self.install(jwks, now_ms);
    }

    /// Installs keys fetched at `fetched_at_ms` (by this worker or, through
    /// shared data, another one) and ends the round; a fetch of this
    /// worker still in flight stays in flight.
    pub fn install(&mut self, jwks: Jwks, fetched_at_ms: u64) {
        self.keys = Some(Arc::new(jwks));
        self.expires_at = fetched_at_ms.saturating_add(self.policy.cache_duration_ms);
        self.generation = self.generation.saturating_add(1);
        self.round_failures = 0;
        self.retry_scheduled = false;
        self.not_before = 0;
        self.waiting_since = None;
        self.refetch_requested = false;
        self.consecutive_failures = 0;
    }

    /// The fetch failed (transport, status, timeout, unparsable, oversize).
    /// Old keys are kept. Retries back off as base * 2^(n-1), capped at
    /// max; once they are exhausted no new round starts for
    /// failed_refetch_ms, so a struggling IdP sees at most one round per
    /// interval however many requests arrive (they are answered from the
    /// stale keys, or refused at once while there are none).
    pub fn failed(&mut self, now_ms: u64) -> Attempt {
        self.in_flight_since = None;
        self.last_failure = Some(now_ms);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.round_failures = self.round_failures.saturating_add(1);
        if self.round_failures <= self.policy.num_retries {
            self.retry_scheduled = true;
            self.not_before = now_ms.saturating_add(self.backoff(self.round_failures));
            return Attempt::Retrying;
        }
        self.round_failures = 0;
        self.retry_scheduled = false;
        self.waiting_since = None;
        self.refetch_requested = false;
        self.not_before = now_ms.saturating_add(self.policy.failed_refetch_ms);
        Attempt::Settled
    }

    /// Another worker's round, which requests here were waiting on, ended in
    /// failure at `at_ms` (shared data says so): they get their answer now
    /// (the stale keys, or a 401), and no round starts here before
    /// failed_refetch_ms, as after a failed round of this worker's own.
    pub fn failed_elsewhere(&mut self, at_ms: u64) {
        self.last_failure = Some(at_ms);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.retry_scheduled = false;
        self.waiting_since = None;
        self.refetch_requested = false;
        self.not_before = self
            .not_before
            .max(at_ms.saturating_add(self.policy.failed_refetch_ms));
    }

    /// After a failed round, until failed_refetch_ms has passed: requests
    /// without usable keys are answered at once instead of waiting.
    pub fn backing_off(&self, now_ms: u64) -> bool {
        !self.pending() && now_ms < self.not_before
    }

    /// Treats a fetch in flight for longer than timeout + 1 s as failed.
    /// Returns what `failed` returned, or None when nothing was stuck.
    pub fn expire_stuck(&mut self, now_ms: u64) -> Option<Attempt> {
        let since = self.in_flight_since?;
        self.stuck(since, now_ms).then(|| self.failed(now_ms))
    }

    /// A token had a kid/alg no key matches. Grants a refetch at most once
    /// per unknown_kid_refetch_ms; true means the caller pauses the request
    /// until the fetch ends (an in-flight fetch or scheduled retry serves
    /// as the refetch). Not granted while a failed round's wait runs, as
    /// no fetch could start to end the pause.
    pub fn unknown_kid(&mut self, now_ms: u64) -> bool {
        if let Some(last) = self.last_unknown_kid_grant {
            if now_ms < last.saturating_add(self.policy.unknown_kid_refetch_ms) {
                return false;
            }
        }
        let busy = self.pending();
        if !busy && now_ms < self.not_before {
            return false;
        }
        self.last_unknown_kid_grant = Some(now_ms);
        if !busy {
            self.refetch_requested = true;
        }
        true
    }

    /// Prefetch refreshes in the last tenth of the cache duration, so
    /// requests never see the keys expire while the IdP is up.
    fn refresh_at(&self) -> u64 {
        let margin = self.policy.cache_duration_ms / 10;
        self.expires_at.saturating_sub(margin)
    }

    fn backoff(&self, failures: u32) -> u64 {
        let factor = 1u64
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.policy
            .base_interval_ms
            .saturating_mul(factor)
            .min(self.policy.max_interval_ms)
    }

    fn stuck_at(&self, since: u64) -> u64 {
        since
            .saturating_add(self.policy.timeout_ms)
            .saturating_add(STUCK_GRACE_MS)
    }

    fn stuck(&self, since: u64, now_ms: u64) -> bool {
        now_ms >= self.stuck_at(since)
    }
}

#[cfg(test)]
mod tests;
