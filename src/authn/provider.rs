//! A provider as authentication runs it: who may issue its tokens, for
//! which audiences, with which keys, and what a verified token changes in
//! the request. Built once by `config` from a `JwtProvider`.

use super::hardening::Hardening;
use crate::extract::Locations;
use crate::introspection::settings::Settings;
use crate::jwks::{Jwks, KeyPolicy};
use crate::keystore::Remote;
use crate::matcher::StringMatcher;
use std::ops::Deref;

/// Allowed audiences, normalised as Envoy does: an `http://` or `https://`
/// scheme and one trailing `/` are ignored. Empty allows any audience.
#[derive(Clone, Debug, Default)]
pub struct Audiences(Vec<String>);

fn normalize(aud: &str) -> &str {
    let a = aud
        .strip_prefix("http://")
        .or_else(|| aud.strip_prefix("https://"))
        .unwrap_or(aud);
    a.strip_suffix('/').unwrap_or(a)
}

impl Audiences {
    pub fn new(list: Vec<String>) -> Audiences {
        Audiences(list.iter().map(|a| normalize(a).to_owned()).collect())
    }

    pub fn allows(&self, token_audiences: &[String]) -> bool {
        self.0.is_empty()
            || token_audiences
                .iter()
                .any(|a| self.0.iter().any(|c| c == normalize(a)))
    }
}

/// How long a token may still live, checked against `exp - now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxLifetime {
    /// `require_expiration` alone: any `exp` will do, but one is required.
    Unbounded,
    /// `max_lifetime`, in nanoseconds: `exp - now` must be below it.
    Nanos(i128),
}

/// Where a provider's keys come from.
#[derive(Clone, Debug)]
pub enum Keys {
    /// `local_jwks`, decoded at configure time.
    Local(Jwks),
    /// `remote_jwks` or `discovery`: fetched at run time by the callout
    /// worker, which applies `policy` to every fetched key set.
    Remote {
        remote: Box<Remote>,
        policy: KeyPolicy,
    },
    /// None: an `introspection` provider without keys for JWT-shaped tokens.
    None,
}

/// One `claim_to_headers` entry.
#[derive(Clone, Debug)]
pub struct ClaimToHeader {
    pub claim: String,
    /// Lowercased header name.
    pub header: String,
}

/// A compiled `JwtProvider`.
#[derive(Clone, Debug)]
pub struct Provider {
    /// Position in [`Providers`].
    pub index: usize,
    pub name: String,
    /// Empty: tokens of any issuer are accepted by this provider.
    pub issuer: String,
    pub audiences: Audiences,
    pub subjects: Option<StringMatcher>,
    pub max_lifetime: Option<MaxLifetime>,
    pub keys: Keys,
    /// jwt-guard extension: opaque tokens (and, as configured, JWT-shaped
    /// ones) are checked by the authorization server (RFC 7662).
    pub introspection: Option<Box<Settings>>,
    /// jwt-guard extension: DPoP-bound tokens (RFC 9449); `None` is `off`.
    pub dpop: Option<Box<crate::dpop::settings::Settings>>,
    pub forward: bool,
    pub forward_payload_header: Option<String>,
    pub pad_forward_payload_header: bool,
    pub claim_to_headers: Vec<ClaimToHeader>,
    /// Seconds; Envoy's default of 60 applies when unset or 0.
    pub clock_skew: u64,
    pub locations: Locations,
    /// jwt-guard extension: per-token checks Envoy does not make (all off
    /// unless configured; see each field).
    pub hardening: Hardening,
}

impl Provider {
    /// Header names this provider writes (and so strips from requests first).
    pub fn header_names_set(&self) -> Vec<String> {
        self.forward_payload_header
            .iter()
            .cloned()
            .chain(self.claim_to_headers.iter().map(|c| c.header.clone()))
            .collect()
    }
}

/// Every provider of a configuration, in config order (a provider's
/// `index` is its position here).
#[derive(Clone, Debug, Default)]
pub struct Providers(Vec<Provider>);

impl Providers {
    pub fn new(list: Vec<Provider>) -> Providers {
        Providers(list)
    }

    /// The provider for an issuer when no provider is named (allow_missing,
    /// allow_missing_or_failed): the first with that issuer, else the first
    /// without an issuer.
    pub fn for_issuer(&self, issuer: &str) -> Option<&Provider> {
        self.0.iter().find(|p| p.issuer == issuer).or_else(|| {
            if issuer.is_empty() {
                None
            } else {
                self.0.iter().find(|p| p.issuer.is_empty())
            }
        })
    }
}

impl Deref for Providers {
    type Target = [Provider];

    fn deref(&self) -> &[Provider] {
        &self.0
    }
}
