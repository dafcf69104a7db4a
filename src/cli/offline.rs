//! The runtime `explain` evaluates a request with: remote keys and
//! introspection answers from files (or fetched once with `--fetch`), no
//! token cache (one request), a DPoP replay store in memory, and every
//! event the evaluation reports kept as a [`Step`].

use crate::authn::dpop::Replay;
use crate::authn::{Availability, Introspected, Runtime};
use crate::claims::Object;
use crate::dpop::keys::ProofKey;
use crate::error::Status;
use crate::extract::{Extractor, Source};
use crate::introspection::cache::Active;
use crate::jwks::Jwks;
use crate::rules::{Policy, Verifier};
use crate::trace::{Check, Event};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// What an introspection file says of the token.
#[derive(Clone, Debug)]
pub enum Answer {
    Active(Rc<Active>),
    Inactive,
}

/// One step of the evaluation, owned (events borrow the evaluation).
#[derive(Clone, Debug)]
pub enum Step {
    CorsPreflight,
    Rule(Option<usize>),
    Enter {
        depth: usize,
        node: String,
    },
    Leave {
        depth: usize,
        node: String,
        result: Option<Result<(), Status>>,
    },
    NoToken,
    /// Where the token was found.
    Token(String),
    Decoded {
        cached: bool,
        jwt: Decoded,
    },
    Provider(String),
    Passed(Check),
    Checked {
        provider: Option<String>,
        result: Result<(), Status>,
    },
    /// A provider's remote keys were needed and none were given.
    NoKeys(String),
    /// An introspection answer was needed and none was given.
    NoAnswer(String),
    Decided {
        reason: Option<&'static str>,
        provider: Option<String>,
        kid: Option<String>,
    },
}

/// What `explain` shows of a decoded token: its header's alg and kid, and
/// the registered claims the checks read.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub alg: &'static str,
    pub kid: Option<String>,
    pub iss: String,
    pub audiences: Vec<String>,
    pub exp: u64,
    pub nbf: u64,
}

/// A verified token, as the decision reports it.
#[derive(Clone, Debug)]
pub struct Verified {
    pub provider: usize,
    pub claims: Rc<Object>,
}

#[derive(Default)]
struct Trace {
    steps: Vec<Step>,
    /// The extractors of the requirement nodes under way (leaves only).
    extractors: Vec<Option<Extractor>>,
    verified: Vec<Verified>,
    /// The root requirement passed (its `Leave` at depth 0).
    root_passed: bool,
    noted: Vec<(bool, usize)>,
}

pub struct Offline<'p> {
    policy: &'p Policy,
    keys: Vec<Option<Arc<Jwks>>>,
    answers: Vec<Option<Answer>>,
    replay: RefCell<Vec<(String, String)>>,
    proof_keys: RefCell<Vec<(String, Rc<ProofKey>)>>,
    trace: RefCell<Trace>,
}

/// What an evaluation left: its steps, verified tokens, and whether the
/// requirement passed.
pub struct Run {
    pub steps: Vec<Step>,
    pub verified: Vec<Verified>,
    pub root_passed: bool,
}

impl<'p> Offline<'p> {
    /// `keys` and `answers` are indexed by provider.
    pub fn new(
        policy: &'p Policy,
        keys: Vec<Option<Arc<Jwks>>>,
        answers: Vec<Option<Answer>>,
    ) -> Self {
        Offline {
            policy,
            keys,
            answers,
            replay: RefCell::default(),
            proof_keys: RefCell::default(),
            trace: RefCell::default(),
        }
    }

    pub fn finish(self) -> Run {
        let t = self.trace.into_inner();
        Run {
            steps: t.steps,
            verified: t.verified,
            root_passed: t.root_passed,
        }
    }

    fn name(&self, provider: usize) -> String {
        self.policy
            .providers
            .get(provider)
            .map_or_else(|| format!("#{provider}"), |p| p.name.clone())
    }

    fn push(&self, step: Step) {
        self.trace.borrow_mut().steps.push(step);
    }

    /// Notes a missing file once per provider.
    fn note_missing(&self, introspection: bool, provider: usize) {
        let first = {
            let mut t = self.trace.borrow_mut();
            let first = !t.noted.contains(&(introspection, provider));
            t.noted.push((introspection, provider));
            first
        };
        if first {
            let name = self.name(provider);
            self.push(if introspection {
                Step::NoAnswer(name)
            } else {
                Step::NoKeys(name)
            });
        }
    }

    /// A requirement node as the config writes it.
    fn describe(&self, v: &Verifier) -> String {
        match v {
            Verifier::Provider {
                provider,
                audiences: None,
                ..
            } => {
                format!("provider_name {}", self.name(*provider))
            }
            Verifier::Provider { provider, .. } => {
                format!("provider_and_audiences {}", self.name(*provider))
            }
            Verifier::AllowMissing { .. } => "allow_missing".to_owned(),
            Verifier::AllowFailed { .. } => "allow_missing_or_failed".to_owned(),
            Verifier::Any { children, .. } => format!("requires_any ({} branches)", children.len()),
            Verifier::All(children) => format!("requires_all ({} requirements)", children.len()),
            Verifier::AllowAll => "(none)".to_owned(),
        }
    }
}

fn extractor(v: &Verifier) -> Option<Extractor> {
    match v {
        Verifier::Provider { extractor, .. }
        | Verifier::AllowMissing { extractor }
        | Verifier::AllowFailed { extractor } => Some(extractor.clone()),
        Verifier::Any { .. } | Verifier::All(_) | Verifier::AllowAll => None,
    }
}

fn decoded(jwt: &crate::jwt::Jwt, cached: bool) -> Step {
    Step::Decoded {
        cached,
        jwt: Decoded {
            alg: jwt.alg.name(),
            kid: jwt.kid.clone(),
            iss: jwt.iss.clone(),
            audiences: jwt.audiences.clone(),
            exp: jwt.exp,
            nbf: jwt.nbf,
        },
    }
}

impl Runtime for Offline<'_> {
    fn remote_keys(&self, provider: usize, _now_ms: u64) -> Availability {
        match self.keys.get(provider).cloned().flatten() {
            Some(jwks) => Availability::Ready(jwks, 1),
            None => {
                self.note_missing(false, provider);
                Availability::Unavailable
            }
        }
    }

    fn unknown_kid(&self, _provider: usize, _now_ms: u64) -> bool {
        false
    }

    fn introspected(
        &self,
        provider: usize,
        _key: &[u8; 32],
        _token: &str,
        _now_ms: u64,
    ) -> Introspected {
        match self.answers.get(provider).cloned().flatten() {
            Some(Answer::Active(a)) => Introspected::Active(a),
            Some(Answer::Inactive) => Introspected::Inactive,
            None => {
                self.note_missing(true, provider);
                Introspected::Unavailable
            }
        }
    }

    fn first_use(&self, slot: &str, key: &str, _until_ms: u64, _now_ms: u64) -> Replay {
        let mut seen = self.replay.borrow_mut();
        if seen.iter().any(|(s, k)| s == slot && k == key) {
            return Replay::Seen;
        }
        seen.push((slot.to_owned(), key.to_owned()));
        Replay::First
    }

    fn proof_key(&self, header: &str) -> Option<Rc<ProofKey>> {
        let keys = self.proof_keys.borrow();
        keys.iter()
            .find(|(h, _)| h == header)
            .map(|(_, k)| Rc::clone(k))
    }

    fn remember_proof_key(&self, header: &str, key: Rc<ProofKey>) {
        self.proof_keys.borrow_mut().push((header.to_owned(), key));
    }

    fn observe(&self, event: &Event<'_>) {
        let step = match *event {
            Event::CorsPreflight => Step::CorsPreflight,
            Event::Rule(r) => Step::Rule(r),
            Event::Enter(v) => {
                let mut t = self.trace.borrow_mut();
                let depth = t.extractors.len();
                t.extractors.push(extractor(v));
                drop(t);
                Step::Enter {
                    depth,
                    node: self.describe(v),
                }
            }
            Event::Leave(v, result) => {
                let mut t = self.trace.borrow_mut();
                t.extractors.pop();
                let depth = t.extractors.len();
                if depth == 0 {
                    t.root_passed = result == Some(Ok(()));
                }
                drop(t);
                Step::Leave {
                    depth,
                    node: self.describe(v),
                    result,
                }
            }
            Event::NoToken => Step::NoToken,
            Event::Token(token) => {
                let t = self.trace.borrow();
                let place = t.extractors.iter().rev().flatten().next();
                Step::Token(
                    place.map_or_else(|| where_(token.source), |e| e.describe(token.source)),
                )
            }
            Event::Cached(jwt) => decoded(jwt, true),
            Event::Decoded(jwt) => decoded(jwt, false),
            Event::Provider(p) => Step::Provider(self.name(p)),
            Event::Passed(check) => Step::Passed(check),
            Event::Checked { provider, result } => Step::Checked {
                provider: provider.map(|p| self.name(p)),
                result,
            },
            Event::Decided(d) => {
                self.trace.borrow_mut().verified = d
                    .verified
                    .iter()
                    .map(|v| Verified {
                        provider: v.provider,
                        claims: Rc::clone(&v.claims),
                    })
                    .collect();
                Step::Decided {
                    reason: d.denied.map(|r| r.name()),
                    provider: d.provider.map(|p| self.name(p)),
                    kid: d.kid.map(str::to_owned),
                }
            }
        };
        self.push(step);
    }
}

/// A source without its extractor (never expected: tokens come from leaves).
fn where_(source: Source) -> String {
    format!("{source:?}")
}
