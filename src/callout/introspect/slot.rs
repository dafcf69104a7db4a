//! A token's record in shared data, so that one introspection serves every
//! worker of the process. Records live in a fixed number of slots per
//! provider (a slot is picked by the cache key): shared memory stays
//! bounded however many tokens arrive, and a slot names the key it holds,
//! so a record is never taken for another token's.
//!
//! A slot holds `<key hex> <what>`, where what is:
//! - `p <until>`: a worker is asking about the token until then (a lease:
//!   the others wait for its answer instead of asking too);
//! - `f <at>` / `r <at>`: that call ended with no answer, or with our
//!   credentials refused (not cached: read only by requests that waited);
//! - a remembered answer ([`Remembered::to_record`]).

use crate::b64;
use crate::introspection::cache::Remembered;

/// What a slot says about one token.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Record {
    /// Another worker's call is under way until then.
    Asking(u64),
    /// A call ended without an answer at that time (`refused`: the endpoint
    /// refused our credentials).
    Failed {
        at: u64,
        refused: bool,
    },
    Answer(Remembered),
}

/// The shared-data key of `key`'s slot among `slots`.
pub(super) fn slot_name(prefix: &str, key: &[u8; 32], slots: usize) -> String {
    let mut word = [0u8; 8];
    for (w, b) in word.iter_mut().zip(key.iter()) {
        *w = *b;
    }
    let slots = u64::try_from(slots.max(1)).unwrap_or(u64::MAX);
    let slot = u64::from_le_bytes(word).checked_rem(slots).unwrap_or(0);
    format!("{prefix}{slot}")
}

pub(super) fn write(key: &[u8; 32], record: &Record) -> Vec<u8> {
    let mut out = b64::hex(key).into_bytes();
    out.push(b' ');
    match record {
        Record::Asking(until) => out.extend(format!("p {until}").bytes()),
        Record::Failed { at, refused } => {
            let tag = if *refused { 'r' } else { 'f' };
            out.extend(format!("{tag} {at}").bytes());
        }
        Record::Answer(r) => out.extend(r.to_record()),
    }
    out
}

/// The record about `key` in a slot's value; `None` when the slot holds
/// another token's, or anything malformed.
pub(super) fn read(key: &[u8; 32], value: &[u8]) -> Option<Record> {
    let name = b64::hex(key);
    let rest = value.strip_prefix(name.as_bytes())?.strip_prefix(b" ")?;
    let number = |bytes: &[u8]| std::str::from_utf8(bytes).ok()?.parse::<u64>().ok();
    match rest {
        [b'p', b' ', until @ ..] => number(until).map(Record::Asking),
        [b'f', b' ', at @ ..] => number(at).map(|at| Record::Failed { at, refused: false }),
        [b'r', b' ', at @ ..] => number(at).map(|at| Record::Failed { at, refused: true }),
        answer => Remembered::from_record(answer).map(Record::Answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn every_record_reads_back_as_written() {
        let answer = crate::introspection::cache::Active::read(r#"{"sub": "a"}"#);
        let active =
            Remembered::of_active(std::rc::Rc::new(answer.expect("an object")), 1_000, 5_000);
        for record in [
            Record::Asking(42),
            Record::Failed {
                at: 9,
                refused: false,
            },
            Record::Failed {
                at: 9,
                refused: true,
            },
            Record::Answer(Remembered::inactive(1_000, 10)),
            Record::Answer(active.expect("cacheable")),
        ] {
            assert_eq!(read(&KEY, &write(&KEY, &record)), Some(record));
        }
    }

    #[test]
    fn another_tokens_record_is_not_this_ones() {
        let value = write(&[8; 32], &Record::Asking(42));
        assert_eq!(read(&KEY, &value), None);
    }

    #[test]
    fn malformed_records_say_nothing() {
        let head = b64::hex(&KEY);
        for tail in [
            "",
            " ",
            " p",
            " p x",
            " f -1",
            " q 1",
            " 1 2 a\n[1]",
            " 1 2 i extra",
        ] {
            let value = format!("{head}{tail}");
            assert_eq!(read(&KEY, value.as_bytes()), None, "{tail:?}");
        }
    }

    #[test]
    fn slots_are_bounded_and_stable() {
        let a = slot_name("p/", &KEY, 16);
        assert_eq!(a, slot_name("p/", &KEY, 16));
        let n: u64 = a.trim_start_matches("p/").parse().expect("a number");
        assert!(n < 16);
        assert_eq!(slot_name("p/", &KEY, 0), "p/0");
    }
}
