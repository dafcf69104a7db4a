//! The verified-token cache: which tokens already passed signature
//! verification with a provider's current keys, so a repeated token skips the
//! expensive public-key operation. Everything time- or rule-dependent (exp,
//! nbf with skew, audiences, subjects, hardening, `authorize`, claim headers)
//! is still checked on every request; only the signature verdict is reused.
//!
//! Entries are SHA-256 digests of (provider, key generation, token): a token
//! cannot be made to collide with a verified one, and new keys (a new
//! generation) never meet old verdicts. Bounded: when full, the cache starts
//! over (cheap, and no eviction bookkeeping on the hit path).

use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Default `token_cache.max_entries` (per worker).
pub const DEFAULT_MAX_ENTRIES: usize = 1000;

/// The identity of a verdict.
pub type Entry = [u8; 32];

/// Digest of a verdict's inputs.
pub fn entry(provider: usize, key_generation: u64, token: &str) -> Entry {
    let mut h = Sha256::new();
    h.update((provider as u64).to_le_bytes());
    h.update(key_generation.to_le_bytes());
    h.update(token.as_bytes());
    h.finalize().into()
}

/// A bounded set of verified-token entries; `max_entries == 0` disables it.
#[derive(Debug, Default)]
pub struct TokenCache {
    max_entries: usize,
    entries: HashSet<Entry>,
}

impl TokenCache {
    pub fn new(max_entries: usize) -> TokenCache {
        TokenCache {
            max_entries,
            entries: HashSet::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.max_entries > 0
    }

    pub fn contains(&self, e: &Entry) -> bool {
        self.entries.contains(e)
    }

    pub fn insert(&mut self, e: Entry) {
        if self.max_entries == 0 {
            return;
        }
        if self.entries.len() >= self.max_entries {
            self.entries.clear();
        }
        self.entries.insert(e);
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

    #[test]
    fn entries_differ_by_provider_generation_and_token() {
        let base = entry(0, 0, "a.b.c");
        assert_eq!(base, entry(0, 0, "a.b.c"));
        assert_ne!(base, entry(1, 0, "a.b.c"));
        assert_ne!(base, entry(0, 1, "a.b.c"));
        assert_ne!(base, entry(0, 0, "a.b.d"));
    }

    #[test]
    fn bounded_and_can_be_switched_off() {
        let mut c = TokenCache::new(2);
        c.insert(entry(0, 0, "1"));
        c.insert(entry(0, 0, "2"));
        assert!(c.contains(&entry(0, 0, "1")));
        c.insert(entry(0, 0, "3"));
        assert_eq!(c.len(), 1);
        assert!(c.contains(&entry(0, 0, "3")) && !c.contains(&entry(0, 0, "1")));
        let mut off = TokenCache::new(0);
        off.insert(entry(0, 0, "1"));
        assert!(off.is_empty());
    }
}
