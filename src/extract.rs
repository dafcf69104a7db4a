//! Where tokens are found: headers (with an optional value prefix), query
//! parameters and cookies, each location tied to the issuers that use it.
//! An extractor is compiled once per requirement from its providers.

mod joined;

use crate::request::Headers;
use crate::small_sort::sort_small_by;
use joined::joined_by_envoy;

/// Issuers that configured a location; a provider without `issuer` opens the
/// location to any issuer.
#[derive(Clone, Debug, Default)]
pub struct Issuers {
    any: bool,
    names: Vec<String>,
}

impl Issuers {
    fn add(&mut self, issuer: &str) {
        if issuer.is_empty() {
            self.any = true;
        } else if !self.names.iter().any(|n| n == issuer) {
            self.names.push(issuer.to_owned());
        }
    }

    pub fn allows(&self, issuer: &str) -> bool {
        self.any || self.names.iter().any(|n| n == issuer)
    }
}

#[derive(Clone, Debug)]
struct HeaderLocation {
    name: String,
    prefix: String,
    issuers: Issuers,
    /// Envoy's codec joins repeated values of this header into one.
    joined: bool,
}

#[derive(Clone, Debug)]
struct NamedLocation {
    name: String,
    issuers: Issuers,
}

/// The token locations a provider configured (defaults already applied).
#[derive(Clone, Debug, Default)]
pub struct Locations {
    pub headers: Vec<(String, String)>,
    pub params: Vec<String>,
    pub cookies: Vec<String>,
    /// `Authorization: DPoP <token>` too (a provider with DPoP on).
    pub dpop: bool,
}

/// Where a token came from, so it can be checked against the right issuers
/// and removed from the right place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Header(usize),
    Param(usize),
    Cookie(usize),
    /// `Authorization: DPoP <token>` (RFC 9449 §7.1).
    Dpop,
}

/// A token found in the request.
#[derive(Clone, Debug)]
pub struct Token {
    pub value: String,
    pub source: Source,
}

/// All locations of one or more providers, merged.
#[derive(Clone, Debug, Default)]
pub struct Extractor {
    headers: Vec<HeaderLocation>,
    params: Vec<NamedLocation>,
    cookies: Vec<NamedLocation>,
    /// The issuers whose providers read the `DPoP` scheme; `None`: no
    /// provider here takes DPoP.
    dpop: Option<Issuers>,
    /// Headers this filter will set (claim and payload headers): removed from
    /// the incoming request before anything else so clients cannot spoof them.
    sanitize: Vec<String>,
}

fn add_named(list: &mut Vec<NamedLocation>, name: &str, issuer: &str) {
    match list.iter_mut().find(|l| l.name == name) {
        Some(l) => l.issuers.add(issuer),
        None => {
            let mut issuers = Issuers::default();
            issuers.add(issuer);
            list.push(NamedLocation {
                name: name.to_owned(),
                issuers,
            });
        }
    }
}

impl Extractor {
    /// Adds one provider's locations and the headers it sets.
    pub fn add_provider(&mut self, issuer: &str, locations: &Locations, sets: &[String]) {
        for (name, prefix) in &locations.headers {
            let name = name.to_ascii_lowercase();
            match self
                .headers
                .iter_mut()
                .find(|l| l.name == name && l.prefix == *prefix)
            {
                Some(l) => l.issuers.add(issuer),
                None => {
                    let mut issuers = Issuers::default();
                    issuers.add(issuer);
                    self.headers.push(HeaderLocation {
                        joined: joined_by_envoy(&name),
                        name,
                        prefix: prefix.clone(),
                        issuers,
                    });
                }
            }
        }
        for p in &locations.params {
            add_named(&mut self.params, p, issuer);
        }
        for c in &locations.cookies {
            add_named(&mut self.cookies, c, issuer);
        }
        if locations.dpop {
            self.dpop.get_or_insert_with(Issuers::default).add(issuer);
        }
        for h in sets {
            if !self.sanitize.contains(h) {
                self.sanitize.push(h.clone());
            }
        }
        // Envoy keeps locations in ordered maps (header name + prefix, param,
        // cookie); the order decides which failing token is reported.
        // Envoy's key for a header location is name and prefix joined.
        sort_small_by(&mut self.headers, |a, b| {
            let a = a.name.bytes().chain(a.prefix.bytes());
            a.lt(b.name.bytes().chain(b.prefix.bytes()))
        });
        sort_small_by(&mut self.params, |a, b| a.name < b.name);
        sort_small_by(&mut self.cookies, |a, b| a.name < b.name);
    }

    /// Removes the headers this filter sets.
    pub fn sanitize(&self, headers: &mut Headers) {
        for h in &self.sanitize {
            headers.remove(h);
        }
    }

    /// Every token present, headers first, then query parameters, then cookies.
    /// Each value of a repeated header is a token of its own, as in Envoy
    /// (two `x-jwt` headers: two tokens, both verified), except for headers
    /// Envoy's codec joins into one value before any filter runs.
    pub fn extract(&self, headers: &Headers) -> Vec<Token> {
        let mut out = Vec::new();
        for (i, loc) in self.headers.iter().enumerate() {
            let mut push = |value: &str| {
                if let Some(token) = header_token(value, &loc.prefix) {
                    out.push(Token {
                        value: token,
                        source: Source::Header(i),
                    });
                }
            };
            if loc.joined {
                if let Some(joined) = headers.get_joined(&loc.name) {
                    push(&joined);
                }
            } else {
                headers.get_all(&loc.name).for_each(push);
            }
        }
        if self.dpop.is_some() {
            let joined = headers.get_joined(DPOP_HEADER);
            for value in dpop_credentials(joined.as_deref().unwrap_or("")) {
                out.push(Token {
                    value: value.to_owned(),
                    source: Source::Dpop,
                });
            }
        }
        if !self.params.is_empty() {
            let path = headers.path();
            for (i, loc) in self.params.iter().enumerate() {
                if let Some(value) = query_param(path, &loc.name) {
                    out.push(Token {
                        value,
                        source: Source::Param(i),
                    });
                }
            }
        }
        if !self.cookies.is_empty() {
            for (i, loc) in self.cookies.iter().enumerate() {
                if let Some(v) = cookie(headers, &loc.name) {
                    out.push(Token {
                        value: v,
                        source: Source::Cookie(i),
                    });
                }
            }
        }
        out
    }

    /// Where `source` points, as the configuration names it (for
    /// `jwt-guard explain`).
    pub fn describe(&self, source: Source) -> String {
        match source {
            Source::Header(i) => {
                self.headers
                    .get(i)
                    .map_or_else(String::new, |l| match l.prefix.as_str() {
                        "" => format!("header {}", l.name),
                        prefix => format!("header {} (prefix {prefix:?})", l.name),
                    })
            }
            Source::Param(i) => self
                .params
                .get(i)
                .map_or_else(String::new, |l| format!("query parameter {}", l.name)),
            Source::Cookie(i) => self
                .cookies
                .get(i)
                .map_or_else(String::new, |l| format!("cookie {}", l.name)),
            Source::Dpop => "header authorization (DPoP scheme)".to_owned(),
        }
    }

    /// Whether the location the token came from accepts `issuer`.
    pub fn issuer_allowed(&self, token: &Token, issuer: &str) -> bool {
        let issuers = match token.source {
            Source::Header(i) => self.headers.get(i).map(|l| &l.issuers),
            Source::Param(i) => self.params.get(i).map(|l| &l.issuers),
            Source::Cookie(i) => self.cookies.get(i).map(|l| &l.issuers),
            Source::Dpop => self.dpop.as_ref(),
        };
        issuers.is_some_and(|s| s.allows(issuer))
    }

    /// Removes a verified token from the request (`forward: false`): the whole
    /// header, or the query parameter. Cookies are left alone, as in Envoy.
    pub fn remove(&self, token: &Token, headers: &mut Headers) {
        match token.source {
            Source::Header(i) => {
                if let Some(l) = self.headers.get(i) {
                    headers.remove(&l.name);
                }
            }
            Source::Param(i) => {
                if let Some(l) = self.params.get(i) {
                    let path = remove_param(headers.path(), &l.name);
                    headers.set(":path", path);
                }
            }
            Source::Cookie(_) => {}
            Source::Dpop => headers.remove(DPOP_HEADER),
        }
    }
}

/// The header DPoP-scheme tokens come in.
const DPOP_HEADER: &str = "authorization";

/// The tokens of `DPoP` credentials in an `Authorization` value (several
/// headers arrive joined with `,`, which no token68 holds). The scheme name
/// is case-insensitive (RFC 9110 §11.1).
fn dpop_credentials(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter_map(|element| {
        let element = element.trim_start_matches([' ', '\t']);
        let scheme = element.get(..4)?;
        let rest = element.get(4..)?;
        if !scheme.eq_ignore_ascii_case("dpop") || !rest.starts_with([' ', '\t']) {
            return None;
        }
        Some(rest.trim_matches([' ', '\t'])).filter(|t| !t.is_empty())
    })
}

/// Whether the request's `Authorization` uses the `DPoP` scheme: a denial
/// then puts its `error` on the DPoP challenge.
pub fn sends_dpop(headers: &Headers) -> bool {
    headers
        .get_all(DPOP_HEADER)
        .any(|v| dpop_credentials(v).next().is_some())
}

/// The token in one header value: the whole value without a prefix; with
/// one, `None` when the value lacks it.
fn header_token(value: &str, prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return Some(value.to_owned());
    }
    // Envoy searches for the prefix anywhere in the value, case-sensitively,
    // then skips to the first base64url (or dot) character and keeps
    // everything from there on.
    // The usual value starts with its prefix: no substring search then.
    let pos = if value.starts_with(prefix) {
        0
    } else {
        value.find(prefix)?
    };
    let rest = value
        .get(pos..)
        .and_then(|v| v.get(prefix.len()..))
        .unwrap_or("");
    match rest.find(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        Some(start) => Some(rest.get(start..).unwrap_or("").to_owned()),
        // Nothing token-like: Envoy keeps the whole value.
        None => Some(value.to_owned()),
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        // In range by each arm: no wrap happens.
        b'0'..=b'9' => Some(c.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(c.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(c.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// Percent-decodes; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i.saturating_add(1)).copied().and_then(hex),
                b.get(i.saturating_add(2)).copied().and_then(hex),
            ) {
                out.push((h << 4) | l);
                i = i.saturating_add(3);
                continue;
            }
        }
        out.push(c);
        i = i.saturating_add(1);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters of a path as written (`name=value`, a bare
/// `name`), in order, empty ones left out.
fn raw_params(path: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
}

/// The decoded query parameters of a path, in order.
pub fn query_params(path: &str) -> Vec<(String, String)> {
    raw_params(path)
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// The decoded value of the first `name` parameter of a path: what
/// [`query_params`] finds, without decoding what does not match (most
/// requests carry no token in their query).
fn query_param(path: &str, name: &str) -> Option<String> {
    raw_params(path).find_map(|(k, v)| {
        let matches = if k.contains('%') {
            percent_decode(k) == name
        } else {
            k == name
        };
        matches.then(|| percent_decode(v))
    })
}

/// The path with every `name` parameter removed. Like Envoy, the remaining
/// parameters are rebuilt sorted by name, from their decoded values.
fn remove_param(path: &str, name: &str) -> String {
    let base = path.split('?').next().unwrap_or(path);
    let mut rest: Vec<(String, String)> = query_params(path)
        .into_iter()
        .filter(|(k, _)| k != name)
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    if rest.is_empty() {
        return base.to_owned();
    }
    let query: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{base}?{}", query.join("&"))
}

/// The first cookie named `name` across all `cookie` headers, quotes removed.
fn cookie(headers: &Headers, name: &str) -> Option<String> {
    for header in headers.get_all("cookie") {
        for part in header.split(';') {
            let part = part.trim_start();
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if k != name {
                continue;
            }
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            return Some(v.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests;
