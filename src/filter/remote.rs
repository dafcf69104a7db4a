//! Remote keys in the glue: one key store per remote provider, fetched with
//! `dispatch_http_call` from the root context (so every answer comes back to
//! it), shared across worker threads through proxy-wasm shared data under a
//! lease, and paused requests resumed when their keys arrive or fail.

use super::log;
use crate::authn::{Availability, Keys, Runtime};
use crate::cache::{Hit, TokenCache};
use crate::discovery::{self, Target};
use crate::jwks;
use crate::jwks::KeyPolicy;
use crate::keystore::Remote;
use crate::keystore::{Attempt, KeyStore, MAX_BODY};
use crate::rules::Policy;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType};
use std::cell::RefCell;
use std::time::Duration;

/// What a store's current fetch is doing.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    /// Waiting for the discovery document (token of the call).
    Discovery(u32),
    /// Waiting for the JWKS (token of the call).
    Jwks(u32),
}

/// One remote provider's keys on this worker.
pub struct Store {
    provider: usize,
    remote: Remote,
    policy: KeyPolicy,
    issuer: String,
    keys: KeyStore,
    phase: Phase,
    /// Bumped when a fetch ends (keys or final failure): waiters registered
    /// before a bump are answered with what is there.
    settled: u64,
    /// Shared-data version last installed from.
    shared_cas: Option<u32>,
    lease_held: bool,
}

/// A paused request and, per provider it waits for, the store's `settled`
/// value when it started waiting.
struct Waiter {
    context_id: u32,
    waits: Vec<(usize, u64)>,
}

/// All mutable state of one root context (one worker, one plugin config):
/// remote keys, paused requests, and the verified-token cache.
#[derive(Default)]
pub struct Worker {
    stores: Vec<Store>,
    waiters: Vec<Waiter>,
    cache: TokenCache,
}

fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Worker {
    pub fn new(config: &Policy) -> Worker {
        let stores = config
            .providers
            .iter()
            .filter_map(|p| match &p.keys {
                Keys::Remote { remote, policy } => Some(Store {
                    provider: p.index,
                    remote: (**remote).clone(),
                    policy: *policy,
                    issuer: p.issuer.clone(),
                    keys: KeyStore::new(remote.policy.clone()),
                    phase: Phase::Idle,
                    settled: 0,
                    shared_cas: None,
                    lease_held: false,
                }),
                Keys::Local(_) => None,
            })
            .collect();
        Worker {
            stores,
            waiters: Vec::new(),
            cache: TokenCache::new(config.token_cache_entries),
        }
    }

    /// Remote providers need the root's tick to fetch and share keys.
    pub fn needs_ticks(&self) -> bool {
        !self.stores.is_empty()
    }

    /// Parks a request until the given providers' fetches end.
    pub fn wait(&mut self, context_id: u32, providers: &[usize]) {
        let now = now_ms();
        let mut waits = Vec::with_capacity(providers.len());
        for s in self
            .stores
            .iter_mut()
            .filter(|s| providers.contains(&s.provider))
        {
            s.keys.mark_waiting(now);
            waits.push((s.provider, s.settled));
        }
        self.waiters.push(Waiter { context_id, waits });
    }

    /// Requests whose every awaited fetch has ended since they paused, with
    /// what they waited from.
    pub fn ready_waiters(&mut self) -> Vec<(u32, Vec<(usize, u64)>)> {
        let stores = &self.stores;
        let settled = |w: &Waiter| {
            w.waits.iter().all(|(p, at)| {
                stores
                    .iter()
                    .find(|s| s.provider == *p)
                    .is_none_or(|s| s.settled > *at)
            })
        };
        let (ready, waiting): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(settled);
        self.waiters = waiting;
        ready.into_iter().map(|w| (w.context_id, w.waits)).collect()
    }

    /// Periodic work: pick up keys other workers fetched, start due fetches.
    pub fn tick(&mut self) {
        let now = now_ms();
        for s in &mut self.stores {
            // The host answers every dispatch, but never wait forever.
            if s.phase != Phase::Idle {
                if let Some(attempt) = s.keys.expire_stuck(now) {
                    s.phase = Phase::Idle;
                    s.end_round(attempt);
                }
            }
            // Only when keys are wanted: reading shared data copies the JWKS.
            if s.phase == Phase::Idle && (s.keys.keys(now).is_none() || s.keys.due(now)) {
                s.sync_from_shared(now);
            }
            if s.phase == Phase::Idle && s.keys.due(now) && s.acquire_lease(now) {
                s.keys.start(now);
                let target = s.remote.target.clone();
                let phase = if s.remote.discovery {
                    Phase::Discovery as fn(u32) -> Phase
                } else {
                    Phase::Jwks
                };
                s.dispatch(&target, phase, now);
            }
        }
    }

    /// A fetch answered (or failed: no `:status`). Returns true if it was ours.
    pub fn on_response(&mut self, token: u32, body_size: usize) -> bool {
        let now = now_ms();
        let Some(s) = self
            .stores
            .iter_mut()
            .find(|s| matches!(s.phase, Phase::Discovery(t) | Phase::Jwks(t) if t == token))
        else {
            return false;
        };
        let discovery = matches!(s.phase, Phase::Discovery(_));
        s.phase = Phase::Idle;
        let body = match response_body(body_size) {
            Ok(b) => b,
            Err(why) => {
                s.fail(now, &why);
                return true;
            }
        };
        if discovery {
            match discovery::parse_document(&body, &s.issuer) {
                Ok(target) => s.dispatch(&target, Phase::Jwks, now),
                Err(e) => s.fail(now, &e.to_string()),
            }
            return true;
        }
        match parse_keys(&body, s.policy) {
            Ok(jwks) => {
                s.publish(&body);
                s.keys.succeeded(jwks, now);
                s.settled = s.settled.saturating_add(1);
                s.release_lease();
            }
            Err(why) => s.fail(now, &why),
        }
        true
    }

    /// The view evaluation uses: `pending` collects providers to wait for.
    pub fn view<'a>(&'a mut self, waiting_since: &'a [(usize, u64)]) -> View<'a> {
        View {
            worker: RefCell::new(self),
            waiting_since,
            pending: RefCell::new(Vec::new()),
        }
    }
}

fn response_body(body_size: usize) -> Result<Vec<u8>, String> {
    let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
        .ok()
        .flatten();
    match status.as_deref() {
        Some("200") => {}
        Some(other) => return Err(format!("HTTP status {other}")),
        // Kong reports dispatch failures with no headers at all.
        None => return Err("no response (connection or timeout failure)".to_owned()),
    }
    if body_size > MAX_BODY {
        return Err(format!("body of {body_size} bytes exceeds {MAX_BODY}"));
    }
    match hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size) {
        Ok(b) => Ok(b.unwrap_or_default()),
        Err(e) => Err(format!("cannot read the body: {e:?}")),
    }
}

fn parse_keys(body: &[u8], policy: KeyPolicy) -> Result<jwks::Jwks, String> {
    let text = std::str::from_utf8(body).map_err(|_| "JWKS is not UTF-8".to_owned())?;
    let parsed = jwks::parse(text).map_err(|e| e.to_string())?;
    let keys = policy.apply(parsed).map_err(|e| e.to_string())?;
    for w in crate::jwks::weak_keys(&keys) {
        log(LogLevel::Warn, &format!("jwt-guard: fetched keys: {w}"));
    }
    Ok(keys)
}

impl Store {
    fn dispatch(&mut self, target: &Target, phase: fn(u32) -> Phase, now: u64) {
        let headers = vec![
            (":method", "GET"),
            (":path", target.path.as_str()),
            (":authority", target.authority.as_str()),
            (":scheme", target.scheme.as_str()),
            ("accept", "application/json"),
        ];
        let timeout = Duration::from_millis(self.remote.policy.timeout_ms);
        match hostcalls::dispatch_http_call(&self.remote.cluster, headers, None, vec![], timeout) {
            Ok(token) => self.phase = phase(token),
            Err(e) => self.fail(
                now,
                &format!("cannot dispatch to \"{}\": {e:?}", self.remote.cluster),
            ),
        }
    }

    fn fail(&mut self, now: u64, why: &str) {
        self.phase = Phase::Idle;
        let stale = self.keys.keys(now).is_some();
        log(
            LogLevel::Warn,
            &format!(
                "jwt-guard: fetching keys from {}{} failed: {why}{}",
                self.remote.target.authority,
                self.remote.target.path,
                if stale {
                    "; serving the cached keys"
                } else {
                    ""
                }
            ),
        );
        let attempt = self.keys.failed(now);
        self.end_round(attempt);
    }

    /// After a failure: a final one releases the lease and answers waiters.
    fn end_round(&mut self, attempt: Attempt) {
        if attempt == Attempt::Settled {
            self.settled = self.settled.saturating_add(1);
            self.release_lease();
        }
    }

    /// Installs keys another worker published, if newer than ours.
    fn sync_from_shared(&mut self, now: u64) {
        let Ok((Some(value), cas)) = hostcalls::get_shared_data(&self.remote.shared_key) else {
            return;
        };
        if cas.is_some() && cas == self.shared_cas {
            return;
        }
        self.shared_cas = cas;
        if let Ok(jwks) = parse_keys(&value, self.policy) {
            self.keys.install(jwks, now);
            self.settled = self.settled.saturating_add(1);
        }
    }

    fn publish(&mut self, body: &[u8]) {
        if hostcalls::set_shared_data(&self.remote.shared_key, Some(body), None).is_ok() {
            if let Ok((_, cas)) = hostcalls::get_shared_data(&self.remote.shared_key) {
                self.shared_cas = cas;
            }
        }
    }

    fn lease_key(&self) -> String {
        format!("{}#lease", self.remote.shared_key)
    }

    /// One worker fetches at a time: the lease is a deadline in shared data,
    /// taken with compare-and-swap.
    fn acquire_lease(&mut self, now: u64) -> bool {
        let key = self.lease_key();
        let (value, cas) = match hostcalls::get_shared_data(&key) {
            Ok(v) => v,
            Err(_) => return true, // no shared data on this host: fetch alone
        };
        let expires = value
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if expires > now && !self.lease_held {
            return false;
        }
        let until = now
            .saturating_add(self.remote.policy.timeout_ms)
            .saturating_add(1_000);
        // A missing key has no version; `Some(0)` would not guard it, so
        // create it first and take it with the version we then read.
        let cas = match cas {
            Some(c) => Some(c),
            None => {
                let _ = hostcalls::set_shared_data(&key, Some(b"0"), None);
                match hostcalls::get_shared_data(&key) {
                    Ok((_, c)) => c,
                    Err(_) => return true,
                }
            }
        };
        let ok = hostcalls::set_shared_data(&key, Some(until.to_string().as_bytes()), cas).is_ok();
        self.lease_held = ok;
        ok
    }

    fn release_lease(&mut self) {
        if self.lease_held {
            let _ = hostcalls::set_shared_data(&self.lease_key(), Some(b"0"), None);
            self.lease_held = false;
        }
    }
}

/// The request's view of remote keys during one evaluation.
pub struct View<'a> {
    worker: RefCell<&'a mut Worker>,
    /// For a resumed request: the `settled` values it waited from. A store
    /// settled since then has had its chance: no more waiting on it.
    waiting_since: &'a [(usize, u64)],
    pending: RefCell<Vec<usize>>,
}

impl View<'_> {
    /// Providers this evaluation must wait for.
    pub fn pending(&self) -> Vec<usize> {
        self.pending.borrow().clone()
    }

    fn may_wait(&self, store: &Store) -> bool {
        !self
            .waiting_since
            .iter()
            .any(|(p, at)| *p == store.provider && store.settled > *at)
    }
}

impl Runtime for View<'_> {
    fn remote_keys(&self, provider: usize) -> Availability {
        let mut worker = self.worker.borrow_mut();
        let Some(store) = worker.stores.iter_mut().find(|s| s.provider == provider) else {
            return Availability::Unavailable;
        };
        let now = now_ms();
        if !store.keys.fresh(now) {
            // Expired but still served (stale-if-error): refresh meanwhile.
            store.keys.mark_waiting(now);
        }
        if let Some(keys) = store.keys.keys(now) {
            return Availability::Ready(keys.clone(), store.keys.generation());
        }
        // The last round failed moments ago: answer now, don't queue up.
        if store.keys.backing_off(now) {
            return Availability::Unavailable;
        }
        if self.may_wait(store) {
            self.pending.borrow_mut().push(provider);
            Availability::Pending
        } else {
            Availability::Unavailable
        }
    }

    fn cached(&self, token: &str) -> Option<Hit> {
        self.worker.borrow().cache.get(token)
    }

    fn remember(&self, token: &str, hit: Hit) {
        self.worker.borrow_mut().cache.insert(token, hit);
    }

    fn unknown_kid(&self, provider: usize) -> bool {
        let mut worker = self.worker.borrow_mut();
        let Some(store) = worker.stores.iter_mut().find(|s| s.provider == provider) else {
            return false;
        };
        if !self.may_wait(store) {
            return false;
        }
        let granted = store.keys.unknown_kid(now_ms());
        if granted {
            self.pending.borrow_mut().push(provider);
        }
        granted
    }
}
