//! What an evaluation reports ([`crate::trace`]): the steps in the order
//! the filter takes them, and once per decided request whom the decision
//! is about (the provider and `kid` a denial names), never for a request
//! that waits.

use super::{evaluate, Policy};
use crate::authn::{Availability, LocalKeysOnly, Runtime};
use crate::fixtures::{self, NOW};
use crate::outcome::Reason;
use crate::trace::{Check, Event};
use serde_json::{json, Value};
use std::cell::RefCell;

/// Local keys, and every event written down as a line.
#[derive(Default)]
struct Recorder {
    lines: RefCell<Vec<String>>,
    /// Remote keys are on their way (else: local keys only).
    fetching: bool,
}

impl Runtime for Recorder {
    fn remote_keys(&self, p: usize, now: u64) -> Availability {
        match self.fetching {
            true => Availability::Pending,
            false => LocalKeysOnly.remote_keys(p, now),
        }
    }
    fn unknown_kid(&self, _provider: usize, _now_ms: u64) -> bool {
        false
    }
    fn observe(&self, event: &Event<'_>) {
        let line = match event {
            Event::Rule(r) => format!("rule {r:?}"),
            Event::CorsPreflight => "cors".into(),
            Event::Enter(_) => "enter".into(),
            Event::Leave(_, r) => format!("leave {r:?}"),
            Event::NoToken => "no token".into(),
            Event::Token(t) => format!("token {:?}", t.source),
            Event::Cached(j) => format!("cached kid={:?}", j.kid),
            Event::Decoded(j) => format!("decoded kid={:?}", j.kid),
            Event::Provider(p) => format!("provider {p}"),
            Event::Passed(Check::Time { .. }) => "passed time".into(),
            Event::Passed(c) => format!("passed {c:?}"),
            Event::Checked { provider, result } => format!("checked {provider:?} {result:?}"),
            Event::Decided(d) => format!(
                "decided rule={:?} denied={:?} provider={:?} kid={:?} verified={:?}",
                d.rule,
                d.denied.map(Reason::name),
                d.provider,
                d.kid,
                d.verified.iter().map(|v| v.provider).collect::<Vec<_>>()
            ),
        };
        self.lines.borrow_mut().push(line);
    }
}

fn provider(issuer: &str) -> Value {
    json!({"issuer": issuer, "local_jwks": {"inline_string": fixtures::jwks(Some("k"))}})
}

/// Providers `a` (issuer A) and `b` (issuer B); `/open` requires nothing,
/// `/any` either provider, `/scoped` `a` with scope `admin`, everything
/// else `a`; `/remote` a provider with keys to fetch.
fn policy() -> Policy {
    let remote = json!({"issuer": "R", "remote_jwks": {"http_uri": {
        "uri": "https://idp.example.com/jwks", "cluster": "idp", "timeout": "1s"}}});
    fixtures::policy(json!({
        "providers": {"a": provider("A"), "b": provider("B"), "r": remote},
        "rules": [
            {"match": {"prefix": "/open"}},
            {"match": {"prefix": "/any"}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "a"}, {"provider_name": "b"}]}}},
            {"match": {"prefix": "/scoped"}, "requires": {"provider_name": "a"},
             "authorize": {"scopes": {"all_of": ["admin"]}}},
            {"match": {"prefix": "/remote"}, "requires": {"provider_name": "r"}},
            {"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}
        ]
    }))
}

fn token(iss: &str, exp: u64) -> String {
    let claims = json!({"iss": iss, "sub": "alice", "exp": exp, "scope": "read"});
    fixtures::hs256(json!({"kid": "k"}), claims)
}

/// The lines `path` with `token` (if any) reports.
fn report(runtime: &Recorder, path: &str, token: Option<&str>) -> Vec<String> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut pairs = vec![(":path", path)];
    if let Some(a) = &auth {
        pairs.push(("authorization", a));
    }
    let mut headers = fixtures::headers(&pairs);
    let _ = evaluate(&policy(), &mut headers, NOW, runtime);
    runtime.lines.take()
}

#[test]
fn an_allowed_token_reports_each_check_in_the_filters_order_then_the_decision() {
    let lines = report(&Recorder::default(), "/x", Some(&token("A", NOW + 60)));
    assert_eq!(
        lines,
        [
            "rule Some(4)",
            "enter",
            "token Header(0)",
            "decoded kid=Some(\"k\")",
            "provider 0",
            "passed Issuer",
            "passed Header",
            "passed time",
            "passed Audience",
            "passed Claims",
            "passed Keys { count: 1, remote: false }",
            "passed Signature",
            "checked Some(0) Ok(())",
            "leave Some(Ok(()))",
            "decided rule=Some(4) denied=None provider=None kid=None verified=[0]",
        ]
    );
}

#[test]
fn a_denial_names_the_provider_and_kid_of_the_check_that_decided_it() {
    let lines = report(&Recorder::default(), "/x", Some(&token("A", NOW - 600)));
    assert_eq!(
        lines.get(7).map(String::as_str),
        Some("checked Some(0) Err(JwtExpired)")
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("decided rule=Some(4) denied=Some(\"expired\") provider=Some(0) kid=Some(\"k\") verified=[]")
    );
}

#[test]
fn in_requires_any_the_denial_is_about_the_branch_whose_error_was_chosen() {
    // `a` refuses B's token as another issuer's; `b` finds it expired, and
    // Envoy reports the expiry: the denial is about `b`.
    let lines = report(&Recorder::default(), "/any", Some(&token("B", NOW - 600)));
    assert!(
        lines.contains(&"checked Some(0) Err(JwtUnknownIssuer)".to_string()),
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("decided rule=Some(1) denied=Some(\"expired\") provider=Some(1) kid=Some(\"k\") verified=[]")
    );
}

#[test]
fn a_missing_token_is_about_the_named_provider_and_no_rule_about_nobody() {
    let lines = report(&Recorder::default(), "/x", None);
    assert_eq!(&lines[..3], ["rule Some(4)", "enter", "no token"]);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("decided rule=Some(4) denied=Some(\"missing\") provider=Some(0) kid=None verified=[]")
    );
    let open = report(&Recorder::default(), "/open", None);
    assert_eq!(
        open,
        [
            "rule Some(0)",
            "enter",
            "leave Some(Ok(()))",
            "decided rule=Some(0) denied=None provider=None kid=None verified=[]"
        ]
    );
}

#[test]
fn a_failure_every_branch_shares_is_about_no_one_provider() {
    for token in [None, Some("not-a-jwt")] {
        let lines = report(&Recorder::default(), "/any", token);
        let last = lines.last().map(String::as_str).unwrap_or_default();
        assert!(last.contains(" provider=None "), "{token:?}: {last}");
    }
    // At one named provider, a malformed token is about that provider.
    let lines = report(&Recorder::default(), "/x", Some("not-a-jwt"));
    assert_eq!(
        lines.last().map(String::as_str),
        Some(
            "decided rule=Some(4) denied=Some(\"malformed\") provider=Some(0) kid=None verified=[]"
        )
    );
}

#[test]
fn an_authorize_refusal_is_forbidden_and_about_the_token_it_read() {
    let lines = report(&Recorder::default(), "/scoped", Some(&token("A", NOW + 60)));
    assert_eq!(
        lines.last().map(String::as_str),
        Some("decided rule=Some(2) denied=Some(\"forbidden\") provider=Some(0) kid=Some(\"k\") verified=[0]")
    );
}

#[test]
fn a_request_that_waits_is_not_decided_and_reports_no_decision() {
    let fetching = Recorder {
        fetching: true,
        ..Recorder::default()
    };
    let lines = report(&fetching, "/remote", Some(&token("R", NOW + 60)));
    assert!(
        lines.iter().all(|l| !l.starts_with("decided")),
        "{lines:#?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("leave None"));
}
