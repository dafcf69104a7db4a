//! The verified-token cache: tokens that already passed signature
//! verification, with their decoded header and claims, so a repeated token
//! skips decoding, JSON parsing and the public-key operation. Everything
//! time- or rule-dependent (exp, nbf with skew, issuer, audiences, subjects,
//! hardening, `authorize`, claim headers) is still checked on every request.
//!
//! Entries are keyed by the exact token text, and remember which provider
//! and which generation of its keys verified them: new keys (a new
//! generation) never meet old verdicts. Looking a token up hashes it with a
//! fast unkeyed hash and then compares the whole text, so two tokens never
//! share an entry; only tokens with a valid signature are ever inserted, so a
//! client cannot fill the table with colliding keys. Bounded: when full, the
//! cache starts over (no eviction bookkeeping on the hit path).

use crate::jwt::Jwt;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// Default `token_cache.max_entries` (per worker).
pub const DEFAULT_MAX_ENTRIES: usize = 1000;

/// A cached token: its parsed form and the verdict it earned.
#[derive(Clone, Debug)]
pub struct Hit {
    pub jwt: Rc<Jwt>,
    /// Index of the provider whose keys verified the signature.
    pub provider: usize,
    /// Generation of those keys when they did.
    pub generation: u64,
}

impl Hit {
    /// Whether the signature verdict holds for these keys.
    pub fn verified_by(&self, provider: usize, generation: u64) -> bool {
        self.provider == provider && self.generation == generation
    }
}

/// Multiply-rotate hash over 8-byte words: a few cycles per word in wasm,
/// where SipHash or SHA-256 over a 1 KB token cost microseconds.
#[derive(Default)]
pub struct WordHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in words.by_ref() {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.mix(u64::from_le_bytes(b));
        }
        let mut tail = [0u8; 8];
        for (t, v) in tail.iter_mut().zip(words.remainder()) {
            *t = *v;
        }
        self.mix(u64::from_le_bytes(tail) ^ ((bytes.len() as u64) << 56));
    }

    fn finish(&self) -> u64 {
        // hashbrown takes its 7-bit tag from the top bits: spread them.
        self.0 ^ (self.0 >> 29)
    }
}

/// A bounded map from text (a token, a proof's header) to what was learnt
/// from it; `max_entries == 0` disables it. When full, a new key starts it
/// over (no eviction bookkeeping on the hit path).
#[derive(Debug)]
pub struct Bounded<V> {
    max_entries: usize,
    entries: HashMap<Box<str>, V, BuildHasherDefault<WordHasher>>,
}

/// Disabled: holds nothing (a worker before its configuration).
impl<V> Default for Bounded<V> {
    fn default() -> Bounded<V> {
        Bounded {
            max_entries: 0,
            entries: HashMap::default(),
        }
    }
}

/// The verified-token cache: token text to its verdict.
pub type TokenCache = Bounded<Hit>;

impl<V: Clone> Bounded<V> {
    pub fn new(max_entries: usize) -> Bounded<V> {
        Bounded {
            max_entries,
            entries: HashMap::default(),
        }
    }

    /// Whether it keeps anything (`max_entries > 0`).
    pub fn enabled(&self) -> bool {
        self.max_entries > 0
    }

    pub fn get(&self, key: &str) -> Option<V> {
        self.entries.get(key).cloned()
    }

    /// Records `value` for `key` (replacing an older one for the same text).
    pub fn insert(&mut self, key: &str, value: V) {
        if self.max_entries == 0 {
            return;
        }
        if self.entries.len() >= self.max_entries && !self.entries.contains_key(key) {
            self.entries.clear();
        }
        self.entries.insert(key.into(), value);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hit(provider: usize, generation: u64) -> Hit {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        let (jwt, _) = crate::jwt::parse(token).unwrap();
        Hit {
            jwt: Rc::new(jwt),
            provider,
            generation,
        }
    }

    #[test]
    fn a_hit_needs_the_exact_text_and_holds_for_its_own_keys_only() {
        let mut c = TokenCache::new(10);
        c.insert("a.b.c", hit(1, 7));
        let h = c.get("a.b.c").unwrap();
        assert!(h.verified_by(1, 7));
        assert!(!h.verified_by(0, 7) && !h.verified_by(1, 8));
        for other in ["a.b.d", "a.b.c ", "a.b", ""] {
            assert!(c.get(other).is_none(), "{other:?}");
        }
        c.insert("a.b.c", hit(1, 8));
        assert!(c.get("a.b.c").unwrap().verified_by(1, 8));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn bounded_and_can_be_switched_off() {
        let mut c = TokenCache::new(2);
        c.insert("1", hit(0, 0));
        c.insert("2", hit(0, 0));
        assert!(c.get("1").is_some());
        c.insert("2", hit(0, 1));
        assert_eq!(c.len(), 2, "re-verifying a cached token does not flush");
        c.insert("3", hit(0, 0));
        assert_eq!(c.len(), 1);
        assert!(c.get("3").is_some() && c.get("1").is_none());
        let mut off = TokenCache::new(0);
        off.insert("1", hit(0, 0));
        assert!(off.is_empty() && off.get("1").is_none());
    }

    #[test]
    fn the_hash_sees_every_byte_and_the_length() {
        let b = BuildHasherDefault::<WordHasher>::default();
        let base = "x".repeat(37);
        let h0 = b.hash_one(base.as_bytes());
        for i in 0..base.len() {
            let mut m = base.clone().into_bytes();
            m[i] = b'y';
            assert_ne!(b.hash_one(&m), h0, "byte {i}");
        }
        assert_ne!(b.hash_one(b"ab\0"), b.hash_one(b"ab"));
        assert_ne!(b.hash_one(b""), b.hash_one(b"\0"));
    }
}
