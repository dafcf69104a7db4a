//! The DPoP replay store on the host's shared data: a proof's slot is read,
//! [`Slot::admit`] says what it becomes, and the new value is written with
//! compare-and-set, so of two workers admitting the same proof at once one
//! write fails, re-reads, and finds it a replay. A host without shared data
//! gets one store per worker ([`Local`]).

use super::Host;
use crate::authn::dpop::Replay;
use crate::dpop::replay::{Admission, Slot};
use std::collections::HashMap;

/// Reads and writes one slot may take before giving up (then the proof is
/// refused with 503, as a full slot is): only contention on one slot by
/// many workers at once gets near it.
const MAX_ROUNDS: usize = 16;

/// What a new slot holds before its first entry: a line `Slot::read`
/// drops (an empty value may read back as absent on some hosts).
const PLACEHOLDER: &[u8] = b"-";

/// Slots kept by this worker alone, on a host without shared data.
#[derive(Debug, Default)]
pub struct Local(HashMap<String, Vec<u8>>);

impl Local {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn admitted(a: Admission) -> Replay {
    match a {
        Admission::First(_) => Replay::First,
        Admission::Replay => Replay::Seen,
        Admission::Full => Replay::Full,
    }
}

/// Records proof `key` in `slot` unless it is there within its window.
pub fn first_use(
    host: &mut dyn Host,
    local: &mut Local,
    slot: &str,
    key: &str,
    until_ms: u64,
    now_ms: u64,
) -> Replay {
    for _ in 0..MAX_ROUNDS {
        let (value, cas) = match super::shared_get_or_create(host, slot, PLACEHOLDER) {
            None => {
                let admission =
                    Slot::read(local.0.get(slot).map(Vec::as_slice), now_ms).admit(key, until_ms);
                if let Admission::First(v) = &admission {
                    local.0.insert(slot.to_owned(), v.clone());
                }
                return admitted(admission);
            }
            // Still missing: try again.
            Some((None, _)) => continue,
            Some((Some(value), cas)) => (value, cas),
        };
        match Slot::read(Some(&value), now_ms).admit(key, until_ms) {
            Admission::First(new) => {
                // Without a version the write cannot be guarded: a host
                // that keeps none gives no better.
                if host.shared_set(slot, &new, cas) {
                    return Replay::First;
                }
            }
            other => return admitted(other),
        }
    }
    Replay::Full
}
