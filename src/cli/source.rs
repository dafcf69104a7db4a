//! Finding jwt-guard's configuration in the files it is deployed with: the
//! plain JSON (or YAML) config, an Envoy wasm filter (its
//! `configuration` StringValue, inside a whole bootstrap or listener too),
//! an Istio `WasmPlugin`'s `pluginConfig`, a Kong filter chain's
//! `jwt_guard` filter `config` (a string or an object).

use super::yaml;
use serde_json::Value;

const WASM_FILTER: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const STRING_VALUE: &str = "type.googleapis.com/google.protobuf.StringValue";

/// One configuration found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Where it is (`document 2: spec.pluginConfig`); empty for a file
    /// that is the configuration.
    pub place: String,
    /// Its JSON text, as the module would be given it.
    pub text: String,
}

/// Every configuration in `text`; an error when the file cannot be read
/// or holds none.
pub fn configs(text: &str) -> Result<Vec<Found>, String> {
    // A JSON config is compiled from its own text: the compiler then sees
    // duplicate members and numbers exactly as written.
    if text.trim_start().starts_with('{') {
        return Ok(match serde_json::from_str::<Value>(text) {
            Ok(v) if wrapped(&v, "").is_empty() => vec![Found {
                place: String::new(),
                text: text.to_owned(),
            }],
            Ok(v) => wrapped(&v, ""),
            // Not JSON: the compiler says why, with its position.
            Err(_) => vec![Found {
                place: String::new(),
                text: text.to_owned(),
            }],
        });
    }
    let docs = yaml::parse(text).map_err(|e| e.to_string())?;
    let several = docs.len() > 1;
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let prefix = if several {
            format!("document {}: ", i.saturating_add(1))
        } else {
            String::new()
        };
        let inner = wrapped(doc, "");
        if !inner.is_empty() {
            out.extend(inner.into_iter().map(|f| Found {
                place: format!("{prefix}{}", f.place),
                text: f.text,
            }));
        } else if doc.is_object()
            && doc.get("kind").is_none()
            && doc.get("_format_version").is_none()
        {
            out.push(Found {
                place: prefix.trim_end_matches([':', ' ']).to_owned(),
                text: doc.to_string(),
            });
        }
    }
    if out.is_empty() {
        return Err("no jwt-guard configuration found (a JwtAuthentication object, an Envoy wasm filter, an Istio WasmPlugin or a Kong jwt_guard filter)".to_owned());
    }
    Ok(out)
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// The configurations wrapped somewhere inside `v` (at `path`).
fn wrapped(v: &Value, path: &str) -> Vec<Found> {
    let mut out = Vec::new();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                out.extend(wrapped(item, &format!("{path}[{i}]")));
            }
        }
        Value::Object(map) => {
            if let Some(found) = wrapper(v, path) {
                return vec![found];
            }
            for (k, item) in map {
                out.extend(wrapped(item, &join(path, k)));
            }
        }
        _ => {}
    }
    out
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `v` itself as one of the wrappers, if it is one.
fn wrapper(v: &Value, path: &str) -> Option<Found> {
    let field = |name: &str| v.get(name);
    let is = |name: &str, want: &str| field(name).and_then(Value::as_str) == Some(want);
    if is("kind", "WasmPlugin") {
        let meta = field("metadata");
        let name = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
        let who = match (name("namespace"), name("name")) {
            (Some(ns), Some(n)) => format!(" (WasmPlugin {ns}/{n})"),
            (None, Some(n)) => format!(" (WasmPlugin {n})"),
            _ => String::new(),
        };
        let config = v.get("spec").and_then(|s| s.get("pluginConfig"));
        return Some(Found {
            place: format!("{}{who}", join(path, "spec.pluginConfig")),
            // A WasmPlugin without pluginConfig hands the module nothing.
            text: config.map(text_of).unwrap_or_default(),
        });
    }
    if is("name", "jwt_guard") && field("config").is_some() && !is("root_id", "jwt_guard") {
        return Some(Found {
            place: join(path, "config"),
            text: field("config").map(text_of).unwrap_or_default(),
        });
    }
    if is("@type", WASM_FILTER) {
        return field("config").and_then(|c| plugin(c, &join(path, "config")));
    }
    if field("vm_config").is_some() {
        return plugin(v, path);
    }
    if is("@type", STRING_VALUE) {
        return Some(Found {
            place: join(path, "value"),
            text: field("value").map(text_of).unwrap_or_default(),
        });
    }
    None
}

/// An Envoy wasm `PluginConfig`: its `configuration` (a StringValue).
fn plugin(config: &Value, path: &str) -> Option<Found> {
    let place = join(path, "configuration");
    let Some(c) = config.get("configuration") else {
        return Some(Found {
            place,
            text: String::new(),
        });
    };
    let text = match c.get("value") {
        Some(value) => text_of(value),
        None => text_of(c),
    };
    Some(Found {
        place: join(&place, "value"),
        text,
    })
}

#[cfg(test)]
mod tests;
