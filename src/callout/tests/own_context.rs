//! Requests that wait on calls of their own (`Worker::wait_own`), as on a
//! host where only a request's own callbacks may act on it: every waiting
//! request is woken by its own call's answer, keys are still shared.

use super::*;

/// What the glue does with a request on such a host: evaluate it; if it
/// must wait, make its calls from its context, or evaluate it again at once
/// when none could be made. `done` is the request's own list.
fn send_own(
    w: &mut Worker,
    p: &crate::rules::Policy,
    host: &mut FakeHost,
    ctx: u32,
    token: &str,
    done: &mut Vec<Callout>,
) -> Decision<'static> {
    loop {
        let mut headers = fixtures::headers(&[
            (":path", "/"),
            ("authorization", &format!("Bearer {token}")),
        ]);
        let decision = {
            let now = Ms(host.now());
            let view = w.view(done, &mut *host);
            owned(evaluate(p, &mut headers, now, &view))
        };
        let Decision::Wait(callouts) = &decision else {
            return decision;
        };
        let now = host.now();
        let calls = w.wait_own(host, ctx, callouts, now);
        done.extend(callouts.iter().copied());
        if calls > 0 {
            return decision;
        }
    }
}

/// The answer to the `i`-th call reaches its request's context: the
/// request is evaluated again once it has no call left (`None` until then).
fn answer_own(
    w: &mut Worker,
    p: &crate::rules::Policy,
    host: &mut FakeHost,
    i: usize,
    a: Answer,
    (ctx, token, done): (u32, &str, &mut Vec<Callout>),
) -> Option<Decision<'static>> {
    let call = host.sent[i].token;
    assert!(
        w.on_response(host, call, a, None),
        "the call is the worker's"
    );
    (w.own_calls(ctx) == 0).then(|| send_own(w, p, host, ctx, token, done))
}

#[test]
fn a_waiting_request_fetches_from_its_own_context_and_its_answer_wakes_it() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    let mut done = Vec::new();
    assert!(waits(&send_own(&mut w, &p, &mut host, 7, &t, &mut done)));
    assert_eq!(
        host.sent.len(),
        1,
        "the call is made at once, not on a tick"
    );
    assert_eq!((w.own_calls(7), w.parked()), (1, 0));
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1, "the tick starts no second fetch");
    let d = answer_own(
        &mut w,
        &p,
        &mut host,
        0,
        ok(keys(&["k"])),
        (7, &t, &mut done),
    );
    assert!(matches!(d, Some(Decision::Allow)));
    // Keys are in: the next request neither waits nor calls.
    let mut done = Vec::new();
    assert!(matches!(
        send_own(&mut w, &p, &mut host, 8, &t, &mut done),
        Decision::Allow
    ));
    assert_eq!(host.sent.len(), 1);
}

#[test]
fn each_concurrent_waiter_calls_and_an_answer_after_new_keys_is_not_read() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    let mut dones = [Vec::new(), Vec::new(), Vec::new()];
    for (ctx, done) in (1..).zip(dones.iter_mut()) {
        assert!(waits(&send_own(&mut w, &p, &mut host, ctx, &t, done)));
    }
    assert_eq!(host.sent.len(), 3, "no other way to wake each of them");
    let [d1, d2, d3] = &mut dones[..] else {
        unreachable!()
    };
    let first = answer_own(&mut w, &p, &mut host, 1, ok(keys(&["k"])), (2, &t, d2));
    assert!(matches!(first, Some(Decision::Allow)));
    // The others' answers come after the keys: even a broken one is not
    // read (no failure), it only wakes its request.
    let late = Answer::Http {
        status: 500,
        body: Vec::new(),
    };
    let d = answer_own(&mut w, &p, &mut host, 0, late, (1, &t, d1));
    assert!(matches!(d, Some(Decision::Allow)));
    let d = answer_own(&mut w, &p, &mut host, 2, ok(b"{}".to_vec()), (3, &t, d3));
    assert!(matches!(d, Some(Decision::Allow)));
    assert_eq!(host.logged("failed"), 0);
}

#[test]
fn a_failed_call_answers_its_request_and_later_ones_at_once_during_the_back_off() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    let mut done = Vec::new();
    send_own(&mut w, &p, &mut host, 1, &t, &mut done);
    let down = Answer::NoAnswer("connection refused".into());
    let d = answer_own(&mut w, &p, &mut host, 0, down, (1, &t, &mut done));
    assert!(is(&d.expect("woken"), &denied(Status::JwksFetchFail)));
    assert_eq!(host.logged("failed: connection refused"), 1);
    // Within failed_refetch_duration: no call, refused at once.
    host.advance(500);
    let mut done = Vec::new();
    let d = send_own(&mut w, &p, &mut host, 2, &t, &mut done);
    assert!(is(&d, &denied(Status::JwksFetchFail)));
    assert_eq!(host.sent.len(), 1);
    // After it, the next request calls again and the IdP is back.
    host.advance(600);
    let mut done = Vec::new();
    assert!(waits(&send_own(&mut w, &p, &mut host, 3, &t, &mut done)));
    let d = answer_own(
        &mut w,
        &p,
        &mut host,
        1,
        ok(keys(&["k"])),
        (3, &t, &mut done),
    );
    assert!(matches!(d, Some(Decision::Allow)));
}

#[test]
fn discovery_makes_both_calls_from_the_request_and_wakes_it_after_the_second() {
    let p = policy(json!({"discovery": true, "http_uri": {
        "uri": "https://idp.test/.well-known/openid-configuration", "cluster": "idp", "timeout": "2s"}}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    let mut done = Vec::new();
    send_own(&mut w, &p, &mut host, 4, &t, &mut done);
    assert_eq!(host.sent[0].path, "/.well-known/openid-configuration");
    let doc = json!({"issuer": "https://idp.test", "jwks_uri": "https://keys.idp.test/k"});
    let d = answer_own(
        &mut w,
        &p,
        &mut host,
        0,
        ok(doc.to_string().into_bytes()),
        (4, &t, &mut done),
    );
    assert!(d.is_none(), "still waiting: the JWKS call is its own too");
    assert_eq!((host.sent[1].path.as_str(), w.own_calls(4)), ("/k", 1));
    let d = answer_own(
        &mut w,
        &p,
        &mut host,
        1,
        ok(keys(&["k"])),
        (4, &t, &mut done),
    );
    assert!(matches!(d, Some(Decision::Allow)));
}

#[test]
fn an_unknown_kid_refetches_from_the_request_once() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let mut done = Vec::new();
    send_own(&mut w, &p, &mut host, 1, &token("k1"), &mut done);
    answer_own(
        &mut w,
        &p,
        &mut host,
        0,
        ok(keys(&["k1"])),
        (1, &token("k1"), &mut done),
    );
    let k2 = token("k2");
    let mut done = Vec::new();
    assert!(waits(&send_own(&mut w, &p, &mut host, 2, &k2, &mut done)));
    assert_eq!(host.sent.len(), 2);
    let mut other = Vec::new();
    let d = send_own(&mut w, &p, &mut host, 3, &k2, &mut other);
    assert!(
        is(&d, &denied(Status::JwksKidAlgMismatch)),
        "one refetch per interval"
    );
    let d = answer_own(
        &mut w,
        &p,
        &mut host,
        1,
        ok(keys(&["k2"])),
        (2, &k2, &mut done),
    );
    assert!(matches!(d, Some(Decision::Allow)));
}

#[test]
fn keys_another_worker_shared_are_taken_instead_of_calling() {
    let store: Store = Rc::default();
    let p = policy(json!({}));
    let (mut a, mut ha) = (worker(&p), FakeHost::new(Some(store.clone())));
    let (mut b, mut hb) = (worker(&p), FakeHost::new(Some(store)));
    let t = token("k");
    let mut done = Vec::new();
    send_own(&mut a, &p, &mut ha, 1, &t, &mut done);
    answer_own(&mut a, &p, &mut ha, 0, ok(keys(&["k"])), (1, &t, &mut done));
    let mut done = Vec::new();
    assert!(matches!(
        send_own(&mut b, &p, &mut hb, 1, &t, &mut done),
        Decision::Allow
    ));
    assert_eq!(hb.sent.len(), 0);
}

#[test]
fn a_request_that_leaves_is_forgotten_and_the_tick_replaces_its_lost_call() {
    let p = policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    let mut done = Vec::new();
    send_own(&mut w, &p, &mut host, 5, &t, &mut done);
    w.forget(5);
    assert_eq!(w.own_calls(5), 0);
    // The host dropped the call with the request: after its timeout (2 s)
    // and the grace, the round counts as lost and the tick fetches.
    host.advance(1_000);
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1);
    host.advance(2_100);
    w.tick(&mut host);
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 2, "one replacement fetch");
    answer(&mut w, &mut host, 1, ok(keys(&["k"])));
    let mut done = Vec::new();
    assert!(matches!(
        send_own(&mut w, &p, &mut host, 6, &t, &mut done),
        Decision::Allow
    ));
}

#[test]
fn once_a_request_waited_the_tick_refreshes_keys_before_they_expire() {
    let p = policy(json!({"cache_duration": "100s"}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let t = token("k");
    let mut done = Vec::new();
    send_own(&mut w, &p, &mut host, 1, &t, &mut done);
    answer_own(
        &mut w,
        &p,
        &mut host,
        0,
        ok(keys(&["k"])),
        (1, &t, &mut done),
    );
    host.advance(89_000);
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 1, "fresh until the last tenth");
    host.advance(2_000);
    w.tick(&mut host);
    assert_eq!(host.sent.len(), 2, "refreshed with no request waiting");
    answer(&mut w, &mut host, 1, ok(keys(&["k"])));
    host.advance(20_000); // past the first keys' expiry
    let mut done = Vec::new();
    assert!(matches!(
        send_own(&mut w, &p, &mut host, 2, &t, &mut done),
        Decision::Allow
    ));
    assert_eq!(host.sent.len(), 2);
}
