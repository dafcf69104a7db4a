//! Two workers of one process, sharing keys, the fetch lease and round
//! outcomes through one shared-data map.

use super::*;

#[test]
fn one_fetch_serves_both_workers() {
    let p = policy(json!({}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    let t = token("k");
    assert!(waits(&send(&mut a, &p, &mut ha, 1, &t, &[])));
    assert!(waits(&send(&mut b, &p, &mut hb, 2, &t, &[])));
    a.tick(&mut ha);
    b.tick(&mut hb);
    assert_eq!(
        (ha.sent.len(), hb.sent.len()),
        (1, 0),
        "b waits for a's fetch"
    );
    ha.advance(100);
    hb.advance(100);
    answer(&mut a, &mut ha, 0, ok(keys(&["k"])));
    assert!(matches!(
        resume(&mut a, &p, &mut ha, &t)[0].1,
        Decision::Allow
    ));
    b.tick(&mut hb);
    assert!(matches!(
        resume(&mut b, &p, &mut hb, &t)[0].1,
        Decision::Allow
    ));
    assert_eq!(hb.sent.len(), 0);
}

#[test]
fn a_hanging_idp_answers_every_workers_requests_when_the_fetch_times_out() {
    let p = policy(json!({}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    let t = token("k");
    send(&mut a, &p, &mut ha, 1, &t, &[]);
    a.tick(&mut ha);
    // A request on b arrives while a's fetch hangs.
    hb.advance(500);
    assert!(waits(&send(&mut b, &p, &mut hb, 2, &t, &[])));
    b.tick(&mut hb);
    assert!(hb.sent.is_empty());
    // The host gives up on a's call at its 2 s timeout.
    ha.advance(2_000);
    answer(&mut a, &mut ha, 0, Answer::NoAnswer("timeout".into()));
    assert!(is(
        &resume(&mut a, &p, &mut ha, &t)[0].1,
        &denied(Status::JwksFetchFail)
    ));
    // b's next tick (20 ms later) learns the round failed: answered at
    // 2.02 s after a's fetch began, 1.52 s after it waited, not after a
    // fetch of its own.
    hb.advance(1_520);
    b.tick(&mut hb);
    let answers = resume(&mut b, &p, &mut hb, &t);
    assert_eq!(answers.len(), 1);
    assert!(is(&answers[0].1, &denied(Status::JwksFetchFail)));
    assert!(hb.sent.is_empty(), "b did not fetch on its own");
    // Both back off for failed_refetch_duration: answered at once.
    assert!(is(
        &send(&mut b, &p, &mut hb, 3, &t, &[]),
        &denied(Status::JwksFetchFail)
    ));
}

#[test]
fn a_silent_lease_holder_delays_no_one_past_the_budget() {
    let p = policy(json!({}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    let t = token("k");
    send(&mut a, &p, &mut ha, 1, &t, &[]);
    a.tick(&mut ha); // a holds the lease, then its worker goes quiet
    assert!(waits(&send(&mut b, &p, &mut hb, 2, &t, &[])));
    b.tick(&mut hb);
    hb.advance(2_049);
    b.tick(&mut hb);
    assert!(b.ready(hb.now()).is_empty());
    hb.advance(1); // the 2 s budget and 50 ms of slack
    assert!(is(
        &resume(&mut b, &p, &mut hb, &t)[0].1,
        &denied(Status::JwksFetchFail)
    ));
    // Once the lease has run out (budget + 1 s), b fetches itself.
    hb.advance(1_000);
    assert!(waits(&send(&mut b, &p, &mut hb, 3, &t, &[])));
    b.tick(&mut hb);
    assert_eq!(hb.sent.len(), 1);
    answer(&mut b, &mut hb, 0, ok(keys(&["k"])));
    assert!(matches!(
        resume(&mut b, &p, &mut hb, &t)[0].1,
        Decision::Allow
    ));
}

#[test]
fn an_old_failure_does_not_answer_requests_that_began_to_wait_after_it() {
    let p = policy(json!({}));
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    let t = token("k");
    send(&mut a, &p, &mut ha, 1, &t, &[]);
    a.tick(&mut ha);
    answer(&mut a, &mut ha, 0, Answer::NoAnswer("refused".into()));
    resume(&mut a, &p, &mut ha, &t);
    // Long after, b waits: a's old failure is no answer to it; b fetches.
    hb.advance(60_000);
    assert!(waits(&send(&mut b, &p, &mut hb, 2, &t, &[])));
    b.tick(&mut hb);
    assert!(b.ready(hb.now()).is_empty());
    assert_eq!(hb.sent.len(), 1);
}

#[test]
fn without_shared_data_each_worker_fetches_alone() {
    let p = policy(json!({}));
    let (mut a, mut ha) = (worker(&p), FakeHost::new(None));
    let (mut b, mut hb) = (worker(&p), FakeHost::new(None));
    let t = token("k");
    send(&mut a, &p, &mut ha, 1, &t, &[]);
    send(&mut b, &p, &mut hb, 2, &t, &[]);
    a.tick(&mut ha);
    b.tick(&mut hb);
    assert_eq!((ha.sent.len(), hb.sent.len()), (1, 1));
}

#[test]
fn keys_published_while_the_lease_is_taken_are_used_not_fetched_again() {
    let p = policy(json!({}));
    let (_, (mut b, mut hb)) = pair(&p);
    let t = token("k");
    assert!(waits(&send(&mut b, &p, &mut hb, 2, &t, &[])));
    // Between b's read of shared data and its lease, a publishes its keys
    // and lets the lease go.
    let key = "jwt_guard/keys/idp/https://idp.test/jwks.json".to_owned();
    hb.published_on_lease = vec![(key, keys(&["k"]))];
    b.tick(&mut hb);
    assert!(hb.sent.is_empty(), "no second fetch");
    assert!(matches!(
        resume(&mut b, &p, &mut hb, &t)[0].1,
        Decision::Allow
    ));
    // The lease is free again for whoever needs it next.
    let store = hb.shared.clone().expect("shared data");
    let lease = store
        .borrow()
        .get("jwt_guard/keys/idp/https://idp.test/jwks.json#lease")
        .map(|(v, _)| v.clone());
    assert_eq!(lease.as_deref(), Some(&b"0"[..]));
}
