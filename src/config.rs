//! The configuration compiler: Envoy's `JwtAuthentication` in proto3 JSON
//! (plus jwt-guard's additive fields, and the Istio dialect) turned once, at
//! `on_configure`, into the typed, pre-computed [`Policy`] the request path
//! runs. Anything we cannot honour is refused with the JSON path that says
//! it. The compiled types live with the code that runs them (`authn`,
//! `authz`, `jwks`, `keystore`, `matcher`, `rules`); this module only builds
//! them.

mod authz;
mod dpop;
mod hardening;
mod introspection;
mod istio;
mod json;
mod matchers;
mod provider;
mod remote;
mod requirements;

pub use json::ConfigError;

use crate::authn::{Keys, Provider, Providers};
use crate::jwks::KeyWarning;
use crate::rules::{Policy, Rule};
use json::{err, Obj};
use std::collections::BTreeMap;
use std::fmt;

/// A compiled configuration and what the operator should hear about it.
#[derive(Debug)]
pub struct Compiled {
    pub policy: Policy,
    /// Things that load but deserve an operator's look (weak local keys),
    /// logged by the glue at configure time.
    pub warnings: Vec<ConfigWarning>,
}

/// A weak key in the configuration, with the JSON path of its key set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    pub path: String,
    pub key: KeyWarning,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.key)
    }
}

const TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";

/// Parses and compiles the JSON text of a `JwtAuthentication` (or of the
/// Istio dialect).
pub fn compile(text: &str) -> Result<Compiled, ConfigError> {
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
    // Prefixes the metric names, as in Envoy (docs/metrics-and-logs.md).
    let stat_prefix = o.string("stat_prefix")?.unwrap_or_default();
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
                    format!("cannot be combined with {f}: it brings its own providers and rule"),
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
            Keys::Local(jwks) => crate::jwks::weak_keys(jwks)
                .into_iter()
                .map(|key| ConfigWarning {
                    path: path.clone(),
                    key,
                })
                .collect(),
            Keys::Remote { .. } | Keys::None => Vec::new(),
        })
        .collect();
    Ok(Compiled {
        policy: Policy {
            providers: Providers::new(providers),
            rules,
            bypass_cors_preflight,
            problem_details,
            token_cache_entries,
            sanitize,
            stat_prefix,
        },
        warnings,
    })
}

/// Providers, rules, and for each provider the path its key warnings name.
type Parts = (Vec<Provider>, Vec<Rule>, Vec<String>);

/// [`Parts`] from the plain (Envoy) fields.
fn plain(o: &mut Obj<'_>) -> Result<Parts, ConfigError> {
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
