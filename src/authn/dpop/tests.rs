//! The DPoP step through a whole evaluation: a bound token with its proof,
//! each way it is refused, replay, nonces, and what goes upstream.

use super::*;
use crate::authn::{Availability, LocalKeysOnly};
use crate::dpop::replay::{Admission, Slot};
use crate::fixtures::{self, merged, proof, proof_jkt, NOW};
use crate::jwks::Jwks;
use crate::rules::{evaluate, Decision, Denial, Policy};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

const HOST: &str = "api.example.com";
const PATH: &str = "/orders";
const NONCE_SECRET: &str = "a-nonce-secret-of-at-least-32-chars";

/// A process's replay store, in memory; remote keys once `keys` are set.
#[derive(Default)]
struct Store(RefCell<HashMap<String, Vec<u8>>>, Option<Arc<Jwks>>);

impl Runtime for Store {
    fn remote_keys(&self, _provider: usize, _now_ms: u64) -> Availability {
        match &self.1 {
            Some(keys) => Availability::Ready(keys.clone(), 1),
            None => Availability::Pending,
        }
    }
    fn unknown_kid(&self, _provider: usize, _now_ms: u64) -> bool {
        false
    }
    fn first_use(&self, slot: &str, key: &str, until_ms: u64, now_ms: u64) -> Replay {
        let mut slots = self.0.borrow_mut();
        match Slot::read(slots.get(slot).map(Vec::as_slice), now_ms).admit(key, until_ms) {
            Admission::First(v) => {
                slots.insert(slot.to_owned(), v);
                Replay::First
            }
            Admission::Replay => Replay::Seen,
            Admission::Full => Replay::Full,
        }
    }
}

/// Provider `p` (issuer "A", the fixture key) with `dpop`, plus `extra`.
fn policy(dpop: Value, extra: Value) -> Policy {
    let p = json!({"issuer": "A", "local_jwks": {"inline_string": fixtures::jwks(None)},
                   "dpop": dpop});
    fixtures::policy(json!({
        "providers": {"p": merged(p, extra)},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }))
}

fn required() -> Policy {
    policy(
        json!({"mode": "required", "allowed_algorithms": ["EdDSA"]}),
        json!({}),
    )
}

/// An access token of issuer "A", bound to `jkt` when given.
fn token(jkt: Option<&str>) -> String {
    let mut claims = json!({"iss": "A", "exp": NOW + 600});
    if let Some(j) = jkt {
        claims["cnf"] = json!({"jkt": j});
    }
    fixtures::hs256(json!({}), claims)
}

/// The proof claims for `token` on GET https://api.example.com/orders.
fn claims(token: &str, jti: &str) -> Value {
    json!({"jti": jti, "htm": "GET", "htu": format!("https://{HOST}{PATH}"),
           "iat": NOW, "ath": crate::dpop::ath(token)})
}

fn request(authorization: &str, proofs: &[&str]) -> Headers {
    let mut pairs = vec![
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", HOST),
        (":path", PATH),
        ("authorization", authorization),
    ];
    pairs.extend(proofs.iter().map(|p| ("dpop", *p)));
    fixtures::headers(&pairs)
}

fn decide(p: &Policy, headers: &mut Headers, rt: &dyn Runtime) -> Result<(), Status> {
    match evaluate(p, headers, NOW, rt) {
        Decision::Allow => Ok(()),
        Decision::Deny(Denial::Dpop { status, .. } | Denial::Authn(status)) => Err(status),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bound_token_with_its_proof_passes_once_and_leaves_neither_upstream() {
    let (p, store) = (required(), Store::default());
    let t = token(Some(&proof_jkt()));
    let pr = proof(json!({}), claims(&t, "j1"));
    let mut h = request(&format!("DPoP {t}"), &[&pr]);
    assert_eq!(decide(&p, &mut h, &store), Ok(()));
    assert_eq!((h.get("authorization"), h.get("dpop")), (None, None));
    let mut again = request(&format!("DPoP {t}"), &[&pr]);
    assert_eq!(
        decide(&p, &mut again, &store),
        Err(Status::DpopProofReplayed)
    );
    // A new proof (new jti) from the same key is welcome.
    let mut fresh = request(&format!("dpop {t}"), &[&proof(json!({}), claims(&t, "j2"))]);
    assert_eq!(decide(&p, &mut fresh, &store), Ok(()));
}

#[test]
fn forward_keeps_the_token_and_the_proof() {
    let p = policy(json!({"mode": "required"}), json!({"forward": true}));
    let t = token(Some(&proof_jkt()));
    let pr = proof(json!({}), claims(&t, "j"));
    let mut h = request(&format!("DPoP {t}"), &[&pr]);
    assert_eq!(decide(&p, &mut h, &Store::default()), Ok(()));
    assert_eq!(h.get("dpop"), Some(pr.as_str()));
    assert!(h.get("authorization").is_some());
}

#[test]
fn each_binding_and_scheme_rule_refuses_on_its_own() {
    let (p, store) = (required(), Store::default());
    let bound = token(Some(&proof_jkt()));
    let other_key = token(Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
    let unbound = token(None);
    let pr = |t: &str, jti: &str| proof(json!({}), claims(t, jti));
    let cases: Vec<(Headers, Status)> = vec![
        (
            request(&format!("DPoP {bound}"), &[]),
            Status::DpopProofMissing,
        ),
        (
            request(
                &format!("DPoP {bound}"),
                &[&pr(&bound, "a"), &pr(&bound, "b")],
            ),
            Status::DpopProofRepeated,
        ),
        (
            request(&format!("DPoP {other_key}"), &[&pr(&other_key, "c")]),
            Status::DpopKeyMismatch,
        ),
        (
            request(&format!("DPoP {unbound}"), &[&pr(&unbound, "d")]),
            Status::DpopTokenNotBound,
        ),
        (
            request(&format!("Bearer {bound}"), &[]),
            Status::DpopTokenBound,
        ),
        (
            request(&format!("Bearer {unbound}"), &[]),
            Status::DpopRequired,
        ),
        (
            request(
                &format!("Bearer {unbound}, DPoP {bound}"),
                &[&pr(&bound, "e")],
            ),
            Status::DpopSchemesMixed,
        ),
        (
            request(&format!("DPoP {bound}"), &[&pr(&unbound, "f")]),
            Status::DpopProofBadAth,
        ),
    ];
    for (mut h, want) in cases {
        assert_eq!(decide(&p, &mut h, &store), Err(want));
    }
    let mut param = request(&format!("DPoP {bound}"), &[&pr(&bound, "g")]);
    param.set(":path", format!("{PATH}?access_token={unbound}"));
    assert_eq!(
        decide(&p, &mut param, &store),
        Err(Status::DpopSchemesMixed)
    );
}

#[test]
fn allowed_mode_lets_unbound_bearer_tokens_through_but_not_bound_ones() {
    let p = policy(json!({"mode": "allowed"}), json!({}));
    let mut h = request(&format!("Bearer {}", token(None)), &[]);
    assert_eq!(decide(&p, &mut h, &Store::default()), Ok(()));
    let mut h = request(&format!("Bearer {}", token(Some(&proof_jkt()))), &[]);
    assert_eq!(
        decide(&p, &mut h, &Store::default()),
        Err(Status::DpopTokenBound)
    );
}

#[test]
fn a_missing_nonce_is_answered_with_one_the_retry_can_use() {
    let p = policy(
        json!({"mode": "required", "nonce": {"secret": NONCE_SECRET}}),
        json!({}),
    );
    let t = token(Some(&proof_jkt()));
    let mut h = request(&format!("DPoP {t}"), &[&proof(json!({}), claims(&t, "n1"))]);
    let nonce = match evaluate(&p, &mut h, NOW, &Store::default()) {
        Decision::Deny(Denial::Dpop {
            status: Status::DpopNonceRequired,
            nonce: Some(n),
            used_dpop: true,
            ..
        }) => n,
        other => panic!("{other:?}"),
    };
    let with_nonce = merged(claims(&t, "n2"), json!({"nonce": nonce}));
    let mut h = request(&format!("DPoP {t}"), &[&proof(json!({}), with_nonce)]);
    assert_eq!(decide(&p, &mut h, &Store::default()), Ok(()));
}

#[test]
fn without_a_replay_store_no_proof_passes() {
    let t = token(Some(&proof_jkt()));
    let mut h = request(&format!("DPoP {t}"), &[&proof(json!({}), claims(&t, "x"))]);
    assert_eq!(
        decide(&required(), &mut h, &LocalKeysOnly),
        Err(Status::DpopReplayStoreFull)
    );
}

#[test]
fn a_rule_without_dpop_providers_keeps_envoys_plain_denial() {
    let p = fixtures::policy(json!({
        "providers": {"p": {"issuer": "A", "local_jwks": {"inline_string": fixtures::jwks(None)}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }));
    let mut h = request(&format!("DPoP {}", token(None)), &[]);
    assert!(matches!(
        evaluate(&p, &mut h, NOW, &Store::default()),
        Decision::Deny(Denial::Authn(Status::JwtMissed))
    ));
}

#[test]
fn a_proof_is_recorded_only_once_the_request_is_decided() {
    // `p` passes at once; `r` waits for its keys: the request is evaluated
    // again, and must not find its own proof used.
    let keyed = json!({"issuer": "A", "local_jwks": {"inline_string": fixtures::jwks(None)},
                       "dpop": {"mode": "required"}, "forward": true});
    let remote = json!({"issuer": "A", "from_headers": [{"name": "x-other"}],
                        "remote_jwks": {"http_uri": {"uri": "https://a.test/jwks", "cluster": "a"}}});
    let p = fixtures::policy(json!({
        "providers": {"p": keyed, "r": remote},
        "rules": [{"match": {"prefix": "/"},
                   "requires": {"requires_all": {"requirements": [
                       {"provider_name": "p"}, {"provider_name": "r"}]}}}]
    }));
    let t = token(Some(&proof_jkt()));
    let pr = proof(json!({}), claims(&t, "w"));
    let send = |store: &Store| {
        let mut h = request(&format!("DPoP {t}"), &[&pr]);
        h.add("x-other", token(None));
        evaluate(&p, &mut h, NOW, store)
    };
    let mut store = Store::default();
    assert!(matches!(send(&store), Decision::Wait(_)));
    assert!(
        store.0.borrow().is_empty(),
        "nothing recorded while waiting"
    );
    store.1 = Some(Arc::new(crate::jwks::parse(&fixtures::jwks(None)).unwrap()));
    assert!(matches!(send(&store), Decision::Allow));
    assert_eq!(store.0.borrow().len(), 1);
    assert!(matches!(
        send(&store),
        Decision::Deny(Denial::Dpop {
            status: Status::DpopProofReplayed,
            ..
        })
    ));
}

#[test]
fn only_a_checked_proof_reads_the_clock() {
    let p = fixtures::policy(json!({
        "providers": {"p": {"issuer": "A", "local_jwks": {"inline_string": fixtures::jwks(None)},
                            "dpop": {"mode": "required", "nonce": {"secret": NONCE_SECRET}}}},
        "rules": [{"match": {"path": "/open"}},
                  {"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }));
    let reads = |path: &str, authorization: Option<String>| {
        let mut h = fixtures::headers(&[(":method", "GET"), (":path", path)]);
        if let Some(a) = authorization {
            h.add("authorization", a);
        }
        let clock = fixtures::CountingClock(std::cell::Cell::new(0), Some(NOW));
        let allowed = matches!(
            evaluate(&p, &mut h, &clock, &Store::default()),
            Decision::Allow
        );
        (allowed, clock.0.get())
    };
    assert_eq!(reads("/open", None), (true, 0));
    assert_eq!(reads("/orders", None), (false, 0));
    assert_eq!(reads("/orders", Some("DPoP a.b.c".into())), (false, 0));
    // A bound token without its proof: read once, for the token's time.
    let bound = format!("DPoP {}", token(Some(&proof_jkt())));
    assert_eq!(reads("/orders", Some(bound)), (false, 1));
}
