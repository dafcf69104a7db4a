//! The proof keys a worker has parsed, by the header segment of the proof
//! that carried them. A client signs every proof with one key, so its
//! proofs repeat the header; parsing a key (decoding and validating the
//! point, building its multiplication table) costs several verifications,
//! and a known header skips it, and the thumbprint too. Only keys that
//! verified a proof are kept; bounded, and when full the cache starts over
//! (no eviction bookkeeping on the hit path), as the verified-token cache.

use crate::cache::Bounded;
use crate::jwks::Jwks;
use std::rc::Rc;

/// Keys kept per worker: a few MiB at most (an EC key's table is 4 to
/// 6 KiB), enough for the clients active at once on one worker.
pub const MAX_PROOF_KEYS: usize = 256;

/// A parsed proof key and its RFC 7638 thumbprint.
#[derive(Clone, Debug)]
pub struct ProofKey {
    pub jkt: String,
    pub jwks: Jwks,
}

/// Where proof keys are looked up and remembered.
pub trait KeyCache {
    /// The key of a proof whose header segment is `header`.
    fn get(&self, header: &str) -> Option<Rc<ProofKey>>;
    /// Remembers the key of a proof that verified.
    fn put(&self, header: &str, key: Rc<ProofKey>);
}

/// No cache: every proof's key is parsed.
pub struct NoKeyCache;

impl KeyCache for NoKeyCache {
    fn get(&self, _header: &str) -> Option<Rc<ProofKey>> {
        None
    }
    fn put(&self, _header: &str, _key: Rc<ProofKey>) {}
}

/// One worker's proof keys, by header segment.
pub type ProofKeys = Bounded<Rc<ProofKey>>;

/// A worker's empty proof-key cache.
pub fn proof_keys() -> ProofKeys {
    Bounded::new(MAX_PROOF_KEYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(jkt: &str) -> Rc<ProofKey> {
        let jwks = crate::jwks::parse(&crate::fixtures::jwks(None)).unwrap();
        Rc::new(ProofKey {
            jkt: jkt.into(),
            jwks,
        })
    }

    #[test]
    fn a_key_is_found_by_its_exact_header_and_the_cache_stays_bounded() {
        let mut c = proof_keys();
        c.insert("eyJh", key("a"));
        assert_eq!(c.get("eyJh").map(|k| k.jkt.clone()).as_deref(), Some("a"));
        assert!(c.get("eyJ").is_none() && c.get("eyJhX").is_none());
        for i in 0..MAX_PROOF_KEYS {
            c.insert(&format!("h{i}"), key("b"));
            assert!(c.len() <= MAX_PROOF_KEYS);
        }
        // Full: the next new header starts the cache over.
        assert!(c.get("eyJh").is_none());
        assert!(!c.is_empty());
    }
}
