//! OAuth 2.0 token introspection (RFC 7662), the parts that need no host:
//! the request a gateway sends (form body, client authentication), the
//! answer it reads, and what of that answer may be cached and for how long.
//!
//! An answer is read strictly: only a JSON object whose `active` member is a
//! JSON boolean says anything about the token. Everything else (no JSON, a
//! duplicate member at any depth, `active` missing, `"true"`, `1`, nested)
//! is an error: never "inactive", never "active".

pub mod cache;
pub mod settings;

use crate::b64;
use crate::claims::{self, Object};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::rc::Rc;

/// What the authorization server said about a token.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// `"active": true`: the answer object is the token's claim set.
    Active(Rc<cache::Active>),
    /// `"active": false`: the token is not (or no longer) valid.
    Inactive,
}

/// Why an answer says nothing about the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// Not one JSON object, or one with a duplicate member.
    NotJsonObject,
    /// The object has no `active` member.
    ActiveMissing,
    /// `active` is there but not a JSON boolean.
    ActiveNotBoolean,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerError::NotJsonObject => {
                "introspection answer is not a JSON object (or repeats a member)"
            }
            AnswerError::ActiveMissing => "introspection answer has no \"active\" member",
            AnswerError::ActiveNotBoolean => {
                "introspection answer's \"active\" is not a JSON boolean"
            }
        })
    }
}

/// Reads a `200` answer's body (RFC 7662 §2.2).
pub fn read_answer(body: &[u8]) -> Result<Answer, AnswerError> {
    let text = std::str::from_utf8(body).map_err(|_| AnswerError::NotJsonObject)?;
    let answer = cache::Active::read(text).ok_or(AnswerError::NotJsonObject)?;
    match answer.claims.get("active") {
        Some(Value::Bool(true)) => Ok(Answer::Active(Rc::new(answer))),
        Some(Value::Bool(false)) => Ok(Answer::Inactive),
        Some(_) => Err(AnswerError::ActiveNotBoolean),
        None => Err(AnswerError::ActiveMissing),
    }
}

/// Appends `text` form-urlencoded (RFC 6749 Appendix B): unreserved
/// characters as they are, space as `+`, every other byte of its UTF-8 as
/// `%XX`.
pub fn form_encode(out: &mut String, text: &str) {
    let hex = |n: u8| {
        char::from_digit(u32::from(n), 16)
            .unwrap_or('0')
            .to_ascii_uppercase()
    };
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(hex(b >> 4));
                out.push(hex(b & 0x0f));
            }
        }
    }
}

/// The request body (RFC 7662 §2.1): `token=…`, then `token_type_hint=…`
/// when configured, plus the client's own form fields (`client_secret_post`).
pub fn request_body(token: &str, hint: Option<&str>, client: &[(&str, &str)]) -> String {
    let mut body = String::with_capacity(token.len().saturating_add(64));
    body.push_str("token=");
    form_encode(&mut body, token);
    if let Some(h) = hint {
        body.push_str("&token_type_hint=");
        form_encode(&mut body, h);
    }
    for (name, value) in client {
        body.push('&');
        form_encode(&mut body, name);
        body.push('=');
        form_encode(&mut body, value);
    }
    body
}

/// `Authorization` for `client_secret_basic` (RFC 6749 §2.3.1): the client
/// id and secret each form-urlencoded first, then joined by `:` and base64.
pub fn basic_authorization(client_id: &str, secret: &str) -> String {
    let mut pair = String::new();
    form_encode(&mut pair, client_id);
    pair.push(':');
    form_encode(&mut pair, secret);
    format!("Basic {}", b64::encode_std(pair.as_bytes()))
}

/// The hasher of `scope`'s cache keys, its scope already fed: each key then
/// costs one SHA-256 block or two, not three.
pub fn key_hasher(scope: &str) -> Sha256 {
    let mut h = Sha256::new();
    // Length-prefixed, so no (scope, token) pair collides with another.
    h.update(u64::try_from(scope.len()).unwrap_or(u64::MAX).to_be_bytes());
    h.update(scope.as_bytes());
    h
}

/// The cache key of a token at a provider: SHA-256 of both, never the
/// token itself (a cache dump or shared-data listing shows no token).
pub fn cache_key(scope: &str, token: &str) -> [u8; 32] {
    key_of(&key_hasher(scope), token)
}

/// The cache key of `token` from its scope's [`key_hasher`].
pub fn key_of(hasher: &Sha256, token: &str) -> [u8; 32] {
    let mut h = hasher.clone();
    h.update(token.as_bytes());
    h.finalize().into()
}

/// How long an active answer may be reused (RFC 7662 §4: never past the
/// token's `exp`): until `exp`, at most `max_ttl_ms`; `max_ttl_ms` when the
/// answer has no `exp`; 0 (not cached) when `exp` has passed or is not a
/// number. `now_ms` is milliseconds since the epoch.
pub fn active_ttl_ms(answer: &Object, now_ms: u64, max_ttl_ms: u64) -> u64 {
    match claims::get_u64(answer, "exp") {
        claims::Lookup::Missing => max_ttl_ms,
        claims::Lookup::Found(exp) => exp
            .saturating_mul(1000)
            .saturating_sub(now_ms)
            .min(max_ttl_ms),
        _ => 0,
    }
}

/// Whether an active answer's `token_type`, if any, may be an access token.
/// Refresh and ID tokens are refused (by their RFC 6749 / OIDC names or
/// their RFC 8693 token-type URIs): an AS that introspects any token it
/// issued must not turn a refresh token into API access.
pub fn may_be_access_token(answer: &Object) -> bool {
    let Some(Value::String(kind)) = answer.get("token_type") else {
        return !answer.contains_key("token_type");
    };
    let kind = kind.to_ascii_lowercase();
    let name = kind
        .strip_prefix("urn:ietf:params:oauth:token-type:")
        .unwrap_or(&kind);
    !matches!(name, "refresh_token" | "id_token")
}

#[cfg(test)]
mod tests;
