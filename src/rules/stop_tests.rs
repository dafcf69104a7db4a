//! Decisions other than allow and Envoy's 401/403: waiting for callouts
//! (which beats every allowance) and the module's own faults (no clock, a
//! claim header that would inject header syntax).

use super::{evaluate, Decision, Denial};
use crate::authn::{Availability, Callout, Clock, Runtime};
use crate::error::Fault;
use crate::fixtures::{self, NOW};
use crate::rules::Policy;
use serde_json::{json, Value};

/// Remote keys that are always on their way.
struct Fetching;

impl Runtime for Fetching {
    fn remote_keys(&self, _provider: usize, _now_ms: u64) -> Availability {
        Availability::Pending
    }
    fn unknown_kid(&self, _provider: usize, _now_ms: u64) -> bool {
        false
    }
}

/// A host whose clock cannot be read.
struct NoClock;

impl Clock for NoClock {
    fn now_ms(&self) -> Option<u64> {
        None
    }
}

fn remote(issuer: &str) -> Value {
    json!({"issuer": issuer, "remote_jwks": {"http_uri": {
        "uri": "https://idp.example.com/jwks", "cluster": "idp", "timeout": "1s"}}})
}

fn local(issuer: &str) -> Value {
    json!({"issuer": issuer, "local_jwks": {"inline_string": fixtures::jwks(Some("k"))},
           "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}]})
}

fn policy(requires: Value) -> Policy {
    fixtures::policy(json!({
        "providers": {"a": remote("A"), "b": remote("B"), "l": local("L")},
        "rules": [{"match": {"prefix": "/"}, "requires": requires}]
    }))
}

/// `Authorization: Bearer` an HS256 token of `iss` for `sub`, valid at NOW.
fn bearer(iss: &str, sub: &str) -> String {
    let t = fixtures::hs256(
        json!({"kid": "k"}),
        json!({"iss": iss, "sub": sub, "exp": NOW + 600}),
    );
    format!("Bearer {t}")
}

fn decide<'p>(p: &'p Policy, auth: &str, clock: impl Clock) -> Decision<'p> {
    let mut h = fixtures::headers(&[(":path", "/"), ("authorization", auth)]);
    evaluate(p, &mut h, clock, &Fetching)
}

#[test]
fn a_token_for_keys_on_their_way_waits_for_that_provider() {
    let p = policy(json!({"provider_name": "b"}));
    let d = decide(&p, &bearer("B", "s"), NOW);
    assert!(
        matches!(&d, Decision::Wait(w) if w == &[Callout::Keys(1)]),
        "{d:?}"
    );
}

#[test]
fn waiting_beats_allow_missing_or_failed_and_every_pending_branch_is_named() {
    let any = |extra: Value| {
        let mut reqs = vec![json!({"provider_name": "a"}), json!({"provider_name": "b"})];
        reqs.push(extra);
        policy(json!({"requires_any": {"requirements": reqs}}))
    };
    // a waits for its keys; b refuses issuer A at once; the group would
    // pass on allow_missing_or_failed, but waits for a's keys first.
    let p = any(json!({"allow_missing_or_failed": {}}));
    let mut h = fixtures::headers(&[(":path", "/"), ("authorization", &bearer("A", "s"))]);
    let d = evaluate(&p, &mut h, NOW, &Fetching);
    assert!(
        matches!(&d, Decision::Wait(w) if w == &[Callout::Keys(0)]),
        "{d:?}"
    );
    // Two branches, each waiting on its own provider's keys: one wait for both.
    let p = fixtures::policy(json!({
        "providers": {
            "a": remote("A"),
            "b": merged_location(remote("B"), "x-b"),
        },
        "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
            {"provider_name": "a"}, {"provider_name": "b"}]}}}]
    }));
    let mut h = fixtures::headers(&[
        (":path", "/"),
        ("authorization", &bearer("A", "s")),
        ("x-b", &bearer("B", "s")["Bearer ".len()..]),
    ]);
    let d = evaluate(&p, &mut h, NOW, &Fetching);
    assert!(
        matches!(&d, Decision::Wait(w) if w == &[Callout::Keys(0), Callout::Keys(1)]),
        "{d:?}"
    );
}

#[test]
fn a_passing_branch_decides_without_waiting() {
    let p = policy(json!({"requires_any": {"requirements": [
        {"provider_name": "a"}, {"provider_name": "l"}]}}));
    // The token is L's: a refuses its issuer at once, l verifies it.
    let d = decide(&p, &bearer("L", "s"), NOW);
    assert!(matches!(d, Decision::Allow), "{d:?}");
}

#[test]
fn no_clock_refuses_even_where_a_failed_token_would_pass() {
    for requires in [
        json!({"provider_name": "l"}),
        json!({"allow_missing_or_failed": {}}),
        json!({"requires_any": {"requirements": [
            {"provider_name": "l"}, {"allow_missing": {}}]}}),
    ] {
        let p = policy(requires.clone());
        let d = decide(&p, &bearer("L", "s"), NoClock);
        assert!(
            matches!(d, Decision::Deny(Denial::Fault(Fault::NoClock))),
            "{requires}: {d:?}"
        );
    }
    // Without a token the clock is never needed.
    let p = policy(json!({"allow_missing": {}}));
    let mut h = fixtures::headers(&[(":path", "/")]);
    assert!(matches!(
        evaluate(&p, &mut h, NoClock, &Fetching),
        Decision::Allow
    ));
}

#[test]
fn a_claim_header_with_header_syntax_is_refused_with_envoys_503() {
    let p = policy(json!({"provider_name": "l"}));
    let d = decide(&p, &bearer("L", "alice\r\nx-admin: true"), NOW);
    match d {
        Decision::Deny(Denial::Fault(f)) => {
            assert_eq!(f, Fault::InvalidHeaderValue("x-sub".into()));
            assert_eq!(f.status(), 503);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decide(&p, &bearer("L", "alice"), NOW),
        Decision::Allow
    ));
}

/// `provider` reading its token from header `name` (no prefix).
fn merged_location(provider: Value, name: &str) -> Value {
    fixtures::merged(provider, json!({"from_headers": [{"name": name}]}))
}
