//! Remembered introspection answers (RFC 7662 §4): per worker, keyed by
//! [`super::cache_key`] (a hash, never the token), and as a record in
//! shared data so that one answer serves every worker of the process.
//!
//! An active answer is fresh until the token's `exp`, at most `max_ttl`
//! ([`super::active_ttl_ms`]); past that, `serve_stale` may keep using it
//! while the authorization server cannot be reached, but never past `exp`
//! (without `exp`, never past fresh). An inactive answer is fresh for
//! `negative_ttl` and never stale. Failures (5xx, timeouts) are not answers
//! and are never remembered.

use super::{active_ttl_ms, may_be_access_token};
use crate::b64;
use crate::claims::{self, Object};
use crate::error::Status;
use crate::jwt::{registered, Registered};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// An active answer, with what every request checks of it read once: a
/// remembered answer costs a request no more than a cached JWT does.
#[derive(Debug, PartialEq)]
pub struct Active {
    /// The answer object: the token's claim set.
    pub claims: Rc<Object>,
    /// Its registered claims, or why they are malformed.
    pub registered: Result<Registered, Status>,
    /// Whether `token_type`, if any, may name an access token.
    pub access_token: bool,
    /// The answer as `forward_payload_header` carries it, made once.
    payload: OnceCell<String>,
    /// The JSON text the claims were read from. The shared-data record
    /// carries it rather than the claims written again, so every worker
    /// reads the same numbers: a decimal too long for a double need not
    /// read back from the double's shortest form to the same double.
    text: Box<str>,
}

impl Active {
    /// Reads an answer object from its JSON text; `None` when it is not
    /// one JSON object (or repeats a member). Whether it says `active` is
    /// [`super::read_answer`]'s business.
    pub fn read(text: &str) -> Option<Active> {
        let claims = claims::parse_object(text.as_bytes())?;
        Some(Active {
            registered: registered(&claims),
            access_token: may_be_access_token(&claims),
            claims: Rc::new(claims),
            payload: OnceCell::new(),
            text: text.into(),
        })
    }

    /// The answer's JSON (compact, members in name order), base64url
    /// without padding, as a JWT's payload segment is written.
    pub fn payload(&self) -> &str {
        self.payload.get_or_init(|| {
            let json = serde_json::Value::Object(Object::clone(&self.claims)).to_string();
            b64::encode_url(json.as_bytes())
        })
    }
}

/// What was learned about a token.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Active, with its claim set (the answer object).
    Active(Rc<Active>),
    Inactive,
}

/// A verdict and how long it may be used (milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct Remembered {
    pub verdict: Verdict,
    /// Used as is until then.
    pub fresh_until: u64,
    /// With `serve_stale`, used while the server cannot answer until then.
    pub stale_until: u64,
}

impl Remembered {
    /// An active answer got at `now_ms`; `None` when it may not be reused
    /// at all (its `exp` has passed, or is not a number).
    pub fn of_active(active: Rc<Active>, now_ms: u64, max_ttl_ms: u64) -> Option<Remembered> {
        let ttl = active_ttl_ms(&active.claims, now_ms, max_ttl_ms);
        if ttl == 0 {
            return None;
        }
        let fresh_until = now_ms.saturating_add(ttl);
        let stale_until = match claims::get_u64(&active.claims, "exp") {
            claims::Lookup::Found(exp) => exp.saturating_mul(1000).max(fresh_until),
            _ => fresh_until,
        };
        Some(Remembered {
            verdict: Verdict::Active(active),
            fresh_until,
            stale_until,
        })
    }

    /// An inactive answer got at `now_ms`.
    pub fn inactive(now_ms: u64, negative_ttl_ms: u64) -> Remembered {
        let until = now_ms.saturating_add(negative_ttl_ms);
        Remembered {
            verdict: Verdict::Inactive,
            fresh_until: until,
            stale_until: until,
        }
    }

    /// The shared-data record: `<fresh_until> <stale_until> a` and the
    /// answer's JSON on the next line, or `<fresh_until> <stale_until> i`.
    pub fn to_record(&self) -> Vec<u8> {
        let head = format!("{} {}", self.fresh_until, self.stale_until);
        match &self.verdict {
            Verdict::Inactive => format!("{head} i").into_bytes(),
            Verdict::Active(active) => format!("{head} a\n{}", active.text).into_bytes(),
        }
    }

    /// Reads a record another worker wrote; `None` for anything malformed
    /// (the token is then introspected again, never guessed).
    pub fn from_record(record: &[u8]) -> Option<Remembered> {
        let text = std::str::from_utf8(record).ok()?;
        let (head, json) = match text.split_once('\n') {
            Some((head, json)) => (head, Some(json)),
            None => (text, None),
        };
        let mut parts = head.split(' ');
        let fresh_until = parts.next()?.parse::<u64>().ok()?;
        let stale_until = parts.next()?.parse::<u64>().ok()?;
        let verdict = match (parts.next()?, json, parts.next()) {
            ("i", None, None) => Verdict::Inactive,
            ("a", Some(json), None) => Verdict::Active(Rc::new(Active::read(json)?)),
            _ => return None,
        };
        Some(Remembered {
            verdict,
            fresh_until,
            stale_until,
        })
    }
}

/// Hashes a SHA-256 cache key by its first 8 bytes: already uniform, and a
/// client cannot choose tokens whose digests collide.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        for (w, b) in word.iter_mut().zip(bytes) {
            *w = *b;
        }
        self.0 ^= u64::from_le_bytes(word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A bounded map from cache key to answer; `max_entries == 0` disables it.
/// When full it starts over, as the verified-token cache does (no eviction
/// bookkeeping on the hit path).
#[derive(Debug, Default)]
pub struct AnswerCache {
    max_entries: usize,
    entries: HashMap<[u8; 32], Remembered, BuildHasherDefault<DigestHasher>>,
}

impl AnswerCache {
    pub fn new(max_entries: usize) -> AnswerCache {
        AnswerCache {
            max_entries,
            entries: HashMap::default(),
        }
    }

    /// A fresh answer for `key`.
    pub fn fresh(&self, key: &[u8; 32], now_ms: u64) -> Option<&Remembered> {
        self.entries.get(key).filter(|r| now_ms < r.fresh_until)
    }

    /// An active answer past fresh that `serve_stale` may still use.
    pub fn stale(&self, key: &[u8; 32], now_ms: u64) -> Option<&Remembered> {
        self.entries
            .get(key)
            .filter(|r| matches!(r.verdict, Verdict::Active(_)) && now_ms < r.stale_until)
    }

    pub fn insert(&mut self, key: [u8; 32], answer: Remembered) {
        if self.max_entries == 0 {
            return;
        }
        if self.entries.len() >= self.max_entries && !self.entries.contains_key(&key) {
            self.entries.clear();
        }
        self.entries.insert(key, answer);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests;
