//! Token introspection (RFC 7662) through the worker: one call per token
//! however many requests wait, answers remembered per worker and shared
//! with the other workers, failures never remembered, and the answer
//! checked as a JWT's claims are.

mod discovered;
mod routing;
mod sharing;

use super::*;

const TOKEN: &str = "opaque-token-1";
const SECRET: &str = "s:c r%t";

/// A policy whose only rule requires `p`, an introspection provider of
/// issuer https://as.test (timeout 2 s), with `extra` merged into its
/// `introspection` block.
fn intro_policy(extra: Value) -> crate::rules::Policy {
    let intro = fixtures::merged(
        json!({
            "http_uri": {"uri": "https://as.test/introspect", "cluster": "as", "timeout": "2s"},
            "client_id": "gateway",
            "client_secret": SECRET,
        }),
        extra,
    );
    fixtures::policy(json!({
        "providers": {"p": {"issuer": "https://as.test", "audiences": ["api"], "introspection": intro}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }))
}

/// An active answer for the provider, valid for an hour, with `extra`.
fn active(extra: Value) -> Answer {
    let claims = fixtures::merged(
        json!({"active": true, "iss": "https://as.test", "aud": "api", "sub": "alice",
               "exp": NOW + 3600}),
        extra,
    );
    ok(claims.to_string().into_bytes())
}

fn inactive() -> Answer {
    ok(br#"{"active": false}"#.to_vec())
}

fn status(code: u16) -> Answer {
    Answer::Http {
        status: code,
        body: b"{}".to_vec(),
    }
}

/// Evaluates a request for `token` and returns the callouts it waits for,
/// without parking it (the caller decides how it waits).
fn callouts_of(
    w: &mut Worker,
    p: &crate::rules::Policy,
    host: &mut FakeHost,
    token: &str,
) -> Vec<Callout> {
    let mut headers = fixtures::headers(&[
        (":path", "/"),
        ("authorization", &format!("Bearer {token}")),
    ]);
    let d = {
        let now = Ms(host.now());
        let view = w.view(&[], &mut *host);
        owned(evaluate(p, &mut headers, now, &view))
    };
    match d {
        Decision::Wait(callouts) => callouts,
        other => panic!("{other:?}"),
    }
}

/// Sends a request for `token` and says whether it was allowed at once.
fn allowed_now(w: &mut Worker, p: &crate::rules::Policy, host: &mut FakeHost, ctx: u32) -> bool {
    matches!(send(w, p, host, ctx, TOKEN, &[]), Decision::Allow)
}

/// Sends a request for `token` and says whether it waits for a call.
fn waits_now(w: &mut Worker, p: &crate::rules::Policy, host: &mut FakeHost, ctx: u32) -> bool {
    waits_for_introspection(&send(w, p, host, ctx, TOKEN, &[]))
}

fn waits_for_introspection(d: &Decision<'_>) -> bool {
    matches!(d, Decision::Wait(c) if matches!(c.as_slice(), [Callout::Introspect { .. }]))
}

#[test]
fn concurrent_requests_for_one_token_share_one_call() {
    let p = intro_policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    for ctx in 1..=3 {
        assert!(waits_for_introspection(&send(
            &mut w,
            &p,
            &mut host,
            ctx,
            TOKEN,
            &[]
        )));
    }
    assert_eq!(host.sent.len(), 1, "one call for three requests");
    let call = &host.sent[0];
    assert_eq!(
        (call.method, call.authority.as_str(), call.path.as_str()),
        ("POST", "as.test", "/introspect")
    );
    assert_eq!(
        call.body.as_deref(),
        Some(&b"token=opaque-token-1&token_type_hint=access_token"[..])
    );
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    // RFC 6749 §2.3.1: "s:c r%t" form-encoded is "s%3Ac+r%25t".
    let basic = crate::b64::encode_std(b"gateway:s%3Ac+r%25t");
    assert_eq!(header("authorization"), Some(format!("Basic {basic}")));
    assert_eq!(header("accept").as_deref(), Some("application/json"));
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    host.advance(50);
    assert!(answer(&mut w, &mut host, 0, active(json!({}))));
    let resumed = resume(&mut w, &p, &mut host, TOKEN);
    assert_eq!(resumed.len(), 3);
    assert!(resumed.iter().all(|(_, d)| matches!(d, Decision::Allow)));
    assert!(allowed_now(&mut w, &p, &mut host, 4));
    assert_eq!(host.sent.len(), 1, "the answer is remembered");
}

#[test]
fn client_secret_post_and_bearer_authenticate_as_configured() {
    let p = intro_policy(json!({"auth_method": "client_secret_post", "token_type_hint": ""}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, "a b", &[]);
    let call = &host.sent[0];
    assert_eq!(
        call.body.as_deref(),
        Some(&b"token=a+b&client_id=gateway&client_secret=s%3Ac+r%25t"[..])
    );
    assert!(call.headers.iter().all(|(n, _)| n != "authorization"));

    let p = fixtures::policy(json!({
        "providers": {"p": {"introspection": {
            "http_uri": {"uri": "https://as.test/introspect", "cluster": "as"},
            "auth_method": "bearer", "bearer_token": "static"}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, TOKEN, &[]);
    let auth = host.sent[0]
        .headers
        .iter()
        .find(|(n, _)| n == "authorization");
    assert_eq!(auth.map(|(_, v)| v.as_str()), Some("Bearer static"));
}

/// Sends one request and answers its call with `a`; the decision after.
fn decide(p: &crate::rules::Policy, a: Answer) -> (Decision<'static>, FakeHost) {
    let mut w = worker(p);
    let mut host = FakeHost::new(None);
    assert!(waits_for_introspection(&send(
        &mut w,
        p,
        &mut host,
        1,
        TOKEN,
        &[]
    )));
    answer(&mut w, &mut host, 0, a);
    let mut resumed = resume(&mut w, p, &mut host, TOKEN);
    assert_eq!(resumed.len(), 1);
    (resumed.remove(0).1, host)
}

#[test]
fn the_answer_is_checked_as_a_jwts_claims() {
    let p = intro_policy(json!({}));
    let allowed = Decision::Allow;
    for (claims, want) in [
        (json!({}), allowed.clone()),
        (json!({"iss": null}), denied(Status::JwtPayloadIssNotString)),
        (
            json!({"iss": "https://other.test"}),
            denied(Status::JwtUnknownIssuer),
        ),
        (
            json!({"aud": "other"}),
            denied(Status::JwtAudienceNotAllowed),
        ),
        (json!({"exp": NOW - 61}), denied(Status::JwtExpired)),
        (json!({"exp": NOW - 30}), allowed.clone()),
        (json!({"nbf": NOW + 120}), denied(Status::JwtNotYetValid)),
        (
            json!({"exp": "soon"}),
            denied(Status::JwtPayloadExpNotInteger),
        ),
        (json!({"exp": -1}), denied(Status::JwtPayloadExpOutOfRange)),
        (json!({"aud": 7}), denied(Status::JwtPayloadAudNotString)),
        (
            json!({"token_type": "refresh_token"}),
            denied(Status::TokenNotAccessToken),
        ),
        (json!({"token_type": "Bearer"}), allowed.clone()),
    ] {
        let (d, _) = decide(&p, active(claims.clone()));
        assert!(is(&d, &want), "{claims}: {d:?}");
    }
    // RFC 7662 makes iss optional: the endpoint vouches for its own token.
    let body = json!({"active": true, "aud": "api"})
        .to_string()
        .into_bytes();
    assert!(matches!(decide(&p, ok(body)).0, Decision::Allow));
}

#[test]
fn inactive_is_remembered_for_negative_ttl_only() {
    let p = intro_policy(json!({"cache": {"negative_ttl": "5s"}}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, TOKEN, &[]);
    answer(&mut w, &mut host, 0, inactive());
    let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
    assert!(is(d, &denied(Status::TokenInactive)));
    host.advance(4_000);
    assert!(is(
        &send(&mut w, &p, &mut host, 2, TOKEN, &[]),
        &denied(Status::TokenInactive)
    ));
    assert_eq!(host.sent.len(), 1);
    host.advance(1_001);
    assert!(waits_now(&mut w, &p, &mut host, 3));
    assert_eq!(host.sent.len(), 2, "asked again after negative_ttl");
}

#[test]
fn an_active_answer_lives_until_exp_at_most_max_ttl() {
    let p = intro_policy(json!({"cache": {"max_ttl": "60s"}}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, TOKEN, &[]);
    answer(&mut w, &mut host, 0, active(json!({"exp": NOW + 10})));
    resume(&mut w, &p, &mut host, TOKEN);
    host.advance(9_000);
    assert!(allowed_now(&mut w, &p, &mut host, 2));
    host.advance(1_001);
    assert!(waits_now(&mut w, &p, &mut host, 3));
    // Without exp: max_ttl.
    answer(
        &mut w,
        &mut host,
        1,
        ok(br#"{"active":true,"aud":"api"}"#.to_vec()),
    );
    resume(&mut w, &p, &mut host, TOKEN);
    host.advance(59_000);
    assert!(allowed_now(&mut w, &p, &mut host, 4));
    host.advance(1_001);
    assert!(waits_now(&mut w, &p, &mut host, 5));
    assert_eq!(host.sent.len(), 3);
}

#[test]
fn failures_deny_with_503_and_are_never_remembered() {
    let p = intro_policy(json!({}));
    for failure in [
        status(500),
        status(404),
        ok(b"not json".to_vec()),
        ok(br#"{"active": "true"}"#.to_vec()),
        ok(br#"{"active": false, "active": true}"#.to_vec()),
        ok(br#"{"x": {"active": true}}"#.to_vec()),
        Answer::TooLarge(MAX_BODY + 1),
        Answer::NoAnswer("timeout".into()),
    ] {
        let mut w = worker(&p);
        let mut host = FakeHost::new(None);
        send(&mut w, &p, &mut host, 1, TOKEN, &[]);
        answer(&mut w, &mut host, 0, failure.clone());
        let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
        assert!(
            is(d, &denied(Status::IntrospectionUnavailable)),
            "{failure:?}: {d:?}"
        );
        assert!(waits_now(&mut w, &p, &mut host, 2));
        assert_eq!(host.sent.len(), 2, "{failure:?} was remembered");
    }
}

#[test]
fn refused_credentials_deny_and_are_logged_as_a_configuration_problem() {
    let p = intro_policy(json!({"failure_mode": "serve_stale"}));
    for code in [401, 403] {
        let (d, host) = decide(&p, status(code));
        assert!(is(&d, &denied(Status::IntrospectionUnavailable)), "{d:?}");
        assert_eq!(host.logged("a configuration problem"), 1);
        assert!(host
            .logs
            .borrow()
            .iter()
            .any(|(l, m)| *l == Level::Error && m.contains(&format!("HTTP {code}"))));
    }
}

#[test]
fn serve_stale_keeps_an_active_answer_past_max_ttl_never_past_exp() {
    let p = intro_policy(json!({"failure_mode": "serve_stale", "cache": {"max_ttl": "1s"}}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, TOKEN, &[]);
    answer(&mut w, &mut host, 0, active(json!({"exp": NOW + 100})));
    resume(&mut w, &p, &mut host, TOKEN);
    host.advance(2_000);
    assert!(waits_now(&mut w, &p, &mut host, 2));
    answer(&mut w, &mut host, 1, status(503));
    let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
    assert!(matches!(d, Decision::Allow), "{d:?}");
    assert_eq!(host.logged("serving a remembered answer"), 1);
    host.advance(99_000);
    send(&mut w, &p, &mut host, 3, TOKEN, &[]);
    answer(&mut w, &mut host, 2, status(503));
    let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
    assert!(is(d, &denied(Status::IntrospectionUnavailable)), "{d:?}");

    // deny (the default) never serves stale.
    let p = intro_policy(json!({"cache": {"max_ttl": "1s"}}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, TOKEN, &[]);
    answer(&mut w, &mut host, 0, active(json!({})));
    resume(&mut w, &p, &mut host, TOKEN);
    host.advance(2_000);
    send(&mut w, &p, &mut host, 2, TOKEN, &[]);
    answer(&mut w, &mut host, 1, status(503));
    let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
    assert!(is(d, &denied(Status::IntrospectionUnavailable)), "{d:?}");
}

#[test]
fn the_secret_and_the_token_never_reach_the_log() {
    let p = intro_policy(json!({}));
    for a in [status(500), status(401), ok(b"garbage".to_vec())] {
        let (_, host) = decide(&p, a);
        for (_, line) in host.logs.borrow().iter() {
            for secret in [SECRET, "s%3Ac", TOKEN, "Basic "] {
                assert!(!line.contains(secret), "{line}");
            }
        }
    }
}

#[test]
fn a_lost_call_ends_as_unavailable() {
    let p = intro_policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, TOKEN, &[]);
    host.advance(2_000);
    w.tick(&mut host);
    assert!(
        resume(&mut w, &p, &mut host, TOKEN).is_empty(),
        "still within budget"
    );
    host.advance(1_001);
    w.tick(&mut host);
    let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
    assert!(is(d, &denied(Status::IntrospectionUnavailable)), "{d:?}");
}

#[test]
fn a_call_whose_context_ended_is_made_again_from_the_tick() {
    let p = intro_policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    // Request 1 makes the call from its own context; request 2 joins.
    for ctx in [1, 2] {
        let callouts = callouts_of(&mut w, &p, &mut host, TOKEN);
        let now = host.now();
        w.wait(&mut host, ctx, &callouts, Vec::new(), Some(1), now);
    }
    assert_eq!(host.sent.len(), 1);
    // Its client leaves: that answer will not come back.
    w.forget(1);
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 2, "made again from the root");
    answer(&mut w, &mut host, 1, active(json!({})));
    let resumed = resume(&mut w, &p, &mut host, TOKEN);
    assert!(resumed
        .iter()
        .any(|(ctx, d)| *ctx == 2 && matches!(d, Decision::Allow)));
}
