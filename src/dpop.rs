//! DPoP (RFC 9449), the parts that need no host: the key thumbprint a
//! token is bound to (RFC 7638), the access-token hash a proof carries
//! (`ath`), the request URI a proof names (`htu`, compared after RFC 3986
//! §6.2.2/§6.2.3 normalisation), and server nonces that need no shared
//! state (an HMAC over a time bucket, so every replica with the same secret
//! accepts the others').

pub mod keys;
pub mod proof;
pub mod replay;
pub mod settings;

use crate::b64;
use crate::claims::Object;
use crate::discovery;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a key has no thumbprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThumbprintError {
    /// `kty` is missing, not a string, or not EC, RSA or OKP.
    UnknownKeyType,
    /// A member the key type requires is missing or not a string.
    MissingMember(&'static str),
}

impl fmt::Display for ThumbprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThumbprintError::UnknownKeyType => f.write_str("the key's kty is not EC, RSA or OKP"),
            ThumbprintError::MissingMember(m) => {
                write!(f, "the key has no string member \"{m}\"")
            }
        }
    }
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: the required
/// members of its key type, in lexicographic order, as compact JSON.
pub fn thumbprint(jwk: &Object) -> Result<String, ThumbprintError> {
    let members: &[&'static str] = match jwk.get("kty") {
        Some(Value::String(k)) if k == "EC" => &["crv", "kty", "x", "y"],
        Some(Value::String(k)) if k == "RSA" => &["e", "kty", "n"],
        Some(Value::String(k)) if k == "OKP" => &["crv", "kty", "x"],
        _ => return Err(ThumbprintError::UnknownKeyType),
    };
    let mut json = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let Some(Value::String(value)) = jwk.get(*name) else {
            return Err(ThumbprintError::MissingMember(name));
        };
        if i > 0 {
            json.push(',');
        }
        // serde_json writes a string as RFC 8259 JSON, as RFC 7638 §3 asks.
        json.push_str(&Value::from(*name).to_string());
        json.push(':');
        json.push_str(&Value::from(value.as_str()).to_string());
    }
    json.push('}');
    Ok(b64::encode_url(&Sha256::digest(json.as_bytes())))
}

/// JWK members that only a private key has: a proof's `jwk` with any of
/// them is refused (RFC 9449 §4.3: the key must be public).
pub const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// Whether a JWK carries private (or symmetric) key material.
pub fn has_private_members(jwk: &Object) -> bool {
    PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m))
}

/// The `ath` a proof must carry for `token`: base64url(SHA-256(token)).
pub fn ath(token: &str) -> String {
    b64::encode_url(&Sha256::digest(token.as_bytes()))
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Whether a byte may stand for itself in a URI's path (RFC 3986 §3.3:
/// unreserved, sub-delims, `:`, `@`, `/`; `%` starts an escape).
fn in_path(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=:@/%".contains(&b)
}

/// Percent-encoding normalised (RFC 3986 §6.2.2.1/§6.2.2.2): hex digits in
/// upper case, unreserved characters decoded, and a byte no URI path holds
/// as itself (a space, raw UTF-8: what a host that hands over the decoded
/// path, such as Kong's, gives) as its percent-encoding. `None` for a `%`
/// not followed by two hex digits.
fn normalize_percent(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            if in_path(b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
            i = i.saturating_add(1);
            continue;
        }
        let hi = bytes
            .get(i.saturating_add(1))
            .copied()
            .and_then(hex_value)?;
        let lo = bytes
            .get(i.saturating_add(2))
            .copied()
            .and_then(hex_value)?;
        let decoded = (hi << 4) | lo;
        if is_unreserved(decoded) {
            out.push(char::from(decoded));
        } else {
            out.push('%');
            out.push_str(&format!("{decoded:02X}"));
        }
        i = i.saturating_add(3);
    }
    Some(out)
}

/// RFC 3986 §5.2.4: `.` and `..` segments resolved.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." | ".." => {
                if *seg == ".." {
                    out.pop();
                }
                // A trailing dot segment leaves a directory: keep the slash.
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// The `htu` comparison form of an absolute http(s) URI (RFC 9449 §4.3):
/// query and fragment dropped; scheme and host in lower case; the default
/// port dropped; an empty path as `/`; percent-encoding and dot segments
/// normalised. `None` when it is not such a URI (or has user info).
pub fn normalize_htu(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    // An empty port is no port (RFC 3986 §6.2.3); the rest must be a host
    // and port as `parse_uri` takes them.
    let authority = authority.strip_suffix(':').unwrap_or(authority);
    discovery::check_authority(authority).ok()?;
    // The port follows the last `:` outside an IPv6 literal's brackets.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority.get(i..).unwrap_or("").contains(']') => {
            let (host, colon_port) = authority.split_at(i);
            (host, colon_port.get(1..).unwrap_or(""))
        }
        _ => (authority, ""),
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    // An empty port is no port (RFC 3986 §6.2.3); leading zeros are read.
    let port = match port {
        "" => None,
        p if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<u32>().ok()?),
        _ => return None,
    };
    let authority = match port {
        Some(p) if p != default_port => format!("{host}:{p}"),
        _ => host,
    };
    let path = if path.is_empty() { "/" } else { path };
    let path = remove_dot_segments(&normalize_percent(path)?);
    Some(format!("{scheme}://{authority}{path}"))
}

type HmacSha256 = Hmac<Sha256>;

/// Server nonces (RFC 9449 §8, §9) without shared state: a nonce is the
/// HMAC of its time bucket under a configured secret. One is valid in the
/// bucket it was made in and the next, so for between one and two
/// lifetimes; every replica with the same secret accepts it.
#[derive(Clone)]
pub struct Nonces {
    secret: Vec<u8>,
    lifetime_ms: u64,
}

/// Never the secret.
impl fmt::Debug for Nonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Nonces(lifetime {} ms, secret redacted)",
            self.lifetime_ms
        )
    }
}

impl Nonces {
    /// `None` when the lifetime is zero.
    pub fn new(secret: &[u8], lifetime_ms: u64) -> Option<Nonces> {
        (lifetime_ms > 0).then(|| Nonces {
            secret: secret.to_vec(),
            lifetime_ms,
        })
    }

    fn mac(&self, bucket: u64) -> Option<HmacSha256> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.secret).ok()?;
        mac.update(b"jwt-guard dpop nonce ");
        mac.update(&bucket.to_be_bytes());
        Some(mac)
    }

    fn bucket(&self, now_ms: u64) -> u64 {
        now_ms.checked_div(self.lifetime_ms).unwrap_or(0)
    }

    /// The nonce to hand out at `now_ms`.
    pub fn issue(&self, now_ms: u64) -> String {
        self.mac(self.bucket(now_ms))
            .map(|m| b64::encode_url(&m.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Whether `nonce` was issued in this bucket or the one before.
    pub fn accepts(&self, nonce: &str, now_ms: u64) -> bool {
        // Only the text as issued: no other encoding of the same bytes.
        let Some(tag) = b64::decode_url(nonce.as_bytes()).filter(|t| b64::encode_url(t) == nonce)
        else {
            return false;
        };
        let now = self.bucket(now_ms);
        [Some(now), now.checked_sub(1)]
            .into_iter()
            .flatten()
            .any(|bucket| {
                self.mac(bucket)
                    .is_some_and(|m| m.verify_slice(&tag).is_ok())
            })
    }
}

#[cfg(test)]
mod tests;
