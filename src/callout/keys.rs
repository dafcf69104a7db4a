//! One remote provider's keys on one worker: the calls of a fetch round
//! (the discovery document, then the JWKS), the key store deciding when to
//! fetch ([`KeyStore`]), and sharing with the other workers through shared
//! data under `Remote::shared_key`:
//! - the key: the last JWKS fetched, as fetched (workers install it);
//! - `#lease`: until when one worker fetches (compare-and-swap), so the
//!   process makes one fetch however many workers want keys;
//! - `#failed`: when a round last failed, so workers waiting on another's
//!   round are answered when it ends, not when their own would have.

use super::{Answer, Call, Host, Level, MAX_BODY};
use crate::authn::{Keys, Provider};
use crate::discovery::{self, Target};
use crate::jwks::{self, Jwks, KeyPolicy};
use crate::keystore::{Attempt, KeyStore, Remote};

/// Beyond the fetch budget, how long a lease outlives a silent fetcher.
const LEASE_GRACE_MS: u64 = 1_000;

const ACCEPT_JSON: &[(&str, &str)] = &[("accept", "application/json")];

/// Who made a call, and so receives its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// The root context (the tick): the round of [`Phase`].
    Root,
    /// A paused request, from its own context (see [`OwnCall`]).
    Request(u32),
}

/// A call made from a paused request's own context, on a host where only a
/// request's own callbacks may act on it: its answer wakes that request.
#[derive(Clone, Copy, Debug)]
struct OwnCall {
    token: u32,
    context_id: u32,
    discovery: bool,
    /// Key generation when the call started: newer keys make its answer moot.
    generation: u64,
}

/// What a fetch round is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Waiting for the discovery document (token of the call).
    Discovery(u32),
    /// Waiting for the JWKS (token of the call).
    Jwks(u32),
}

pub(super) struct KeyFetch {
    pub(super) provider: usize,
    remote: Remote,
    policy: KeyPolicy,
    issuer: String,
    pub(super) keys: KeyStore,
    phase: Phase,
    /// Bumped whenever a round ends (keys, or its final failure; here or on
    /// another worker): requests parked before a bump have had their answer.
    pub(super) settled: u64,
    /// Version of the shared keys last installed.
    shared_cas: Option<u32>,
    /// Version of the shared failure record last read.
    failed_cas: Option<u32>,
    lease_held: bool,
    /// Calls made by paused requests, in flight.
    own: Vec<OwnCall>,
    /// Fetch outcomes not yet counted ([`KeyFetch::take_tally`]).
    tally: Tally,
}

/// What a provider's fetches did since the worker last counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub(super) fetched: u32,
    pub(super) failed: u32,
    /// Keys skipped in the JWKS this worker fetched.
    pub(super) skipped: u32,
}

impl KeyFetch {
    /// The fetch state of a provider with remote keys (`None` for local).
    pub(super) fn new(p: &Provider) -> Option<KeyFetch> {
        let Keys::Remote { remote, policy } = &p.keys else {
            return None;
        };
        Some(KeyFetch {
            provider: p.index,
            remote: (**remote).clone(),
            policy: *policy,
            issuer: p.issuer.clone(),
            keys: KeyStore::new(remote.policy.clone()),
            phase: Phase::Idle,
            settled: 0,
            shared_cas: None,
            failed_cas: None,
            lease_held: false,
            own: Vec::new(),
            tally: Tally::default(),
        })
    }

    /// How long a round may take: a call's timeout, two with discovery.
    pub(super) fn budget_ms(&self) -> u64 {
        let calls = if self.remote.discovery { 2 } else { 1 };
        self.remote.policy.timeout_ms.saturating_mul(calls)
    }

    /// The fetch outcomes since the last call.
    pub(super) fn take_tally(&mut self) -> Tally {
        std::mem::take(&mut self.tally)
    }

    /// Calls of this provider in flight: the round's, and paused requests'.
    pub(super) fn calls_in_flight(&self) -> usize {
        usize::from(self.phase != Phase::Idle).saturating_add(self.own.len())
    }

    pub(super) fn owns(&self, token: u32) -> bool {
        matches!(self.phase, Phase::Discovery(t) | Phase::Jwks(t) if t == token)
            || self.own.iter().any(|c| c.token == token)
    }

    /// Calls of request `context_id` in flight.
    pub(super) fn own_calls(&self, context_id: u32) -> usize {
        self.own
            .iter()
            .filter(|c| c.context_id == context_id)
            .count()
    }

    /// The request is gone: its calls' answers (if the host still delivers
    /// them) only serve the keys, and nobody counts on them.
    pub(super) fn forget(&mut self, context_id: u32) {
        self.own.retain(|c| c.context_id != context_id);
    }

    /// Starts a fetch from the current (the paused request's) context, for a
    /// host where the request can only be woken by its own call's answer.
    /// First takes what other workers shared: no call is made when that
    /// brought new keys, or a round that failed while the request was
    /// arriving ([`KeyFetch::own_calls`] tells whether one was made).
    pub(super) fn start_own(&mut self, host: &mut dyn Host, context_id: u32, now: u64) {
        let generation = self.keys.generation();
        self.sync_from_shared(host, now);
        // Every request that waits costs a call here: from now on the tick
        // refreshes keys before they expire, so requests wait only for the
        // first keys and for a new kid. Not before: shared data has just
        // worked (where it traps, for want of a zone, so would the tick).
        self.keys.fetch_ahead();
        if self.keys.generation() != generation || self.keys.backing_off(now) {
            return;
        }
        if !self.keys.in_flight() {
            // The round is this call: the tick starts no other meanwhile.
            self.keys.start(now);
        }
        let target = self.remote.target.clone();
        let caller = Caller::Request(context_id);
        self.dispatch(host, &target, self.remote.discovery, caller, now);
    }

    pub(super) fn tick(&mut self, host: &mut dyn Host, now: u64) {
        // The host answers every call by its timeout, but never wait forever.
        if self.phase != Phase::Idle {
            if let Some(attempt) = self.keys.expire_stuck(now) {
                self.phase = Phase::Idle;
                self.tally.failed = self.tally.failed.saturating_add(1);
                self.log_failure(host, now, "no answer (the call was lost)");
                self.end_round(host, attempt, now);
            }
        }
        // Reading shared data copies the JWKS: only when keys are wanted
        // (a request waits, or a fetch is due). On ngx_wasm_module without
        // a shm_kv zone a read traps and the instance is replaced: reading
        // on every tick of an idle worker would make that a loop.
        let wanted = self.keys.waiting_since().is_some() || self.keys.due(now);
        if self.phase == Phase::Idle && wanted {
            self.sync_from_shared(host, now);
        }
        if self.phase == Phase::Idle && self.keys.due(now) && self.acquire_lease(host, now) {
            // Another worker may have published and let go of the lease
            // since we read: its keys, then, not a second fetch.
            self.sync_from_shared(host, now);
            if !self.keys.due(now) {
                self.release_lease(host);
                return;
            }
            self.keys.start(now);
            let target = self.remote.target.clone();
            self.dispatch(host, &target, self.remote.discovery, Caller::Root, now);
        }
    }

    /// The answer to call `token` of this fetch ([`KeyFetch::owns`]).
    pub(super) fn on_answer(&mut self, host: &mut dyn Host, token: u32, answer: Answer, now: u64) {
        let (caller, discovery) = match self.own.iter().position(|c| c.token == token) {
            Some(i) => {
                let call = self.own.swap_remove(i);
                // Keys arrived since (another request's call, the tick, another
                // worker): this answer is not needed; the request is woken.
                if self.keys.generation() != call.generation {
                    return;
                }
                (Caller::Request(call.context_id), call.discovery)
            }
            None => {
                let discovery = matches!(self.phase, Phase::Discovery(_));
                self.phase = Phase::Idle;
                (Caller::Root, discovery)
            }
        };
        let body = match answer {
            Answer::Http { status: 200, body } => body,
            Answer::Http { status, .. } => {
                return self.fail(host, now, &format!("HTTP status {status}"))
            }
            Answer::TooLarge(size) => {
                let why = format!("body of {size} bytes exceeds {MAX_BODY}");
                return self.fail(host, now, &why);
            }
            Answer::NoAnswer(why) => return self.fail(host, now, &why),
        };
        if discovery {
            match discovery::parse_document(&body, &self.issuer) {
                Ok(target) => self.dispatch(host, &target, false, caller, now),
                Err(e) => self.fail(host, now, &e.to_string()),
            }
            return;
        }
        match self.parse(host, &body, true) {
            Ok(jwks) => {
                self.tally.fetched = self.tally.fetched.saturating_add(1);
                self.publish(host, &body);
                if self.phase == Phase::Idle {
                    self.keys.succeeded(jwks, now);
                } else {
                    // The tick's call is still out: it stays in flight.
                    self.keys.install(jwks, now);
                }
                self.settled = self.settled.saturating_add(1);
                self.release_lease(host);
            }
            Err(why) => self.fail(host, now, &why),
        }
    }

    /// Sends a call for the discovery document (`discovery`) or the JWKS
    /// at `target`, answered to `caller`.
    fn dispatch(
        &mut self,
        host: &mut dyn Host,
        target: &Target,
        discovery: bool,
        caller: Caller,
        now: u64,
    ) {
        let call = Call {
            cluster: &self.remote.cluster,
            method: "GET",
            target,
            headers: ACCEPT_JSON,
            body: None,
            timeout_ms: self.remote.policy.timeout_ms,
        };
        match (host.dispatch(&call), caller) {
            (Ok(token), Caller::Root) if discovery => self.phase = Phase::Discovery(token),
            (Ok(token), Caller::Root) => self.phase = Phase::Jwks(token),
            (Ok(token), Caller::Request(context_id)) => self.own.push(OwnCall {
                token,
                context_id,
                discovery,
                generation: self.keys.generation(),
            }),
            (Err(e), _) => {
                let why = format!("cannot dispatch to \"{}\": {e}", self.remote.cluster);
                self.fail(host, now, &why);
            }
        }
    }

    /// Reads a fetched (or shared) JWKS: keys this filter cannot use, and
    /// keys the provider's policy drops, are skipped, and named in one
    /// warning when `log` (the worker that fetched it), with weak keys.
    fn parse(&mut self, host: &dyn Host, body: &[u8], log: bool) -> Result<Jwks, String> {
        let text = std::str::from_utf8(body).map_err(|_| "JWKS is not UTF-8".to_owned())?;
        let fetched = jwks::parse_fetched(text).map_err(|e| e.to_string())?;
        let mut skipped = fetched.skipped;
        let kept = self.policy.apply_fetched(fetched.jwks, &mut skipped);
        let named: Vec<String> = skipped.iter().map(ToString::to_string).collect();
        if log {
            let n = u32::try_from(named.len()).unwrap_or(u32::MAX);
            self.tally.skipped = self.tally.skipped.saturating_add(n);
        }
        let keys = kept.map_err(|e| match named.is_empty() {
            true => e.to_string(),
            false => format!("{e} (skipped: {})", named.join("; ")),
        })?;
        if log {
            if !named.is_empty() {
                let msg = format!(
                    "jwt-guard: keys from {}: skipped {} key(s) it cannot use: {}",
                    self.uri(),
                    named.len(),
                    named.join("; ")
                );
                host.log(Level::Warn, &msg);
            }
            for w in jwks::weak_keys(&keys) {
                host.log(Level::Warn, &format!("jwt-guard: fetched keys: {w}"));
            }
        }
        Ok(keys)
    }

    fn uri(&self) -> String {
        format!(
            "{}{}",
            self.remote.target.authority, self.remote.target.path
        )
    }

    fn log_failure(&self, host: &dyn Host, now: u64, why: &str) {
        let stale = if self.keys.keys(now).is_some() {
            "; serving the cached keys"
        } else {
            ""
        };
        let msg = format!(
            "jwt-guard: fetching keys from {} failed: {why}{stale}",
            self.uri()
        );
        host.log(Level::Warn, &msg);
    }

    /// A call failed; its caller's phase is already over.
    fn fail(&mut self, host: &mut dyn Host, now: u64, why: &str) {
        self.tally.failed = self.tally.failed.saturating_add(1);
        self.log_failure(host, now, why);
        let attempt = self.keys.failed(now);
        self.end_round(host, attempt, now);
    }

    /// After a failure: a final one ends the round here and, through shared
    /// data, for the workers waiting on it.
    fn end_round(&mut self, host: &mut dyn Host, attempt: Attempt, now: u64) {
        if attempt == Attempt::Settled {
            self.settled = self.settled.saturating_add(1);
            let key = self.failed_key();
            if host.shared_set(&key, now.to_string().as_bytes(), None) {
                self.failed_cas = host.shared_get(&key).and_then(|(_, cas)| cas);
            }
            self.release_lease(host);
        }
    }

    /// Installs keys another worker published, if newer than ours; ends the
    /// wait of requests here if the round they waited on failed elsewhere.
    fn sync_from_shared(&mut self, host: &mut dyn Host, now: u64) {
        if let Some((Some(value), cas)) = host.shared_get(&self.remote.shared_key) {
            if cas.is_none() || cas != self.shared_cas {
                self.shared_cas = cas;
                if let Ok(jwks) = self.parse(host, &value, false) {
                    self.keys.install(jwks, now);
                    self.settled = self.settled.saturating_add(1);
                }
            }
        }
        let Some(since) = self.keys.waiting_since() else {
            return;
        };
        let Some((Some(value), cas)) = host.shared_get(&self.failed_key()) else {
            return;
        };
        if cas.is_some() && cas == self.failed_cas {
            return;
        }
        self.failed_cas = cas;
        let at = std::str::from_utf8(&value)
            .ok()
            .and_then(|v| v.parse::<u64>().ok());
        // Only a round that ended after these requests began to wait.
        if let Some(at) = at.filter(|at| *at >= since) {
            self.keys.failed_elsewhere(at);
            self.settled = self.settled.saturating_add(1);
        }
    }

    fn publish(&mut self, host: &mut dyn Host, body: &[u8]) {
        if host.shared_set(&self.remote.shared_key, body, None) {
            self.shared_cas = host
                .shared_get(&self.remote.shared_key)
                .and_then(|(_, cas)| cas);
        }
    }

    fn lease_key(&self) -> String {
        format!("{}#lease", self.remote.shared_key)
    }

    fn failed_key(&self) -> String {
        format!("{}#failed", self.remote.shared_key)
    }

    /// One worker fetches at a time: the lease is a deadline in shared data,
    /// taken with compare-and-swap.
    fn acquire_lease(&mut self, host: &mut dyn Host, now: u64) -> bool {
        let key = self.lease_key();
        // A missing lease is created first (never over another worker's),
        // so taking it below is guarded by a version.
        let Some((value, cas)) = super::shared_get_or_create(host, &key, b"0") else {
            return true; // no shared data on this host: fetch alone
        };
        let expires = value
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if expires > now && !self.lease_held {
            return false;
        }
        let until = now
            .saturating_add(self.budget_ms())
            .saturating_add(LEASE_GRACE_MS);
        self.lease_held = host.shared_set(&key, until.to_string().as_bytes(), cas);
        self.lease_held
    }

    fn release_lease(&mut self, host: &mut dyn Host) {
        if self.lease_held {
            host.shared_set(&self.lease_key(), b"0", None);
            self.lease_held = false;
        }
    }
}
