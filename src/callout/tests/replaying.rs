//! The DPoP replay store on fake hosts: shared by two workers, a write lost
//! to another worker, a full slot, a host without shared data.

use super::*;
use crate::authn::dpop::Replay;
use crate::callout::replay::{first_use, Local};

const NOW_MS: u64 = 1_700_000_000_000;
const SLOT: &str = "jwt_guard/dpop/p/3";

fn key(n: usize) -> String {
    crate::dpop::replay::proof_key("jkt", &n.to_string())
}

fn shared() -> FakeHost {
    FakeHost::new(Some(Store::default()))
}

fn admit(host: &mut FakeHost, local: &mut Local, n: usize, now: u64) -> Replay {
    first_use(host, local, SLOT, &key(n), NOW_MS + 60_000, now)
}

#[test]
fn a_proof_is_first_once_then_seen_until_its_window_ends() {
    let (mut host, mut local) = (shared(), Local::default());
    assert_eq!(admit(&mut host, &mut local, 1, NOW_MS), Replay::First);
    assert_eq!(admit(&mut host, &mut local, 1, NOW_MS + 1), Replay::Seen);
    assert_eq!(
        admit(&mut host, &mut local, 1, NOW_MS + 60_000),
        Replay::First
    );
    assert!(local.is_empty(), "shared data was used");
}

#[test]
fn two_workers_sharing_data_accept_a_proof_once() {
    let store = Store::default();
    let mut a = FakeHost::new(Some(store.clone()));
    let mut b = FakeHost::new(Some(store));
    let (mut la, mut lb) = (Local::default(), Local::default());
    assert_eq!(admit(&mut a, &mut la, 2, NOW_MS), Replay::First);
    assert_eq!(admit(&mut b, &mut lb, 2, NOW_MS), Replay::Seen);
    // Another proof in the same slot is still welcome, once.
    assert_eq!(admit(&mut b, &mut lb, 3, NOW_MS), Replay::First);
    assert_eq!(admit(&mut a, &mut la, 3, NOW_MS), Replay::Seen);
}

#[test]
fn a_write_lost_to_another_worker_is_read_again() {
    let (mut host, mut local) = (shared(), Local::default());
    assert_eq!(admit(&mut host, &mut local, 5, NOW_MS), Replay::First);
    // Between this worker's read and write, another admits the same proof.
    let theirs = format!(
        "{} {}\n{} {}\n",
        key(5),
        NOW_MS + 60_000,
        key(4),
        NOW_MS + 60_000
    );
    host.published_on_write = Some((SLOT.to_owned(), theirs.into_bytes()));
    assert_eq!(admit(&mut host, &mut local, 4, NOW_MS), Replay::Seen);
    assert!(
        host.published_on_write.is_none(),
        "the other write happened"
    );
}

#[test]
fn a_full_slot_refuses_and_a_host_without_shared_data_keeps_its_own() {
    let (mut host, mut local) = (shared(), Local::default());
    for n in 0..crate::dpop::replay::SLOT_ENTRIES {
        assert_eq!(admit(&mut host, &mut local, 10 + n, NOW_MS), Replay::First);
    }
    assert_eq!(admit(&mut host, &mut local, 99, NOW_MS), Replay::Full);
    let mut alone = FakeHost::new(None);
    assert_eq!(admit(&mut alone, &mut local, 1, NOW_MS), Replay::First);
    assert_eq!(admit(&mut alone, &mut local, 1, NOW_MS), Replay::Seen);
    assert!(!local.is_empty());
}
