//! One introspection provider on one worker (RFC 7662): answers remembered
//! per worker and, through shared data, for the process ([`slot`]); the
//! calls under way, one per token however many requests wait for it
//! (single-flight, here and, through a lease in the token's slot, across
//! workers); and what became of calls that ended, for the requests that
//! waited on them.
//!
//! Where the host lets the root act on a request (Envoy), a request that
//! must wait joins the token's flight and is woken when it ends: the call is
//! made from the context at hand, and if that context ends first (its
//! client left) the flight is made again from the tick. Elsewhere (Kong)
//! each waiting request makes its own call, and shares only the answer.

mod endpoint;
mod sharing;
mod slot;
mod ticking;

use super::{Answer, Call, Host, Level, MAX_BODY};
use crate::authn::{Introspected, Provider};
use crate::discovery::Target;
use crate::introspection::cache::{AnswerCache, Remembered, Verdict};
use crate::introspection::settings::{Endpoint, FailureMode, Settings};
use crate::introspection::{read_answer, Answer as AsAnswer};
use slot::Record;
use std::collections::HashMap;

/// Beyond the call's timeout, how long a call (or another worker's lease)
/// may stay silent before it is taken as lost.
const GRACE_MS: u64 = 1_000;

/// How a call about a token ended.
#[derive(Clone, Debug)]
enum Ended {
    Verdict(Verdict),
    /// No usable answer (5xx, timeout, unreadable): `failure_mode` decides.
    Unavailable,
    /// The endpoint refused our credentials: always refused.
    Refused,
}

/// Where a token's call stands on this worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Our call; its answer comes to the context that made it (`None`: the
    /// root).
    Calling {
        call: u32,
        context: Option<u32>,
        since: u64,
    },
    /// Another worker's call, per its lease in shared data.
    Elsewhere,
    /// To be called (again) from the tick: the context that made the call
    /// ended, or another worker's lease ran out.
    Orphaned,
    /// To be called once the discovery document names the endpoint.
    AwaitingEndpoint,
}

struct Flight {
    key: [u8; 32],
    token: String,
    state: State,
}

/// A call a paused request made from its own context (Kong).
struct OwnCall {
    call: u32,
    context_id: u32,
    key: [u8; 32],
    /// A call for the discovery document, and the token to ask about next.
    then: Option<String>,
}

/// The discovery document's call under way (root mode).
#[derive(Clone, Copy, Debug)]
struct Discovering {
    call: u32,
    context: Option<u32>,
    since: u64,
}

pub(super) struct Introspect {
    pub(super) provider: usize,
    settings: Settings,
    cache: AnswerCache,
    /// Tokens the last evaluation found nothing about: to call for.
    wanted: HashMap<[u8; 32], String>,
    flights: Vec<Flight>,
    own: Vec<OwnCall>,
    /// Calls that ended, for the requests that waited on them (and when).
    ended: HashMap<[u8; 32], (Ended, u64)>,
    /// The endpoint, once known (from the configuration, or discovered).
    endpoint: Option<Target>,
    discovering: Option<Discovering>,
}

impl Introspect {
    pub(super) fn new(p: &Provider) -> Option<Introspect> {
        let settings = (**p.introspection.as_ref()?).clone();
        Some(Introspect {
            provider: p.index,
            cache: AnswerCache::new(settings.max_entries),
            settings,
            wanted: HashMap::new(),
            flights: Vec::new(),
            own: Vec::new(),
            ended: HashMap::new(),
            endpoint: match &p.introspection.as_deref()?.endpoint {
                Endpoint::Fixed(target) => Some(target.clone()),
                Endpoint::Discovered { .. } => None,
            },
            discovering: None,
        })
    }

    /// How long a request may wait: a call, and one more if the first is
    /// lost or its maker leaves (and the discovery document's first).
    pub(super) fn budget_ms(&self) -> u64 {
        let calls = if self.endpoint.is_some() { 2 } else { 3 };
        self.settings
            .timeout_ms
            .saturating_mul(calls)
            .saturating_add(GRACE_MS)
    }

    pub(super) fn owns(&self, call: u32) -> bool {
        self.flights
            .iter()
            .any(|f| matches!(f.state, State::Calling { call: c, .. } if c == call))
            || self.own.iter().any(|c| c.call == call)
            || self.discovering.is_some_and(|d| d.call == call)
    }

    /// Calls this worker has out: about tokens, the discovery document,
    /// and paused requests' own.
    pub(super) fn calls_in_flight(&self) -> usize {
        let calling = self
            .flights
            .iter()
            .filter(|f| matches!(f.state, State::Calling { .. }))
            .count();
        calling
            .saturating_add(self.own.len())
            .saturating_add(usize::from(self.discovering.is_some()))
    }

    pub(super) fn in_flight(&self, key: &[u8; 32]) -> bool {
        self.flights.iter().any(|f| &f.key == key)
    }

    /// What is known of a token. `waited`: the request already waited for
    /// it, so a call ended (or its wait ran out) and no new call is made.
    pub(super) fn lookup(
        &mut self,
        host: &dyn Host,
        key: &[u8; 32],
        token: &str,
        now: u64,
        waited: bool,
    ) -> Introspected {
        if let Some(r) = self.cache.fresh(key, now) {
            return known(&r.verdict);
        }
        if waited {
            return self.after_wait(host, key, now);
        }
        if !self.in_flight(key) {
            if let Some(answer) = self.take_shared(host, key, now) {
                return answer;
            }
            self.wanted.insert(*key, token.to_owned());
        }
        Introspected::Pending
    }

    fn after_wait(&mut self, host: &dyn Host, key: &[u8; 32], now: u64) -> Introspected {
        let ended = match self.ended.get(key) {
            Some((Ended::Verdict(v), _)) => return known(v),
            Some((Ended::Refused, _)) => return Introspected::Unavailable,
            Some((Ended::Unavailable, _)) => true,
            // The wait ran out; another worker may have answered meanwhile.
            None => match self.take_shared(host, key, now) {
                Some(answer) => return answer,
                None => false,
            },
        };
        if self.settings.failure_mode == FailureMode::ServeStale {
            if let Some(Remembered {
                verdict: Verdict::Active(active),
                ..
            }) = self.cache.stale(key, now)
            {
                let why = if ended {
                    "no answer"
                } else {
                    "no answer in time"
                };
                let msg = format!(
                    "jwt-guard: introspection at {} gave {why}: serving a remembered \
                     answer (failure_mode serve_stale)",
                    self.uri()
                );
                host.log(Level::Warn, &msg);
                return Introspected::Active(active.clone());
            }
        }
        Introspected::Unavailable
    }

    /// A parked request waits for `key`: joins its flight, or starts one
    /// (from `context`, the context at hand; `None`: the root), unless
    /// another worker is asking already.
    pub(super) fn join(
        &mut self,
        host: &mut dyn Host,
        key: &[u8; 32],
        context: Option<u32>,
        now: u64,
    ) {
        if self.in_flight(key) {
            return;
        }
        let Some(token) = self.wanted.remove(key) else {
            return;
        };
        let state = if self.lease(host, key, now) {
            match self.ask(host, key, &token, context, now) {
                Some(state) => state,
                None => return,
            }
        } else {
            State::Elsewhere
        };
        self.flights.push(Flight {
            key: *key,
            token,
            state,
        });
    }

    /// Asks about `token` from `context`: at once, or once the discovery
    /// document (asked for now, if it is not already) names the endpoint.
    /// `None` when the host refused a call (the token's wait then ends).
    fn ask(
        &mut self,
        host: &mut dyn Host,
        key: &[u8; 32],
        token: &str,
        context: Option<u32>,
        now: u64,
    ) -> Option<State> {
        if self.endpoint.is_none() {
            self.endpoint_from_shared(host);
        }
        if self.endpoint.is_some() {
            let call = self.post(host, key, token, now)?;
            return Some(State::Calling {
                call,
                context,
                since: now,
            });
        }
        if self.discovering.is_none() {
            match self.fetch_document(host) {
                Ok(call) => {
                    let since = now;
                    self.discovering = Some(Discovering {
                        call,
                        context,
                        since,
                    });
                }
                Err(why) => {
                    self.settle(host, key, Ended::Unavailable, now, &why);
                    return None;
                }
            }
        }
        Some(State::AwaitingEndpoint)
    }

    /// Sends the call; `None` when the host refused it (the token's wait
    /// then ends as unavailable).
    fn post(&mut self, host: &mut dyn Host, key: &[u8; 32], token: &str, now: u64) -> Option<u32> {
        let Some(target) = self.endpoint.clone() else {
            let why = "the introspection endpoint is not known";
            self.settle(host, key, Ended::Unavailable, now, why);
            return None;
        };
        let s = &self.settings;
        let body = s.body(token);
        let mut headers: Vec<(&str, &str)> = vec![
            ("accept", "application/json"),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        if let Some(auth) = s.client.authorization() {
            headers.push(("authorization", auth));
        }
        let call = Call {
            cluster: &s.cluster,
            method: "POST",
            target: &target,
            headers: &headers,
            body: Some(body.as_bytes()),
            timeout_ms: s.timeout_ms,
        };
        match host.dispatch(&call) {
            Ok(call) => Some(call),
            Err(e) => {
                let why = format!("cannot dispatch to \"{}\": {e}", s.cluster);
                self.settle(host, key, Ended::Unavailable, now, &why);
                None
            }
        }
    }

    /// Request `context_id` waits on a call of its own (Kong).
    pub(super) fn start_own(
        &mut self,
        host: &mut dyn Host,
        key: &[u8; 32],
        context_id: u32,
        now: u64,
    ) {
        let Some(token) = self.wanted.remove(key) else {
            return;
        };
        if self.endpoint.is_none() {
            self.endpoint_from_shared(host);
        }
        if self.endpoint.is_none() {
            match self.fetch_document(host) {
                Ok(call) => self.own.push(OwnCall {
                    call,
                    context_id,
                    key: *key,
                    then: Some(token),
                }),
                Err(why) => self.settle(host, key, Ended::Unavailable, now, &why),
            }
            return;
        }
        if let Some(call) = self.post(host, key, &token, now) {
            self.own.push(OwnCall {
                call,
                context_id,
                key: *key,
                then: None,
            });
        }
    }

    pub(super) fn own_calls(&self, context_id: u32) -> usize {
        self.own
            .iter()
            .filter(|c| c.context_id == context_id)
            .count()
    }

    /// Request `context_id` ended: answers to its calls will not arrive.
    pub(super) fn forget(&mut self, context_id: u32) {
        self.own.retain(|c| c.context_id != context_id);
        if self
            .discovering
            .is_some_and(|d| d.context == Some(context_id))
        {
            self.discovering = None; // the tick asks again
        }
        for f in &mut self.flights {
            if matches!(f.state, State::Calling { context: Some(c), .. } if c == context_id) {
                f.state = State::Orphaned;
            }
        }
    }

    /// The answer to `call`, delivered to `context` (`None`: the root),
    /// which makes the calls it leads to.
    pub(super) fn on_answer(
        &mut self,
        host: &mut dyn Host,
        call: u32,
        answer: Answer,
        context: Option<u32>,
        now: u64,
    ) {
        if self.discovering.is_some_and(|d| d.call == call) {
            self.discovering = None;
            return self.on_document(host, answer, context, now);
        }
        let key = if let Some(i) = self.own.iter().position(|c| c.call == call) {
            let own = self.own.swap_remove(i);
            if let Some(token) = own.then {
                return self.on_own_document(host, answer, own.context_id, own.key, &token, now);
            }
            own.key
        } else if let Some(f) = self
            .flights
            .iter()
            .find(|f| matches!(f.state, State::Calling { call: c, .. } if c == call))
        {
            f.key
        } else {
            return;
        };
        let uri = self.uri();
        let (ended, why) = match answer {
            Answer::Http { status: 200, body } => match read_answer(&body) {
                Ok(AsAnswer::Active(active)) => {
                    (Ended::Verdict(Verdict::Active(active)), String::new())
                }
                Ok(AsAnswer::Inactive) => (Ended::Verdict(Verdict::Inactive), String::new()),
                Err(e) => (Ended::Unavailable, e.to_string()),
            },
            Answer::Http {
                status: status @ (401 | 403),
                ..
            } => {
                let msg = format!(
                    "jwt-guard: introspection at {uri} refused the gateway's credentials \
                     (HTTP {status}): a configuration problem (client_id, client_secret, \
                     bearer_token or auth_method); requests are refused"
                );
                host.log(Level::Error, &msg);
                (Ended::Refused, String::new())
            }
            Answer::Http { status, .. } => (Ended::Unavailable, format!("HTTP status {status}")),
            Answer::TooLarge(size) => (
                Ended::Unavailable,
                format!("answer of {size} bytes exceeds {MAX_BODY}"),
            ),
            Answer::NoAnswer(why) => (Ended::Unavailable, why),
        };
        self.settle(host, &key, ended, now, &why);
    }

    /// A call about `key` ended: remembered here and for the other workers,
    /// and the flight is over.
    fn settle(&mut self, host: &mut dyn Host, key: &[u8; 32], ended: Ended, now: u64, why: &str) {
        self.flights.retain(|f| &f.key != key);
        let s = &self.settings;
        // An answer not to be reused (past its `exp`, or `negative_ttl` 0)
        // is still written, stale at once: workers waiting on this call
        // take it, later requests ask again.
        let record = match &ended {
            Ended::Verdict(Verdict::Active(active)) => Record::Answer(
                Remembered::of_active(active.clone(), now, s.max_ttl_ms).unwrap_or(Remembered {
                    verdict: Verdict::Active(active.clone()),
                    fresh_until: now,
                    stale_until: now,
                }),
            ),
            Ended::Verdict(Verdict::Inactive) => {
                Record::Answer(Remembered::inactive(now, s.negative_ttl_ms))
            }
            Ended::Unavailable => {
                let msg = format!("jwt-guard: introspection at {} failed: {why}", self.uri());
                host.log(Level::Warn, &msg);
                Record::Failed {
                    at: now,
                    refused: false,
                }
            }
            Ended::Refused => Record::Failed {
                at: now,
                refused: true,
            },
        };
        let record = match record {
            // No cache: the answer reaches the workers waiting on this call,
            // and no later request.
            Record::Answer(mut r) if s.max_entries == 0 => {
                r.fresh_until = now;
                r.stale_until = now;
                Record::Answer(r)
            }
            other => other,
        };
        if let Record::Answer(r) = &record {
            if now < r.fresh_until {
                self.cache.insert(*key, r.clone());
            }
        }
        host.shared_set(&self.slot_name(key), &slot::write(key, &record), None);
        self.ended.insert(*key, (ended, now));
    }
}

fn known(v: &Verdict) -> Introspected {
    match v {
        Verdict::Active(active) => Introspected::Active(active.clone()),
        Verdict::Inactive => Introspected::Inactive,
    }
}
