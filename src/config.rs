//! The plugin configuration: Envoy's `JwtAuthentication` in proto3 JSON,
//! turned once (at `on_configure`) into typed, pre-computed structures.
//! Anything we cannot honour is refused with the JSON path that says it.

mod authz;
pub mod hardening;
mod istio;
mod json;
mod matchers;
mod provider;
mod remote;
mod requirements;

pub use hardening::KeyPolicy;
pub use json::ConfigError;
pub use remote::Remote;

use crate::authn::Audiences;
use crate::authz::Authorize;
use crate::extract::Locations;
use crate::jwks::Jwks;
use crate::matcher::{RouteMatcher, StringMatcher};
use crate::rules::Verifier;
use json::{err, Obj};
use std::collections::BTreeMap;

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
    /// `remote_jwks` or `discovery`: fetched at run time by the glue, which
    /// applies `policy` to every fetched key set.
    Remote {
        remote: Box<Remote>,
        policy: KeyPolicy,
    },
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
    /// Position in `Config::providers`.
    pub index: usize,
    pub name: String,
    /// Empty: tokens of any issuer are accepted by this provider.
    pub issuer: String,
    pub audiences: Audiences,
    pub subjects: Option<StringMatcher>,
    pub max_lifetime: Option<MaxLifetime>,
    pub keys: Keys,
    pub forward: bool,
    pub forward_payload_header: Option<String>,
    pub pad_forward_payload_header: bool,
    pub claim_to_headers: Vec<ClaimToHeader>,
    /// Seconds; Envoy's default of 60 applies when unset or 0.
    pub clock_skew: u64,
    pub locations: Locations,
    /// jwt-guard extension: per-token checks Envoy does not make (all off
    /// unless configured; see each field).
    pub hardening: hardening::Hardening,
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

/// One entry of `rules`: the first whose `match` matches decides.
#[derive(Debug)]
pub struct Rule {
    pub matcher: RouteMatcher,
    pub verifier: Verifier,
    /// jwt-guard extension: claim conditions checked once `verifier` passed.
    pub authorize: Option<Authorize>,
}

/// The whole compiled configuration.
#[derive(Debug)]
pub struct Config {
    pub providers: Vec<Provider>,
    pub rules: Vec<Rule>,
    pub bypass_cors_preflight: bool,
    /// jwt-guard extension: RFC 9457 `application/problem+json` denial bodies.
    pub problem_details: bool,
    /// jwt-guard extension `token_cache.max_entries`: verified-token cache
    /// size per worker (default 1000, 0 = off). See `crate::cache`.
    pub token_cache_entries: usize,
    /// Every header any provider sets: Envoy strips them from each request,
    /// whatever rule applies, so a client can never inject one.
    pub sanitize: Vec<String>,
    /// Things that load but deserve an operator's look (weak local keys),
    /// each naming its JSON path; logged by the glue at configure time.
    pub warnings: Vec<String>,
}

const TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";

impl Config {
    /// Parses and compiles the JSON text of a `JwtAuthentication`.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let Some(root) = crate::claims::parse_object(text.as_bytes()) else {
            let why = match serde_json::from_str::<serde_json::Value>(text) {
                Err(e) => format!("configuration is not valid JSON: {e}"),
                Ok(serde_json::Value::Object(_)) => {
                    "configuration JSON has a duplicate member".to_owned()
                }
                Ok(_) => "configuration must be a JSON object".to_owned(),
            };
            return err("", why);
        };
        let root = serde_json::Value::Object(root);
        let mut o = Obj::new(&root, "")?;
        if let Some(t) = o.string("@type")? {
            if t != TYPE_URL {
                return err("@type", format!("expected \"{TYPE_URL}\""));
            }
        }
        o.unsupported(&["filter_state_rules", "strip_failure_response"])?;
        // Names the JSON Schema (schema/) for editor completion; ignored.
        o.string("$schema")?;
        // Only names Envoy's stats; accepted so pasted configs load.
        o.string("stat_prefix")?;
        let bypass_cors_preflight = o.bool("bypass_cors_preflight")?;
        let problem_details = o.bool("problem_details")?;
        let token_cache_entries = match o.object("token_cache")? {
            None => crate::cache::DEFAULT_MAX_ENTRIES,
            Some(mut c) => {
                let n = c.u64("max_entries", 1_000_000)?;
                c.finish()?;
                n.map_or(crate::cache::DEFAULT_MAX_ENTRIES, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                })
            }
        };

        let (providers, rules, key_paths) = match o.field("istio")? {
            Some((v, p)) => {
                let plain = ["providers", "rules", "requirement_map"];
                if let Some(f) = plain.into_iter().find(|f| o.has(f)) {
                    return err(
                        &p,
                        format!(
                            "cannot be combined with {f}: it brings its own providers and rule"
                        ),
                    );
                }
                let d = istio::compile(v, &p)?;
                (d.providers, vec![d.rule], d.key_paths)
            }
            None => plain(&mut o)?,
        };
        o.finish()?;
        let mut sanitize: Vec<String> = providers
            .iter()
            .flat_map(Provider::header_names_set)
            .collect();
        sanitize.sort();
        sanitize.dedup();
        let warnings = providers
            .iter()
            .zip(key_paths)
            .flat_map(|(p, path)| match &p.keys {
                Keys::Local(jwks) => hardening::weak_key_warnings(jwks)
                    .into_iter()
                    .map(|w| format!("{path}: {w}"))
                    .collect(),
                Keys::Remote { .. } => Vec::new(),
            })
            .collect();
        Ok(Config {
            providers,
            rules,
            bypass_cors_preflight,
            problem_details,
            token_cache_entries,
            sanitize,
            warnings,
        })
    }

    /// The provider for an issuer when no provider is named (allow_missing,
    /// allow_missing_or_failed): the first with that issuer, else the first
    /// without an issuer.
    pub fn provider_for_issuer(&self, issuer: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|p| p.issuer == issuer)
            .or_else(|| {
                if issuer.is_empty() {
                    None
                } else {
                    self.providers.iter().find(|p| p.issuer.is_empty())
                }
            })
    }
}

/// Providers, rules, and for each provider the path its key warnings name.
type Compiled = (Vec<Provider>, Vec<Rule>, Vec<String>);

/// [`Compiled`] from the plain (Envoy) fields.
fn plain(o: &mut Obj<'_>) -> Result<Compiled, ConfigError> {
    let mut providers = Vec::new();
    let mut key_paths = Vec::new();
    for (name, v, path) in o.map("providers")? {
        providers.push(provider::compile(providers.len(), name, v, &path)?);
        key_paths.push(format!("{path}.local_jwks"));
    }
    let mut requirement_map = BTreeMap::new();
    for (name, v, path) in o.map("requirement_map")? {
        let verifier = requirements::requirement(v, &path, &providers)?;
        requirement_map.insert(name.to_owned(), verifier);
    }
    let mut rules = Vec::new();
    for (v, path) in o.list("rules")? {
        rules.push(requirements::rule(v, &path, &providers, &requirement_map)?);
    }
    Ok((providers, rules, key_paths))
}

#[cfg(test)]
mod asked;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod tests;
