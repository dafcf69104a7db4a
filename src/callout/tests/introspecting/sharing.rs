//! Introspection across workers (one call and one answer per process) and
//! on a host where each waiting request makes its own call.

use super::*;

#[test]
fn workers_share_one_call_and_its_answer() {
    let p = intro_policy(json!({}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    assert!(waits_for_introspection(&send(
        &mut a,
        &p,
        &mut ha,
        1,
        TOKEN,
        &[]
    )));
    assert!(waits_for_introspection(&send(
        &mut b,
        &p,
        &mut hb,
        2,
        TOKEN,
        &[]
    )));
    assert_eq!(
        (ha.sent.len(), hb.sent.len()),
        (1, 0),
        "b waits for a's call"
    );
    answer(&mut a, &mut ha, 0, active(json!({})));
    assert!(matches!(
        resume(&mut a, &p, &mut ha, TOKEN)[0].1,
        Decision::Allow
    ));
    b.tick(&mut hb);
    assert!(matches!(
        resume(&mut b, &p, &mut hb, TOKEN)[0].1,
        Decision::Allow
    ));
    // A later request on b takes the shared answer without waiting.
    let mut c = worker(&p);
    let mut hc = FakeHost::new(hb.shared.clone());
    assert!(matches!(
        send(&mut c, &p, &mut hc, 3, TOKEN, &[]),
        Decision::Allow
    ));
    assert!(hb.sent.is_empty() && hc.sent.is_empty());
}

#[test]
fn a_lease_that_runs_out_is_taken_over() {
    let p = intro_policy(json!({}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    send(&mut a, &p, &mut ha, 1, TOKEN, &[]);
    send(&mut b, &p, &mut hb, 2, TOKEN, &[]);
    assert_eq!(hb.sent.len(), 0);
    // a's worker goes silent past its lease (timeout + grace).
    hb.advance(3_001);
    b.tick(&mut hb);
    assert_eq!(hb.sent.len(), 1, "b asks itself");
    answer(&mut b, &mut hb, 0, inactive());
    let (_, d) = &resume(&mut b, &p, &mut hb, TOKEN)[0];
    assert!(is(d, &denied(Status::TokenInactive)));
}

#[test]
fn where_requests_wait_on_calls_of_their_own_each_calls_and_the_answer_is_shared() {
    let p = intro_policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let mut calls = 0;
    for ctx in [1, 2] {
        let callouts = callouts_of(&mut w, &p, &mut host, TOKEN);
        let now = host.now();
        calls += w.wait_own(&mut host, ctx, &callouts, now);
    }
    assert_eq!((calls, host.sent.len()), (2, 2));
    answer(&mut w, &mut host, 0, active(json!({})));
    assert_eq!((w.own_calls(1), w.own_calls(2)), (0, 1));
    // Request 1 is evaluated again, with its callout done.
    let done = [Callout::Introspect {
        provider: 0,
        key: crate::introspection::cache_key(
            &p.providers[0].introspection.as_ref().unwrap().scope,
            TOKEN,
        ),
    }];
    assert!(matches!(
        send(&mut w, &p, &mut host, 1, TOKEN, &done),
        Decision::Allow
    ));
    // A new request needs no call now.
    assert!(matches!(
        send(&mut w, &p, &mut host, 3, TOKEN, &[]),
        Decision::Allow
    ));
    assert_eq!(host.sent.len(), 2);
}

#[test]
fn without_a_cache_every_request_asks_but_waiters_share_the_answer() {
    let p = intro_policy(json!({"cache": {"max_entries": 0}}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    send(&mut a, &p, &mut ha, 1, TOKEN, &[]);
    send(&mut b, &p, &mut hb, 2, TOKEN, &[]);
    answer(&mut a, &mut ha, 0, active(json!({})));
    assert!(matches!(
        resume(&mut a, &p, &mut ha, TOKEN)[0].1,
        Decision::Allow
    ));
    b.tick(&mut hb);
    assert!(matches!(
        resume(&mut b, &p, &mut hb, TOKEN)[0].1,
        Decision::Allow
    ));
    assert!(waits_for_introspection(&send(
        &mut b,
        &p,
        &mut hb,
        3,
        TOKEN,
        &[]
    )));
    assert!(waits_for_introspection(&send(
        &mut a,
        &p,
        &mut ha,
        4,
        TOKEN,
        &[]
    )));
    assert_eq!(ha.sent.len() + hb.sent.len(), 2, "asked again");
}
