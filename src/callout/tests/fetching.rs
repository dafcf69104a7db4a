//! One worker: fetching, waiting, failing, recovering, what it logs.

use super::*;

#[test]
fn a_hundred_waiters_share_one_fetch_and_all_pass_when_it_answers() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    for ctx in 0..100 {
        assert!(waits(&send(&mut w, &p, &mut host, ctx, &t, &[])));
    }
    assert_eq!(w.parked(), 100);
    w.tick(&mut host);
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1, "one fetch for every waiter");
    let call = host.sent[0].clone();
    assert_eq!(
        (call.authority.as_str(), call.path.as_str(), call.timeout_ms),
        ("idp.test", "/jwks.json", 2000)
    );
    host.advance(300);
    assert!(w.ready(host.now()).is_empty(), "nothing settled yet");
    assert!(w.on_response(&mut host, call.token, ok(keys(&["k"])), None));
    let answers = resume(&mut w, &p, &mut host, &t);
    assert_eq!(answers.len(), 100);
    assert!(answers.iter().all(|(_, d)| matches!(d, Decision::Allow)));
    assert_eq!(w.parked(), 0);
    // Cached from now on: no wait, no call.
    assert!(matches!(
        send(&mut w, &p, &mut host, 100, &t, &[]),
        Decision::Allow
    ));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1);
    assert!(
        !w.on_response(&mut host, 999, ok(keys(&["k"])), None),
        "not our call"
    );
}

#[test]
fn an_unknown_kid_causes_one_refetch_then_is_refused() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    send(&mut w, &p, &mut host, 1, &token("k1"), &[]);
    w.tick(&mut host);
    answer(&mut w, &mut host, 0, ok(keys(&["k1"])));
    resume(&mut w, &p, &mut host, &token("k1"));
    // The IdP rotated to k2: the first k2 token waits for one refetch.
    let k2 = token("k2");
    assert!(waits(&send(&mut w, &p, &mut host, 2, &k2, &[])));
    // One refetch per unknown_kid_refetch_interval: others are not held.
    assert!(is(
        &send(&mut w, &p, &mut host, 3, &k2, &[]),
        &denied(Status::JwksKidAlgMismatch)
    ));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 2);
    answer(&mut w, &mut host, 1, ok(keys(&["k2"])));
    let answers = resume(&mut w, &p, &mut host, &k2);
    assert!(answers.iter().all(|(_, d)| matches!(d, Decision::Allow)));
    // An unknown kid within unknown_kid_refetch_interval: refused, no call.
    let k3 = token("k3");
    assert!(is(
        &send(&mut w, &p, &mut host, 4, &k3, &[]),
        &denied(Status::JwksKidAlgMismatch)
    ));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 2);
    // The refetch brought k2 but not k1 any more.
    assert!(is(
        &send(&mut w, &p, &mut host, 5, &token("k1"), &[]),
        &denied(Status::JwksKidAlgMismatch)
    ));
}

#[test]
fn a_fetch_that_never_answers_settles_within_its_timeout() {
    let Started {
        p,
        mut w,
        mut host,
        t,
    } = started(json!({}));
    host.advance(2_049);
    w.tick(&mut host);
    assert!(w.ready(host.now()).is_empty());
    // The budget (the 2 s timeout, and 50 ms for the tick that started the
    // fetch) is up: answered with what is there.
    host.advance(1);
    let answers = resume(&mut w, &p, &mut host, &t);
    assert_eq!(answers.len(), 1);
    assert!(is(&answers[0].1, &denied(Status::JwksFetchFail)));
    // The lost call is given up after timeout + 1 s, logged, and retried
    // by the next request once failed_refetch_duration has passed.
    host.advance(1_000);
    w.tick(&mut host);
    assert_eq!(host.logged("failed: no answer (the call was lost)"), 1);
    assert!(is(
        &send(&mut w, &p, &mut host, 2, &t, &[]),
        &denied(Status::JwksFetchFail)
    ));
    host.advance(1_000);
    assert!(waits(&send(&mut w, &p, &mut host, 3, &t, &[])));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 2);
}

#[test]
fn failure_then_recovery() {
    let Started {
        p,
        mut w,
        mut host,
        t,
    } = started(json!({}));
    answer(
        &mut w,
        &mut host,
        0,
        Answer::NoAnswer("connection refused".into()),
    );
    let answers = resume(&mut w, &p, &mut host, &t);
    assert!(is(&answers[0].1, &denied(Status::JwksFetchFail)));
    assert_eq!(
        host.logged("fetching keys from idp.test/jwks.json failed: connection refused"),
        1
    );
    // Within failed_refetch_duration: answered at once, nothing sent.
    host.advance(500);
    assert!(is(
        &send(&mut w, &p, &mut host, 2, &t, &[]),
        &denied(Status::JwksFetchFail)
    ));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1);
    // Then the next request fetches again, and the IdP is back.
    host.advance(600);
    assert!(waits(&send(&mut w, &p, &mut host, 3, &t, &[])));
    w.tick(&mut host);
    answer(&mut w, &mut host, 1, ok(keys(&["k"])));
    assert!(matches!(
        resume(&mut w, &p, &mut host, &t)[0].1,
        Decision::Allow
    ));
}

#[test]
fn bad_answers_fail_the_fetch_and_stale_keys_keep_serving() {
    let Started {
        p,
        mut w,
        mut host,
        t,
    } = started(json!({"cache_duration": "10s"}));
    answer(&mut w, &mut host, 0, ok(keys(&["k"])));
    resume(&mut w, &p, &mut host, &t);
    let bad = [
        (
            Answer::Http {
                status: 500,
                body: keys(&["k", "k2"]),
            },
            "HTTP status 500",
        ),
        (
            ok(b"<html>".to_vec()),
            "not a JWKS JSON object nor a PEM public key",
        ),
        (Answer::TooLarge(MAX_BODY + 1), "exceeds 1048576"),
        (
            ok(br#"{"keys":[{"kty":"AKP","kid":"pq"}]}"#.to_vec()),
            r#"no usable key in JWKS: key 0 (kid "pq"): unsupported kty "AKP""#,
        ),
    ];
    for (i, (bad_answer, why)) in bad.into_iter().enumerate() {
        host.advance(11_000); // expired: served stale while refreshing
        assert!(matches!(
            send(&mut w, &p, &mut host, 10, &t, &[]),
            Decision::Allow
        ));
        w.tick(&mut host);
        assert_eq!(host.sent.len(), 2 + i, "{why}");
        answer(&mut w, &mut host, 1 + i, bad_answer);
        assert_eq!(host.logged(why), 1, "{why}");
        assert!(host.logged("; serving the cached keys") > i);
        assert!(matches!(
            send(&mut w, &p, &mut host, 11, &t, &[]),
            Decision::Allow
        ));
        // k2 was only in the refused 500 body.
        assert!(is(
            &send(&mut w, &p, &mut host, 12, &token("k2"), &[]),
            &denied(Status::JwksKidAlgMismatch)
        ));
    }
}

#[test]
fn a_fetched_set_with_unusable_keys_serves_the_usable_ones_and_says_which_it_skipped() {
    let Started {
        p,
        mut w,
        mut host,
        t,
    } = started(json!({}));
    let k = fixtures::b64url(fixtures::SECRET);
    let body = json!({"keys": [
        {"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},
        {"kty": "AKP", "kid": "pq", "alg": "ML-DSA-44", "pub": "AAAA"},
        {"kty": "oct", "kid": "k", "k": k}
    ]});
    answer(&mut w, &mut host, 0, ok(body.to_string().into_bytes()));
    assert!(matches!(
        resume(&mut w, &p, &mut host, &t)[0].1,
        Decision::Allow
    ));
    assert_eq!(
        host.logged(r#"jwt-guard: keys from idp.test/jwks.json: skipped 2 key(s) it cannot use: key 0 (kid "x25519"): unsupported crv "X25519" for an OKP key; key 1 (kid "pq"): unsupported kty "AKP""#),
        1
    );
}

#[test]
fn discovery_reads_the_document_then_its_jwks_uri_within_a_budget_of_two_calls() {
    let p = policy(json!({"discovery": true, "http_uri": {
        "uri": "https://idp.test/.well-known/openid-configuration", "cluster": "idp", "timeout": "2s"}}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    send(&mut w, &p, &mut host, 1, &t, &[]);
    w.tick(&mut host);
    assert_eq!(host.sent[0].path, "/.well-known/openid-configuration");
    host.advance(1_500);
    let doc = json!({"issuer": "https://idp.test", "jwks_uri": "https://keys.idp.test/k?v=1"});
    answer(&mut w, &mut host, 0, ok(doc.to_string().into_bytes()));
    assert_eq!(
        (host.sent[1].authority.as_str(), host.sent[1].path.as_str()),
        ("keys.idp.test", "/k?v=1")
    );
    host.advance(1_500); // 3 s: past one timeout, within two
    assert!(w.ready(host.now()).is_empty());
    answer(&mut w, &mut host, 1, ok(keys(&["k"])));
    assert!(matches!(
        resume(&mut w, &p, &mut host, &t)[0].1,
        Decision::Allow
    ));
}

#[test]
fn a_missing_clock_stops_the_worker_and_refuses_requests() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    host.now = None;
    w.tick(&mut host);
    assert!(host.sent.is_empty());
    let mut headers = fixtures::headers(&[
        (":path", "/"),
        ("authorization", &format!("Bearer {}", token("k"))),
    ]);
    struct NoClock;
    impl crate::authn::Clock for NoClock {
        fn now_ms(&self) -> Option<u64> {
            None
        }
    }
    let view = w.view(&[], &mut host);
    let d = evaluate(&p, &mut headers, NoClock, &view);
    assert!(
        matches!(
            d,
            Decision::Deny(Denial::Fault(crate::error::Fault::NoClock))
        ),
        "{d:?}"
    );
}
