//! The callout worker against a fake host: calls are recorded and answered
//! by the test, time is set by the test, shared data is a map several fake
//! workers can share. Requests go through `rules::evaluate` with the
//! worker's view, as the glue sends them.

mod fetching;
mod introspecting;
mod own_context;
mod replaying;
mod sharing;

use super::*;
use crate::error::Status;
use crate::fixtures::{self, NOW};
use crate::rules::{evaluate, Decision, Denial};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Shared data as a host keeps it: value and version per key.
type Store = Rc<RefCell<HashMap<String, (Vec<u8>, u32)>>>;

/// A call the worker made, not answered yet.
#[derive(Clone, Debug)]
struct Sent {
    token: u32,
    path: String,
    authority: String,
    timeout_ms: u64,
    method: &'static str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

struct FakeHost {
    now: Option<u64>,
    next_token: u32,
    sent: Vec<Sent>,
    shared: Option<Store>,
    logs: RefCell<Vec<(Level, String)>>,
    /// Another worker acting between two host calls of this one: when this
    /// worker takes a lease, these entries appear in shared data first.
    published_on_lease: Vec<(String, Vec<u8>)>,
    /// Another worker writing this key (with this value) just before this
    /// worker's next write to it.
    published_on_write: Option<(String, Vec<u8>)>,
}

impl FakeHost {
    fn new(shared: Option<Store>) -> FakeHost {
        FakeHost {
            now: Some(NOW * 1000),
            next_token: 1,
            sent: Vec::new(),
            shared,
            logs: RefCell::new(Vec::new()),
            published_on_lease: Vec::new(),
            published_on_write: None,
        }
    }

    fn now(&self) -> u64 {
        self.now.expect("the test set no clock")
    }

    fn advance(&mut self, ms: u64) {
        self.now = Some(self.now() + ms);
    }

    fn logged(&self, needle: &str) -> usize {
        self.logs
            .borrow()
            .iter()
            .filter(|(_, m)| m.contains(needle))
            .count()
    }
}

impl Host for FakeHost {
    fn now_ms(&self) -> Option<u64> {
        self.now
    }

    fn dispatch(&mut self, call: &Call<'_>) -> Result<u32, String> {
        let token = self.next_token;
        self.next_token += 1;
        self.sent.push(Sent {
            token,
            path: call.target.path.clone(),
            authority: call.target.authority.clone(),
            timeout_ms: call.timeout_ms,
            method: call.method,
            headers: call
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: call.body.map(<[u8]>::to_vec),
        });
        Ok(token)
    }

    fn shared_get(&self, key: &str) -> Option<Shared> {
        let store = self.shared.as_ref()?.borrow();
        Some(match store.get(key) {
            Some((v, cas)) => (Some(v.clone()), Some(*cas)),
            None => (None, None),
        })
    }

    fn shared_set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> bool {
        let Some(store) = &self.shared else {
            return false;
        };
        let mut store = store.borrow_mut();
        if let Some((k, v)) = self.published_on_write.take_if(|(k, _)| k == key) {
            let version = store.get(&k).map_or(1, |(_, c)| c + 1);
            store.insert(k, (v, version));
        }
        let current = store.get(key).map(|(_, c)| *c);
        if cas.is_some() && cas != current {
            return false;
        }
        let next = current.map_or(1, |c| c + 1);
        store.insert(key.to_owned(), (value.to_vec(), next));
        if key.ends_with("#lease") && value != b"0" {
            for (k, v) in self.published_on_lease.drain(..) {
                let version = store.get(&k).map_or(1, |(_, c)| c + 1);
                store.insert(k, (v, version));
            }
        }
        true
    }

    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }
}

/// A policy whose only rule requires the only provider `p`, which fetches
/// its keys (timeout 2 s), with
/// `remote` fields added to `remote_jwks` (or `discovery` when it has
/// `discovery: true`).
fn policy(remote: Value) -> crate::rules::Policy {
    let discovery = remote.get("discovery").is_some();
    let mut r = fixtures::merged(
        json!({"http_uri": {"uri": "https://idp.test/jwks.json", "cluster": "idp", "timeout": "2s"}}),
        remote,
    );
    if let Some(o) = r.as_object_mut() {
        o.remove("discovery");
    }
    let source = if discovery {
        "discovery"
    } else {
        "remote_jwks"
    };
    fixtures::policy(json!({
        "providers": {"p": {"issuer": "https://idp.test", source: r}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }))
}

fn worker(p: &crate::rules::Policy) -> Worker {
    Worker::new(&p.providers, p.token_cache_entries)
}

/// Two workers of the same policy on one shared-data map.
fn pair(p: &crate::rules::Policy) -> ((Worker, FakeHost), (Worker, FakeHost)) {
    let store: Store = Rc::default();
    (
        (worker(p), FakeHost::new(Some(store.clone()))),
        (worker(p), FakeHost::new(Some(store))),
    )
}

/// A token of the provider's issuer signed with the fixture secret.
fn token(kid: &str) -> String {
    fixtures::hs256(
        json!({"kid": kid}),
        json!({"iss": "https://idp.test", "exp": NOW + 3600}),
    )
}

/// A JWKS body with the fixture secret under each kid.
fn keys(kids: &[&str]) -> Vec<u8> {
    let k = fixtures::b64url(fixtures::SECRET);
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| json!({"kty": "oct", "kid": kid, "k": k}))
        .collect();
    json!({ "keys": keys }).to_string().into_bytes()
}

/// A worker whose first request (context 1, a token of kid "k") waits on
/// the fetch its tick started: one call in flight.
struct Started {
    p: crate::rules::Policy,
    w: Worker,
    host: FakeHost,
    t: String,
}

fn started(remote: Value) -> Started {
    let p = policy(remote);
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    assert!(waits(&send(&mut w, &p, &mut host, 1, &t, &[])));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1);
    Started { p, w, host, t }
}

/// Answers the `i`-th call the host saw.
fn answer(w: &mut Worker, host: &mut FakeHost, i: usize, a: Answer) -> bool {
    let token = host.sent[i].token;
    w.on_response(host, token, a, None)
}

fn ok(body: Vec<u8>) -> Answer {
    Answer::Http { status: 200, body }
}

/// What the glue does with one request: evaluate it (again, for a resumed
/// one, with `done`), park it if it must wait. Returns the decision.
fn send(
    w: &mut Worker,
    p: &crate::rules::Policy,
    host: &mut FakeHost,
    ctx: u32,
    token: &str,
    done: &[Callout],
) -> Decision<'static> {
    let mut headers = fixtures::headers(&[
        (":path", "/"),
        ("authorization", &format!("Bearer {token}")),
    ]);
    let clock = Ms(host.now());
    let decision = {
        let view = w.view(done, &mut *host);
        owned(evaluate(p, &mut headers, clock, &view))
    };
    if let Decision::Wait(callouts) = &decision {
        let now = host.now();
        w.wait(host, ctx, callouts, done.to_vec(), None, now);
    }
    decision
}

/// The request's clock, to the millisecond (as the glue's).
struct Ms(u64);

impl crate::authn::Clock for Ms {
    fn now_ms(&self) -> Option<u64> {
        Some(self.0)
    }
}

/// The decision without borrows of the policy (enough for these tests).
fn owned(d: Decision<'_>) -> Decision<'static> {
    match d {
        Decision::Allow => Decision::Allow,
        Decision::Wait(c) => Decision::Wait(c),
        Decision::Deny(Denial::Authn(s)) => Decision::Deny(Denial::Authn(s)),
        Decision::Deny(Denial::Fault(f)) => Decision::Deny(Denial::Fault(f)),
        Decision::Deny(other) => panic!("no authorize in these policies: {other:?}"),
    }
}

/// Resumes every ready request, as the glue does; returns the decisions.
fn resume(
    w: &mut Worker,
    p: &crate::rules::Policy,
    host: &mut FakeHost,
    token: &str,
) -> Vec<(u32, Decision<'static>)> {
    w.ready(host.now())
        .into_iter()
        .map(|r| (r.context_id, send(w, p, host, r.context_id, token, &r.done)))
        .collect()
}

fn denied(status: Status) -> Decision<'static> {
    Decision::Deny(Denial::Authn(status))
}

fn is(d: &Decision<'_>, want: &Decision<'_>) -> bool {
    format!("{d:?}") == format!("{want:?}")
}

fn waits(d: &Decision<'_>) -> bool {
    matches!(d, Decision::Wait(c) if c == &[Callout::Keys(0)])
}
