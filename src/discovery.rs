//! OIDC discovery: the provider configuration document and the http(s)
//! URIs the glue dispatches to (`:scheme`, `:authority`, `:path`).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// An http(s) URI split for `dispatch_http_call`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// "http" or "https" (lowercased).
    pub scheme: String,
    /// host[:port] as written.
    pub authority: String,
    /// Path plus query, "/" if empty.
    pub path: String,
}

/// Why a URI cannot be fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UriError {
    Empty,
    MissingScheme,
    UnsupportedScheme(String),
    EmptyHost,
    Userinfo,
    Fragment,
    InvalidHost(String),
    InvalidPort(String),
    /// A whitespace, control or non-ASCII character (not sendable in `:path`).
    InvalidChar(char),
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::Empty => write!(f, "URI is empty"),
            UriError::MissingScheme => {
                write!(f, "URI is not absolute (expected http:// or https://)")
            }
            UriError::UnsupportedScheme(s) => {
                write!(f, "URI scheme {s:?} is not http or https")
            }
            UriError::EmptyHost => write!(f, "URI has no host"),
            UriError::Userinfo => write!(f, "URI must not contain userinfo (user@host)"),
            UriError::Fragment => write!(f, "URI must not contain a fragment (#...)"),
            UriError::InvalidHost(h) => write!(f, "URI host {h:?} is not a valid host name or IP"),
            UriError::InvalidPort(p) => write!(f, "URI port {p:?} is not a number from 1 to 65535"),
            UriError::InvalidChar(c) => write!(f, "URI contains the invalid character {c:?}"),
        }
    }
}

impl std::error::Error for UriError {}

/// Splits an absolute http(s) URI. Strict, since it comes from config or
/// from the IdP and ends up in request headers.
pub fn parse_uri(uri: &str) -> Result<Target, UriError> {
    if uri.is_empty() {
        return Err(UriError::Empty);
    }
    if let Some(c) = uri
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(UriError::InvalidChar(c));
    }
    if uri.contains('#') {
        return Err(UriError::Fragment);
    }
    let (scheme, rest) = uri.split_once("://").ok_or(UriError::MissingScheme)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(UriError::UnsupportedScheme(scheme));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    check_authority(authority)?;
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    Ok(Target {
        scheme,
        authority: authority.to_string(),
        path,
    })
}

/// Whether `authority` is a host (registered name or IPv6 literal) and an
/// optional port in 1..=65535, without user info.
pub fn check_authority(authority: &str) -> Result<(), UriError> {
    if authority.is_empty() {
        return Err(UriError::EmptyHost);
    }
    if authority.contains('@') {
        return Err(UriError::Userinfo);
    }
    // An IPv6 literal carries colons of its own: the port follows "]".
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let (addr, after) = inner
                .split_once(']')
                .ok_or_else(|| UriError::InvalidHost(authority.to_string()))?;
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(UriError::InvalidHost(authority.to_string()));
            }
            match after {
                "" => (None, None),
                a => match a.strip_prefix(':') {
                    Some(p) => (None, Some(p)),
                    None => return Err(UriError::InvalidHost(authority.to_string())),
                },
            }
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(authority), None),
        },
    };
    if let Some(host) = host {
        if host.is_empty() {
            return Err(UriError::EmptyHost);
        }
        // RFC 3986 reg-name characters (punycode for IDNs).
        let reg_name = |c: char| c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=".contains(c);
        if !host.chars().all(reg_name) {
            return Err(UriError::InvalidHost(host.to_string()));
        }
    }
    if let Some(port) = port {
        let ok =
            port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !ok {
            return Err(UriError::InvalidPort(port.to_string()));
        }
    }
    Ok(())
}

/// Why a discovery document yields no JWKS URI (or introspection endpoint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscoveryError {
    NotJson(String),
    /// Holds the JSON type found instead.
    NotAnObject(&'static str),
    DuplicateMember(&'static str),
    MissingIssuer,
    IssuerNotString,
    IssuerMismatch {
        found: String,
        expected: String,
    },
    /// The endpoint's member (`jwks_uri`, `introspection_endpoint`) is absent.
    Missing(&'static str),
    NotString(&'static str),
    BadUri {
        member: &'static str,
        uri: String,
        error: UriError,
    },
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryError::NotJson(e) => write!(f, "discovery document is not valid JSON: {e}"),
            DiscoveryError::NotAnObject(t) => {
                write!(f, "discovery document is a JSON {t}, not an object")
            }
            DiscoveryError::DuplicateMember(m) => {
                write!(f, "discovery document has \"{m}\" more than once")
            }
            DiscoveryError::MissingIssuer => write!(f, "discovery document has no \"issuer\""),
            DiscoveryError::IssuerNotString => {
                write!(f, "discovery document \"issuer\" is not a string")
            }
            DiscoveryError::IssuerMismatch { found, expected } => write!(
                f,
                "discovery issuer {found:?} does not match the provider's issuer {expected:?}"
            ),
            DiscoveryError::Missing(m) => write!(f, "discovery document has no \"{m}\""),
            DiscoveryError::NotString(m) => {
                write!(f, "discovery document \"{m}\" is not a string")
            }
            DiscoveryError::BadUri { member, uri, error } => {
                write!(f, "discovery {member} {uri:?} is unusable: {error}")
            }
        }
    }
}

impl std::error::Error for DiscoveryError {}

/// Longest IdP-supplied string quoted in an error (they end up in logs).
const QUOTE_MAX: usize = 256;

fn clip(s: &str) -> String {
    match s.char_indices().nth(QUOTE_MAX) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// Parses an OpenID Provider Configuration document: a JSON object whose
/// `issuer` equals `expected_issuer` exactly (OIDC Discovery 4.3: no
/// normalisation), with a string `jwks_uri` that [`parse_uri`] accepts.
pub fn parse_document(body: &[u8], expected_issuer: &str) -> Result<Target, DiscoveryError> {
    endpoint(body, expected_issuer, "jwks_uri")
}

/// The `introspection_endpoint` of an authorization server's metadata (RFC
/// 8414 §2; OIDC discovery documents carry it too), checked as
/// [`parse_document`] checks `jwks_uri`.
pub fn introspection_endpoint(
    body: &[u8],
    expected_issuer: &str,
) -> Result<Target, DiscoveryError> {
    endpoint(body, expected_issuer, "introspection_endpoint")
}

fn endpoint(
    body: &[u8],
    expected_issuer: &str,
    member: &'static str,
) -> Result<Target, DiscoveryError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| DiscoveryError::NotJson(e.to_string()))?;
    let doc = value
        .as_object()
        .ok_or(DiscoveryError::NotAnObject(json_type(&value)))?;
    // serde_json keeps the last of duplicate members, other parsers the
    // first: refuse the ambiguity for the two members we trust.
    let mut de = serde_json::Deserializer::from_slice(body);
    match de.deserialize_any(Duplicates(member)) {
        Ok(None) => {}
        Ok(Some(member)) => return Err(DiscoveryError::DuplicateMember(member)),
        Err(e) => return Err(DiscoveryError::NotJson(e.to_string())),
    }
    let issuer = match doc.get("issuer") {
        None => return Err(DiscoveryError::MissingIssuer),
        Some(serde_json::Value::String(s)) => s,
        Some(_) => return Err(DiscoveryError::IssuerNotString),
    };
    if issuer != expected_issuer {
        return Err(DiscoveryError::IssuerMismatch {
            found: clip(issuer),
            expected: expected_issuer.to_string(),
        });
    }
    let uri = match doc.get(member) {
        None => return Err(DiscoveryError::Missing(member)),
        Some(serde_json::Value::String(s)) => s,
        Some(_) => return Err(DiscoveryError::NotString(member)),
    };
    parse_uri(uri).map_err(|error| DiscoveryError::BadUri {
        member,
        uri: clip(uri),
        error,
    })
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Walks the top-level members once and names the first of `issuer` and
/// the endpoint's member that appears twice.
struct Duplicates(&'static str);

const NOT_AN_OBJECT: &str = "not a JSON object";

impl<'de> Visitor<'de> for Duplicates {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object")
    }

    // Every other JSON type, though `body` is known to be an object here.
    // Visitor's defaults (and deserialize_map's error path) would call
    // serde's `invalid_type`, which links core's float formatting: 18 KiB
    // of the module that nothing else needs.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(NOT_AN_OBJECT))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(NOT_AN_OBJECT))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut issuer, mut endpoint, mut duplicate) = (false, false, None);
        // Reads to the end: the deserializer expects the whole map consumed.
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            let (seen, name) = match key.as_str() {
                "issuer" => (&mut issuer, "issuer"),
                k if k == self.0 => (&mut endpoint, self.0),
                _ => continue,
            };
            if std::mem::replace(seen, true) {
                duplicate = duplicate.or(Some(name));
            }
        }
        Ok(duplicate)
    }
}

#[cfg(test)]
mod tests;
