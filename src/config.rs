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
/// Istio dialect); the first error [`compile_all`] finds.
pub fn compile(text: &str) -> Result<Compiled, ConfigError> {
    compile_all(text).map_err(|errors| {
        errors.into_iter().next().unwrap_or_else(|| ConfigError {
            path: String::new(),
            message: "configuration refused".to_owned(),
        })
    })
}

/// The errors of one compilation, in the order the compiler meets them.
#[derive(Default)]
struct Errors(Vec<ConfigError>);

impl Errors {
    /// The value, or `None` with its error kept.
    fn keep<T>(&mut self, r: Result<T, ConfigError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }
}

/// [`compile`], going on past an error to report every one it can: each
/// top-level field, each provider, each requirement and rule is compiled on
/// its own. Requirements and rules are compiled only once every provider
/// did: one naming a provider that failed would only repeat its error.
pub fn compile_all(text: &str) -> Result<Compiled, Vec<ConfigError>> {
    let Some(root) = crate::claims::parse_object(text.as_bytes()) else {
        let why = match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => format!("configuration is not valid JSON: {e}"),
            Ok(serde_json::Value::Object(_)) => {
                "configuration JSON has a duplicate member".to_owned()
            }
            Ok(_) => "configuration must be a JSON object".to_owned(),
        };
        return err("", why).map_err(|e| vec![e]);
    };
    let root = serde_json::Value::Object(root);
    let mut o = Obj::new(&root, "").map_err(|e| vec![e])?;
    let mut errors = Errors::default();
    if let Some(Some(t)) = errors.keep(o.string("@type")) {
        if t != TYPE_URL {
            errors.keep(err::<()>("@type", format!("expected \"{TYPE_URL}\"")));
        }
    }
    errors.keep(o.unsupported(&["filter_state_rules", "strip_failure_response"]));
    // Names the JSON Schema (schema/) for editor completion; ignored.
    errors.keep(o.string("$schema"));
    // Prefixes the metric names, as in Envoy (docs/metrics-and-logs.md).
    let stat_prefix = errors
        .keep(o.string("stat_prefix"))
        .flatten()
        .unwrap_or_default();
    let bypass_cors_preflight = errors
        .keep(o.bool("bypass_cors_preflight"))
        .unwrap_or(false);
    let problem_details = errors.keep(o.bool("problem_details")).unwrap_or(false);
    let token_cache_entries = errors
        .keep(token_cache(&mut o))
        .unwrap_or(crate::cache::DEFAULT_MAX_ENTRIES);

    let parts = match errors.keep(o.field("istio")).flatten() {
        Some((v, p)) => {
            let plain = ["providers", "rules", "requirement_map"];
            match plain.into_iter().find(|f| o.has(f)) {
                Some(f) => errors.keep(err(
                    &p,
                    format!("cannot be combined with {f}: it brings its own providers and rule"),
                )),
                None => errors
                    .keep(istio::compile(v, &p))
                    .map(|d| (d.providers, vec![d.rule], d.key_paths)),
            }
        }
        None => plain(&mut o, &mut errors),
    };
    errors.keep(o.finish());
    let (providers, rules, key_paths) = match parts {
        Some(parts) if errors.0.is_empty() => parts,
        _ => return Err(errors.0),
    };
    let mut sanitize: Vec<String> = providers
        .iter()
        .flat_map(Provider::header_names_set)
        .collect();
    crate::small_sort::sort_small_by(&mut sanitize, |a, b| a < b);
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

/// `token_cache.max_entries`, or the default.
fn token_cache(o: &mut Obj<'_>) -> Result<usize, ConfigError> {
    let Some(mut c) = o.object("token_cache")? else {
        return Ok(crate::cache::DEFAULT_MAX_ENTRIES);
    };
    let n = c.u64("max_entries", 1_000_000)?;
    c.finish()?;
    Ok(n.map_or(crate::cache::DEFAULT_MAX_ENTRIES, |n| {
        usize::try_from(n).unwrap_or(usize::MAX)
    }))
}

/// [`Parts`] from the plain (Envoy) fields; `None` when any failed.
fn plain(o: &mut Obj<'_>, errors: &mut Errors) -> Option<Parts> {
    let mut providers = Vec::new();
    let mut key_paths = Vec::new();
    let before = errors.0.len();
    for (name, v, path) in errors.keep(o.map("providers")).unwrap_or_default() {
        if let Some(p) = errors.keep(provider::compile(providers.len(), name, v, &path)) {
            providers.push(p);
            key_paths.push(format!("{path}.local_jwks"));
        }
    }
    if errors.0.len() > before {
        // Still read, so they are not reported as unknown fields.
        let _ = (o.field("requirement_map"), o.field("rules"));
        return None;
    }
    let mut requirement_map = BTreeMap::new();
    for (name, v, path) in errors.keep(o.map("requirement_map")).unwrap_or_default() {
        if let Some(verifier) = errors.keep(requirements::requirement(v, &path, &providers)) {
            requirement_map.insert(name.to_owned(), verifier);
        }
    }
    if errors.0.len() > before {
        let _ = o.field("rules");
        return None;
    }
    let mut rules = Vec::new();
    for (v, path) in errors.keep(o.list("rules")).unwrap_or_default() {
        let rule = requirements::rule(v, &path, &providers, &requirement_map);
        rules.extend(errors.keep(rule));
    }
    (errors.0.len() == before).then_some((providers, rules, key_paths))
}

#[cfg(test)]
mod asked;
#[cfg(test)]
mod every_error_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod tests;
