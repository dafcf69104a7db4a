//! Replay protection for DPoP proofs (RFC 9449 §11.1): a proof's
//! `(jkt, jti)` is accepted once while its `iat` window lasts. The record
//! is kept in shared data, so the protection holds for every worker of the
//! process, in slots of a few entries each: memory stays bounded, and an
//! entry is dropped when its window ends.
//!
//! This is the pure part: what a slot's value becomes when a proof is
//! seen. The caller reads the slot, applies [`Slot::admit`], and writes the
//! result back with compare-and-set (retrying when another worker wrote
//! first), so two workers never both accept the same proof.

use sha2::{Digest, Sha256};

/// Entries one slot holds at most; a slot full of live entries refuses new
/// proofs rather than forget one (closed on doubt).
pub const SLOT_ENTRIES: usize = 8;

/// A proof's identity in the store: 128 bits of SHA-256 over its key
/// thumbprint and `jti` (never the `jti` itself), hex.
pub fn proof_key(jkt: &str, jti: &str) -> String {
    let mut h = Sha256::new();
    h.update(jkt.as_bytes());
    h.update([0]);
    h.update(jti.as_bytes());
    let digest = h.finalize();
    crate::b64::hex(digest.get(..16).unwrap_or(&[]))
}

/// Which slot (of `slots`) a proof key lives in.
pub fn slot_of(key: &str, slots: usize) -> usize {
    let n = key
        .get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    let slots = u64::try_from(slots.max(1)).unwrap_or(u64::MAX);
    usize::try_from(n.checked_rem(slots).unwrap_or(0)).unwrap_or(0)
}

/// What a slot says about a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Not seen in its window: write this value (with compare-and-set) and,
    /// once written, accept the proof.
    First(Vec<u8>),
    /// Seen before, within its window: a replay.
    Replay,
    /// The slot is full of live entries: refuse (the store is too small
    /// for the traffic, see `replay_cache.max_entries`).
    Full,
}

/// A slot's live entries: `<key> <until_ms>` per line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Slot(Vec<(String, u64)>);

impl Slot {
    /// Reads a slot's value; malformed lines are dropped (a slot is only
    /// ever written by this code, and a dropped entry errs on acceptance of
    /// a proof it held, never on refusing a good one).
    pub fn read(value: Option<&[u8]>, now_ms: u64) -> Slot {
        let text = value
            .and_then(|v| std::str::from_utf8(v).ok())
            .unwrap_or("");
        let entries = text
            .lines()
            .filter_map(|line| {
                let (key, until) = line.split_once(' ')?;
                let until = until.parse::<u64>().ok()?;
                (key.len() == 32 && until > now_ms).then(|| (key.to_owned(), until))
            })
            .collect();
        Slot(entries)
    }

    /// The proof `key`, whose window ends at `until_ms`, arrives.
    pub fn admit(mut self, key: &str, until_ms: u64) -> Admission {
        if self.0.iter().any(|(k, _)| k == key) {
            return Admission::Replay;
        }
        if self.0.len() >= SLOT_ENTRIES {
            return Admission::Full;
        }
        self.0.push((key.to_owned(), until_ms));
        let mut out = String::new();
        for (k, until) in &self.0 {
            out.push_str(&format!("{k} {until}\n"));
        }
        Admission::First(out.into_bytes())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// When a proof's window ends: `iat` plus the allowed age (and the future
/// skew, for a proof dated ahead), in milliseconds.
pub fn window_end_ms(iat_s: u64, max_age_s: u64, future_skew_s: u64) -> u64 {
    iat_s
        .saturating_add(max_age_s)
        .saturating_add(future_skew_s)
        .saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    #[test]
    fn a_proof_is_admitted_once_within_its_window() {
        let key = proof_key("jkt", "jti-1");
        let Admission::First(value) = Slot::read(None, NOW).admit(&key, NOW + 1_000) else {
            panic!("first use")
        };
        assert_eq!(
            Slot::read(Some(&value), NOW).admit(&key, NOW + 1_000),
            Admission::Replay
        );
        // Its window ended: the entry is gone, the slot takes it as new.
        assert!(matches!(
            Slot::read(Some(&value), NOW + 1_000).admit(&key, NOW + 2_000),
            Admission::First(_)
        ));
        // Another jti of the same key, or the same jti of another key: new.
        for other in [proof_key("jkt", "jti-2"), proof_key("jkt2", "jti-1")] {
            assert!(matches!(
                Slot::read(Some(&value), NOW).admit(&other, NOW + 1_000),
                Admission::First(_)
            ));
        }
    }

    #[test]
    fn a_full_slot_refuses_instead_of_forgetting() {
        let mut value: Option<Vec<u8>> = None;
        for i in 0..SLOT_ENTRIES {
            let key = proof_key("k", &i.to_string());
            match Slot::read(value.as_deref(), NOW).admit(&key, NOW + 60_000) {
                Admission::First(v) => value = Some(v),
                other => panic!("{i}: {other:?}"),
            }
        }
        let slot = Slot::read(value.as_deref(), NOW);
        assert_eq!(slot.len(), SLOT_ENTRIES);
        assert_eq!(
            slot.admit(&proof_key("k", "new"), NOW + 60_000),
            Admission::Full
        );
        // Once their windows end there is room again.
        let later = Slot::read(value.as_deref(), NOW + 60_000);
        assert!(later.is_empty());
    }

    #[test]
    fn keys_hide_the_jti_and_separate_its_parts() {
        let k = proof_key("ab", "c");
        assert_eq!(k.len(), 32);
        assert!(k.bytes().all(|b| b.is_ascii_hexdigit()), "{k}");
        assert_ne!(proof_key("ab", "c"), proof_key("a", "bc"));
        assert!(slot_of(&k, 10) < 10);
        assert_eq!(slot_of(&k, 0), 0);
    }

    #[test]
    fn malformed_lines_are_dropped() {
        let key = proof_key("j", "t");
        let value = format!(
            "junk\n{key}\n{key} soon\nshort 99999999999999\n{key} {}\n",
            NOW + 5
        );
        let slot = Slot::read(Some(value.as_bytes()), NOW);
        assert_eq!(slot.len(), 1);
        assert_eq!(Slot::read(Some(b"\xff\xfe"), NOW).len(), 0);
    }

    #[test]
    fn a_window_is_the_age_and_skew_after_iat() {
        assert_eq!(window_end_ms(1_000, 300, 5), 1_305_000);
        assert_eq!(window_end_ms(u64::MAX, 300, 5), u64::MAX);
    }
}
