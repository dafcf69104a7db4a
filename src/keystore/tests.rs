use super::*;
use crate::jwks::testdata::RSA_JWK;

fn jwks() -> Jwks {
    crate::jwks::parse(&format!(r#"{{"keys":[{RSA_JWK}]}}"#)).unwrap()
}

fn policy() -> FetchPolicy {
    FetchPolicy {
        cache_duration_ms: 10_000,
        timeout_ms: 2_000,
        ..FetchPolicy::default()
    }
}

fn prefetching() -> FetchPolicy {
    FetchPolicy {
        prefetch: true,
        ..policy()
    }
}

/// A store that fetched successfully at t=0.
fn loaded(policy: FetchPolicy) -> KeyStore {
    let mut s = KeyStore::new(policy);
    s.start(0);
    s.succeeded(jwks(), 0);
    s
}

#[test]
fn first_fetch_due_only_when_waiting_without_prefetch() {
    let mut s = KeyStore::new(policy());
    assert!(!s.due(0));
    assert_eq!(s.wake_at(), None);
    s.mark_waiting(5);
    assert!(s.due(5));
    assert_eq!(s.waiting_since(), Some(5));
}

#[test]
fn first_fetch_due_at_once_with_prefetch() {
    let s = KeyStore::new(prefetching());
    assert!(s.due(0));
    assert_eq!(s.wake_at(), Some(0));
    assert!(s.keys(0).is_none());
}

#[test]
fn nothing_due_while_in_flight() {
    let mut s = KeyStore::new(prefetching());
    s.start(0);
    assert!(s.in_flight() && s.pending());
    assert!(!s.due(100));
    s.mark_waiting(100);
    assert!(!s.due(100));
}

#[test]
fn success_installs_and_expires_after_cache_duration() {
    let mut s = KeyStore::new(policy());
    s.mark_waiting(0);
    s.start(0);
    s.succeeded(jwks(), 1_000);
    assert!(!s.in_flight() && !s.pending());
    assert_eq!(s.waiting_since(), None);
    assert_eq!(s.expires_at(), Some(11_000));
    assert!(s.fresh(10_999) && !s.stale(10_999));
    assert!(!s.fresh(11_000) && s.stale(11_000));
    assert_eq!(s.keys(11_000).map(|k| k.len()), Some(1));
}

#[test]
fn expired_keys_refetched_only_when_waiting_without_prefetch() {
    let mut s = loaded(policy());
    assert!(!s.due(20_000));
    s.mark_waiting(5_000); // fresh: nobody needs to wait
    assert_eq!(s.waiting_since(), None);
    s.mark_waiting(20_000);
    assert!(s.due(20_000));
}

#[test]
fn prefetch_refreshes_within_last_tenth_of_cache_duration() {
    let s = loaded(prefetching());
    assert!(!s.due(8_999));
    assert!(s.due(9_000));
    assert_eq!(s.wake_at(), Some(9_000));
}

#[test]
fn failure_keeps_old_keys() {
    let mut s = loaded(prefetching());
    let before = s.keys(9_000).cloned().unwrap();
    s.start(9_000);
    assert_eq!(s.failed(9_100), Attempt::Settled);
    assert!(Arc::ptr_eq(s.keys(9_100).unwrap(), &before));
    assert_eq!(s.generation(), 1);
    assert_eq!(s.last_failure(), Some(9_100));
    assert_eq!(s.consecutive_failures(), 1);
}

#[test]
fn stale_served_until_max_stale_then_none() {
    let s = loaded(FetchPolicy {
        max_stale_ms: 5_000,
        ..policy()
    });
    assert!(s.stale(14_999) && s.keys(14_999).is_some());
    assert!(s.keys(15_000).is_none() && !s.stale(15_000));
}

#[test]
fn backoff_sequence_with_retries_then_settled() {
    let mut s = KeyStore::new(FetchPolicy {
        num_retries: 4,
        base_interval_ms: 100,
        max_interval_ms: 300,
        ..policy()
    });
    s.mark_waiting(0);
    let mut now = 0;
    for delay in [100, 200, 300, 300] {
        assert!(s.due(now));
        s.start(now);
        assert_eq!(s.failed(now), Attempt::Retrying);
        assert!(s.pending() && !s.in_flight());
        assert!(!s.due(now + delay - 1), "retry before {delay} ms");
        assert_eq!(s.wake_at(), Some(now + delay));
        now += delay;
    }
    assert!(s.due(now));
    s.start(now);
    assert_eq!(s.failed(now), Attempt::Settled);
    assert!(!s.pending());
    assert_eq!(s.waiting_since(), None);
    assert_eq!(s.consecutive_failures(), 5);
}

#[test]
fn backoff_saturates_instead_of_overflowing() {
    let mut s = KeyStore::new(FetchPolicy {
        num_retries: u32::MAX,
        base_interval_ms: u64::MAX / 2,
        max_interval_ms: u64::MAX,
        ..policy()
    });
    for _ in 0..70 {
        s.start(u64::MAX - 1);
        assert_eq!(s.failed(u64::MAX - 1), Attempt::Retrying);
    }
    assert!(s.due(u64::MAX));
}

#[test]
fn settled_failure_waits_failed_refetch_with_prefetch() {
    let mut s = KeyStore::new(prefetching());
    s.start(0);
    assert_eq!(s.failed(100), Attempt::Settled);
    s.mark_waiting(200);
    assert!(!s.due(1_099) && !s.pending());
    assert!(s.due(1_100));
    assert_eq!(s.wake_at(), Some(1_100));
}

#[test]
fn settled_failure_without_prefetch_refetches_on_a_request_after_the_interval() {
    let mut s = KeyStore::new(policy());
    s.mark_waiting(0);
    s.start(0);
    assert_eq!(s.failed(100), Attempt::Settled);
    assert!(!s.due(100));
    s.mark_waiting(150);
    // One round per failed_refetch_ms (1 s) however many requests come.
    assert!(!s.due(150) && s.backing_off(150));
    s.mark_waiting(1_100);
    assert!(s.due(1_100) && !s.backing_off(1_100));
}

#[test]
fn a_round_lost_elsewhere_answers_waiters_and_backs_off_here_too() {
    // This worker waits (another one holds the lease and fetches).
    let mut s = KeyStore::new(policy());
    s.mark_waiting(100);
    assert!(s.due(100) && s.waiting_since() == Some(100));
    s.failed_elsewhere(2_000);
    assert_eq!(s.waiting_since(), None);
    assert_eq!(
        (s.last_failure(), s.consecutive_failures()),
        (Some(2_000), 1)
    );
    // Requests are answered at once until failed_refetch_ms has passed.
    s.mark_waiting(2_100);
    assert!(!s.due(2_100) && s.backing_off(2_100) && !s.pending());
    assert!(s.due(3_000) && !s.backing_off(3_000));
    // Stale keys keep serving meanwhile.
    let mut s = loaded(policy());
    s.mark_waiting(10_500);
    s.failed_elsewhere(11_000);
    assert!(s.keys(11_000).is_some() && !s.due(11_500));
}

#[test]
fn unknown_kid_rate_limited() {
    let mut s = loaded(FetchPolicy {
        unknown_kid_refetch_ms: 30_000,
        ..policy()
    });
    assert!(s.unknown_kid(1_000));
    assert!(s.due(1_000));
    s.start(1_000);
    s.succeeded(jwks(), 1_100);
    assert!(!s.unknown_kid(30_999));
    assert!(!s.due(30_999));
    assert!(s.unknown_kid(31_000));
}

#[test]
fn unknown_kid_joins_the_fetch_in_flight() {
    let mut s = loaded(prefetching());
    s.start(9_000);
    assert!(s.unknown_kid(9_100));
    s.succeeded(jwks(), 9_200);
    assert!(!s.due(9_200));
}

#[test]
fn unknown_kid_not_granted_while_a_failed_round_waits() {
    let mut s = loaded(prefetching());
    s.start(9_000);
    assert_eq!(s.failed(9_000), Attempt::Settled);
    assert!(!s.unknown_kid(9_500));
    assert!(s.unknown_kid(10_000));
}

#[test]
fn stuck_fetch_expires() {
    let mut s = KeyStore::new(policy());
    s.mark_waiting(0);
    s.start(0);
    assert_eq!(s.wake_at(), Some(3_000));
    assert!(!s.due(2_999));
    assert_eq!(s.expire_stuck(2_999), None);
    assert!(s.due(3_000), "a lost fetch may be replaced");
    assert_eq!(s.expire_stuck(3_000), Some(Attempt::Settled));
    assert!(!s.in_flight());
    assert_eq!(s.expire_stuck(3_001), None);
}

#[test]
fn generation_bumps_on_every_install() {
    let mut s = KeyStore::new(policy());
    assert_eq!(s.generation(), 0);
    s.start(0);
    s.succeeded(jwks(), 0);
    assert_eq!(s.generation(), 1);
    s.install(jwks(), 500);
    assert_eq!(s.generation(), 2);
    assert_eq!(s.expires_at(), Some(10_500));
}

#[test]
fn install_from_another_worker_keeps_own_fetch_in_flight() {
    let mut s = KeyStore::new(policy());
    s.mark_waiting(0);
    s.start(0);
    s.install(jwks(), 10);
    assert!(s.in_flight());
    assert_eq!(s.waiting_since(), None);
    assert!(s.keys(10).is_some());
}
