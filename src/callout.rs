//! The callout worker: everything one worker does that waits on an HTTP
//! call, as a pure state machine behind a small [`Host`] (time, dispatch,
//! shared data, log). The glue adapts proxy-wasm to `Host`; the tests use a
//! fake one.
//!
//! A request that cannot be decided until a callout ends is parked here
//! ([`Worker::wait`]) with what it waits for ([`Callout`]). Calls are
//! started from ticks and their answers routed by token ([`Worker::tick`],
//! [`Worker::on_response`]); a callout *settles* when its round ends, with
//! keys or with a final failure, on this worker or, through shared data, on
//! another. [`Worker::ready`] then hands the parked requests back, also
//! those that waited a full fetch budget, so no request waits longer than
//! its fetch timeout whichever worker holds the fetch.
//!
//! Requests wait in one of two ways, as the host allows:
//! - parked ([`Worker::wait`]): the tick makes one fetch per provider for
//!   all of them (and, through a lease in shared data, for the process), and
//!   the glue resumes them from the root context when [`Worker::ready`] says
//!   so (Envoy);
//! - on a call of their own ([`Worker::wait_own`]): where only a request's
//!   own callbacks may act on it (Kong's ngx_wasm_module has no
//!   effective-context switch), each waiting request makes the fetch from
//!   its own context, and its answer wakes it ([`Worker::own_calls`] tells
//!   when the last one ended). Keys are still shared: a request takes what
//!   another worker published before calling, and an answer that arrives
//!   after newer keys is not read.
//!
//! Two kinds of callouts: a provider's remote keys (`remote_jwks`, or
//! `discovery` and then its `jwks_uri`), one [`keys::KeyFetch`] each; and
//! token introspection (RFC 7662), one [`introspect::Introspect`] per
//! introspection provider, with a flight per token.

mod introspect;
mod keys;
mod replay;
mod view;
mod waiters;

pub use view::View;

use crate::authn::{Callout, Providers};
use crate::cache::TokenCache;
use crate::decision_log::Verbosity;
use crate::discovery::Target;
use crate::metrics::{Counts, KeyEvent, Layout};
use introspect::Introspect;
use keys::KeyFetch;
use waiters::Waiters;

/// Largest answer body read; a bigger one fails the call unread.
pub const MAX_BODY: usize = 1 << 20;

/// Beyond a fetch's budget, how long a parked request may wait: the fetch
/// starts on the tick after the request parked (every 20 ms in the glue).
const WAIT_SLACK_MS: u64 = 50;

/// A log line's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// One HTTP call to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    /// The upstream: an Envoy cluster name, or `host:port` on Kong.
    pub cluster: &'a str,
    pub method: &'static str,
    pub target: &'a Target,
    /// Request headers beyond the pseudo-headers of `method` and `target`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a [u8]>,
    pub timeout_ms: u64,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The upstream answered with this status and body.
    Http { status: u16, body: Vec<u8> },
    /// The body was larger than [`MAX_BODY`] (not read).
    TooLarge(usize),
    /// No answer: connection failure, reset, timeout, or a dispatch the
    /// host failed (Kong reports those with no headers). Why, for the log.
    NoAnswer(String),
}

/// A shared-data value (absent: `None`) and its version.
pub type Shared = (Option<Vec<u8>>, Option<u32>);

/// What the worker needs from its host.
pub trait Host {
    /// Milliseconds since the epoch; `None` when the host cannot tell.
    fn now_ms(&self) -> Option<u64>;
    /// Sends a call; its answer comes back through [`Worker::on_response`]
    /// with the token returned here.
    fn dispatch(&mut self, call: &Call<'_>) -> Result<u32, String>;
    /// A shared-data value and its version; `None` when the host has no
    /// shared data (each worker then fetches on its own).
    fn shared_get(&self, key: &str) -> Option<Shared>;
    /// Sets `key` if its version is still `cas` (`None`: whatever it is);
    /// false when the host refused.
    fn shared_set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> bool;
    fn log(&self, level: Level, message: &str);
}

/// Reads `key`, creating it as `empty` first when it is missing, so what
/// comes back has a version a compare-and-set can guard. Creating never
/// overwrites what another worker wrote meanwhile: a version no value has
/// refuses the write if the key exists (a host that refuses that for a
/// missing key too gets a plain write, racing only with another creation
/// of the same empty value). `None`: the host has no shared data.
pub(crate) fn shared_get_or_create(host: &mut dyn Host, key: &str, empty: &[u8]) -> Option<Shared> {
    let read = host.shared_get(key)?;
    if read.0.is_some() {
        return Some(read);
    }
    if !host.shared_set(key, empty, Some(u32::MAX))
        && matches!(host.shared_get(key), Some((None, _)))
    {
        host.shared_set(key, empty, None);
    }
    host.shared_get(key)
}

/// A parked request to evaluate again: every callout it waited for has
/// settled, or it waited its full budget. `done` lists the callouts it must
/// not wait for again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    pub context_id: u32,
    pub done: Vec<Callout>,
}

/// All mutable state of one worker for one configuration: its remote key
/// fetches, its introspections, its parked requests and its
/// verified-token cache.
#[derive(Default)]
pub struct Worker {
    fetches: Vec<KeyFetch>,
    introspections: Vec<Introspect>,
    waiters: Waiters,
    cache: TokenCache,
    /// The DPoP replay store's slots, where the host has no shared data.
    replay: replay::Local,
    /// Keys of DPoP proofs that verified on this worker.
    proof_keys: crate::dpop::keys::ProofKeys,
    /// Metric counts not yet handed to the host.
    counts: Counts,
    /// Whether denials go to the log.
    log: Verbosity,
}

impl Worker {
    /// The worker for these providers, with a verified-token cache of
    /// `token_cache_entries` (`rules::Policy` holds both).
    pub fn new(providers: &Providers, token_cache_entries: usize) -> Worker {
        Worker {
            fetches: providers.iter().filter_map(KeyFetch::new).collect(),
            introspections: providers.iter().filter_map(Introspect::new).collect(),
            waiters: Waiters::default(),
            cache: TokenCache::new(token_cache_entries),
            replay: replay::Local::default(),
            proof_keys: crate::dpop::keys::proof_keys(),
            counts: Counts::default(),
            log: Verbosity::Off,
        }
    }

    /// Counts into the metrics of `layout` (without, nothing is counted).
    pub fn count_into(&mut self, layout: Layout) {
        self.counts = Counts::new(layout);
    }

    /// Logs the decisions `log` covers ([`crate::decision_log`]).
    pub fn log_decisions(&mut self, log: Verbosity) {
        self.log = log;
    }

    /// This worker's callouts in flight, as [`Worker::counts`] last saw.
    pub fn callouts_in_flight(&self) -> u64 {
        self.counts.callouts_in_flight()
    }

    /// The counts since the last call, as `(slot, delta)` of the layout
    /// given to [`Worker::count_into`]: fetch outcomes, the change in
    /// callouts in flight, and what requests counted.
    pub fn counts(&mut self) -> impl Iterator<Item = (usize, i64)> + '_ {
        let mut in_flight = 0usize;
        for f in &mut self.fetches {
            let t = f.take_tally();
            self.counts.keys(f.provider, KeyEvent::Fetched(t.fetched));
            self.counts.keys(f.provider, KeyEvent::Failed(t.failed));
            self.counts.keys(f.provider, KeyEvent::Skipped(t.skipped));
            in_flight = in_flight.saturating_add(f.calls_in_flight());
        }
        for i in &self.introspections {
            in_flight = in_flight.saturating_add(i.calls_in_flight());
        }
        self.counts.in_flight(in_flight);
        self.counts.drain()
    }

    /// Remote keys need the root's tick to fetch and share them;
    /// introspection, to pick up other workers' answers and lost calls.
    pub fn needs_ticks(&self) -> bool {
        !self.fetches.is_empty() || !self.introspections.is_empty()
    }

    /// Periodic work: expire lost calls, pick up what other workers fetched
    /// or lost, start the fetches that are due.
    pub fn tick(&mut self, host: &mut dyn Host) {
        let Some(now) = host.now_ms() else {
            // No time, no schedule: requests are refused meanwhile (their
            // own clock read fails too).
            return;
        };
        for f in &mut self.fetches {
            f.tick(host, now);
        }
        for i in &mut self.introspections {
            i.tick(host, now);
        }
    }

    /// A call answered, delivered to `context` (`None`: the root), which
    /// makes any call the answer leads to. Returns whether it was ours.
    pub fn on_response(
        &mut self,
        host: &mut dyn Host,
        token: u32,
        answer: Answer,
        context: Option<u32>,
    ) -> bool {
        // Without a clock the call still ends; keys or answers taken "at
        // time 0" are long expired, so nothing is ever served from them.
        let now = host.now_ms().unwrap_or(0);
        if let Some(f) = self.fetches.iter_mut().find(|f| f.owns(token)) {
            f.on_answer(host, token, answer, now);
            return true;
        }
        if let Some(i) = self.introspections.iter_mut().find(|i| i.owns(token)) {
            i.on_answer(host, token, answer, context, now);
            return true;
        }
        false
    }

    /// Makes request `context_id` wait on calls of its own for `callouts`,
    /// dispatched now from the current context (which must be that
    /// request's). Returns how many are in flight; for a callout with none
    /// (keys came from another worker meanwhile, a round just failed, the
    /// call could not be sent) the request is evaluated again at once.
    pub fn wait_own(
        &mut self,
        host: &mut dyn Host,
        context_id: u32,
        callouts: &[Callout],
        now: u64,
    ) -> usize {
        for c in callouts {
            match *c {
                Callout::Keys(provider) => {
                    if let Some(f) = self.fetch_mut(provider) {
                        f.start_own(host, context_id, now);
                    }
                }
                Callout::Introspect { provider, key } => {
                    if let Some(i) = self.introspection_mut(provider) {
                        i.start_own(host, &key, context_id, now);
                    }
                }
            }
        }
        self.own_calls(context_id)
    }

    /// Calls of request `context_id` still in flight ([`Worker::wait_own`]);
    /// once none are, it is evaluated again.
    pub fn own_calls(&self, context_id: u32) -> usize {
        let keys: usize = self.fetches.iter().map(|f| f.own_calls(context_id)).sum();
        let introspections: usize = self
            .introspections
            .iter()
            .map(|i| i.own_calls(context_id))
            .sum();
        keys.saturating_add(introspections)
    }

    /// Request `context_id` ended (answered, or its client left): nothing
    /// waits on its calls any more, and their answers will not arrive
    /// (introspections others wait for are made again from the tick).
    pub fn forget(&mut self, context_id: u32) {
        for f in &mut self.fetches {
            f.forget(context_id);
        }
        for i in &mut self.introspections {
            i.forget(context_id);
        }
    }

    /// Parks a request until `callouts` settle (or their budget runs out).
    /// `done`: callouts it already waited for, not to be waited on again.
    /// Introspections it needs are asked for now, from `context` (the
    /// context whose callback runs; `None`: the root), which then receives
    /// the answer.
    pub fn wait(
        &mut self,
        host: &mut dyn Host,
        context_id: u32,
        callouts: &[Callout],
        done: Vec<Callout>,
        context: Option<u32>,
        now: u64,
    ) {
        let mut waits = Vec::with_capacity(callouts.len());
        let mut budget = 0u64;
        for c in callouts {
            match *c {
                Callout::Keys(provider) => {
                    if let Some(f) = self.fetch_mut(provider) {
                        f.keys.mark_waiting(now);
                        waits.push((*c, f.settled));
                        budget = budget.max(f.budget_ms());
                    }
                }
                Callout::Introspect { provider, key } => {
                    if let Some(i) = self.introspection_mut(provider) {
                        i.join(host, &key, context, now);
                        // Settled once no flight for the key is left.
                        waits.push((*c, 0));
                        budget = budget.max(i.budget_ms());
                    }
                }
            }
        }
        let deadline = now.saturating_add(budget).saturating_add(WAIT_SLACK_MS);
        self.waiters.park(context_id, waits, done, deadline);
    }

    /// Parked requests whose callouts have all settled, or whose budget ran
    /// out, removed from the parking list.
    pub fn ready(&mut self, now: u64) -> Vec<Resume> {
        let fetches = &self.fetches;
        let introspections = &self.introspections;
        let settled = |c: Callout| match c {
            Callout::Keys(provider) => fetches
                .iter()
                .find(|f| f.provider == provider)
                .map(|f| f.settled),
            Callout::Introspect { provider, key } => introspections
                .iter()
                .find(|i| i.provider == provider && i.in_flight(&key))
                .map(|_| 0),
        };
        self.waiters.ready(now, settled)
    }

    /// Requests parked now.
    pub fn parked(&self) -> usize {
        self.waiters.len()
    }

    /// What one evaluation sees: remote keys, the token cache and
    /// introspection answers (shared data read through `host`). `done`:
    /// callouts this request must not wait for again ([`Resume::done`]).
    pub fn view<'a>(&'a mut self, done: &'a [Callout], host: &'a mut dyn Host) -> View<'a> {
        View::new(self, done, host)
    }

    fn fetch_mut(&mut self, provider: usize) -> Option<&mut KeyFetch> {
        self.fetches.iter_mut().find(|f| f.provider == provider)
    }

    fn introspection_mut(&mut self, provider: usize) -> Option<&mut Introspect> {
        self.introspections
            .iter_mut()
            .find(|i| i.provider == provider)
    }
}

#[cfg(test)]
mod tests;
