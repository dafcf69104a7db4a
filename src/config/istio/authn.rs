//! `RequestAuthentication` specs → providers and Istio's requirement, as
//! istiod builds its `jwt_authn` config: each `jwtRules` entry becomes the
//! provider JSON istiod would generate, compiled by the plain compiler, whose
//! error paths are translated back to the fields the user wrote.

use super::super::json::{err, join, ConfigError, Obj, Result};
use super::super::{provider, requirements};
use crate::authn::Provider;
use crate::discovery::{parse_uri, Target};
use crate::rules::Verifier;
use serde_json::{json, Map, Value};

/// The authentication half of the dialect.
pub struct Authn {
    pub providers: Vec<Provider>,
    pub key_paths: Vec<String>,
    pub verifier: Verifier,
    /// Claims Istio's config makes space-delimited lists for authorization:
    /// `scope`, `permission` and every rule's `spaceDelimitedClaims`.
    pub words: Vec<String>,
}

/// Istio's defaults for keys Envoy fetches: `timeout` 5 s, cached 5 min.
const TIMEOUT: &str = "5s";
const CACHE_DURATION: &str = "300s";
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// One `jwtRules` entry, translated.
struct JwtRule {
    issuer: String,
    /// The `JwtProvider` istiod would generate.
    provider: Value,
    path: String,
    /// Where its keys are written, for warnings.
    keys_path: String,
}

/// The cluster istiod names for a URI's host: `outbound|<port>||<host>`,
/// the port 443 for https and 80 for http unless the URI gives one.
fn cluster(target: &Target) -> String {
    let a = target.authority.as_str();
    let (host, port) = match a.strip_prefix('[') {
        // An IPv6 literal: the port, if any, follows "]:".
        Some(v6) => match v6.split_once(']') {
            Some((h, rest)) => (h, rest.strip_prefix(':')),
            None => (v6, None),
        },
        None => match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        },
    };
    let default = if target.scheme == "https" {
        "443"
    } else {
        "80"
    };
    format!("outbound|{}||{host}", port.unwrap_or(default))
}

/// `fromHeaders[i]` (`name`, `prefix`) → `from_headers[i]`.
fn header(v: &Value, path: &str) -> Result<Value> {
    let mut o = Obj::new(v, path)?;
    let mut out = Map::new();
    if let Some((name, _)) = o.field("name")? {
        out.insert("name".into(), name.clone());
    }
    if let Some((prefix, _)) = o.field("prefix")? {
        out.insert("value_prefix".into(), prefix.clone());
    }
    o.finish()?;
    Ok(Value::Object(out))
}

/// `outputClaimToHeaders[i]` (`header`, `claim`) → `claim_to_headers[i]`.
fn claim_header(v: &Value, path: &str) -> Result<Value> {
    let mut o = Obj::new(v, path)?;
    let mut out = Map::new();
    if let Some((h, _)) = o.field("header")? {
        out.insert("header_name".into(), h.clone());
    }
    if let Some((c, _)) = o.field("claim")? {
        out.insert("claim_name".into(), c.clone());
    }
    o.finish()?;
    Ok(Value::Object(out))
}

/// Where the keys come from: `jwks` inline, `jwksUri` fetched through the
/// cluster istiod names, or neither: the issuer's OIDC discovery document
/// (istiod discovers it itself; here it is fetched through the issuer's
/// cluster).
fn keys(o: &mut Obj<'_>, issuer: &str, out: &mut Map<String, Value>) -> Result<String> {
    if o.has("jwks") && o.has("jwks_uri") {
        return err(
            &o.path,
            "only one of jwks, jwks_uri may be set (Istio says so too)",
        );
    }
    let timeout = o
        .field("timeout")?
        .map_or(json!(TIMEOUT), |(t, _)| t.clone());
    if let Some((jwks, _)) = o.field("jwks")? {
        out.insert("local_jwks".into(), json!({ "inline_string": jwks }));
        return Ok(join(&o.path, "jwks"));
    }
    let (field, uri) = match o.string("jwks_uri")? {
        Some(uri) => ("remote_jwks", uri),
        None => (
            "discovery",
            format!("{}{DISCOVERY_PATH}", issuer.trim_end_matches('/')),
        ),
    };
    let target = match parse_uri(&uri) {
        Ok(t) => t,
        Err(e) if field == "remote_jwks" => return err(&join(&o.path, "jwks_uri"), e.to_string()),
        Err(_) => {
            return err(
                &o.path,
                "needs jwks or jwks_uri: the issuer is not an http(s) URL to discover keys from",
            )
        }
    };
    let http_uri = json!({ "uri": uri, "cluster": cluster(&target), "timeout": timeout });
    out.insert(
        field.into(),
        json!({ "http_uri": http_uri, "cache_duration": CACHE_DURATION }),
    );
    Ok(join(&o.path, "jwks_uri"))
}

fn jwt_rule(v: &Value, path: &str, words: &mut Vec<String>) -> Result<JwtRule> {
    let mut o = Obj::new(v, path)?;
    let issuer = o.string("issuer")?.unwrap_or_default();
    if issuer.is_empty() {
        return err(&join(path, "issuer"), "is required (as in Istio)");
    }
    let mut out = Map::new();
    out.insert("issuer".into(), json!(issuer));
    let keys_path = keys(&mut o, &issuer, &mut out)?;
    // Same meaning in both: copied as written, checked by the plain compiler.
    for (from, to) in [
        ("audiences", "audiences"),
        ("from_params", "from_params"),
        ("from_cookies", "from_cookies"),
        ("output_payload_to_header", "forward_payload_header"),
        ("forward_original_token", "forward"),
    ] {
        if let Some((value, _)) = o.field(from)? {
            out.insert(to.into(), value.clone());
        }
    }
    let headers = o.list("from_headers")?;
    if !headers.is_empty() {
        let list = headers.into_iter().map(|(h, p)| header(h, &p));
        out.insert(
            "from_headers".into(),
            Value::Array(list.collect::<Result<_>>()?),
        );
    }
    let claims = o.list("output_claim_to_headers")?;
    if !claims.is_empty() {
        let list = claims.into_iter().map(|(c, p)| claim_header(c, &p));
        out.insert(
            "claim_to_headers".into(),
            Value::Array(list.collect::<Result<_>>()?),
        );
    }
    for claim in o.strings("space_delimited_claims")? {
        if !words.contains(&claim) {
            words.push(claim);
        }
    }
    o.finish()?;
    Ok(JwtRule {
        issuer,
        provider: Value::Object(out),
        path: path.to_owned(),
        keys_path,
    })
}

/// Names the field the user wrote for a path into the generated provider.
fn user_field(generated: &str) -> String {
    let renamed = [
        ("local_jwks", "jwks"),
        ("remote_jwks.http_uri.timeout", "timeout"),
        ("remote_jwks", "jwks_uri"),
        ("discovery.http_uri.timeout", "timeout"),
        ("discovery", "issuer"),
        ("forward_payload_header", "output_payload_to_header"),
        ("forward", "forward_original_token"),
        ("claim_to_headers", "output_claim_to_headers"),
    ];
    for (from, to) in renamed {
        let Some(rest) = generated.strip_prefix(from) else {
            continue;
        };
        if from == "claim_to_headers" {
            let rest = rest
                .replace(".header_name", ".header")
                .replace(".claim_name", ".claim");
            return format!("{to}{rest}");
        }
        if rest.is_empty() || rest.starts_with('.') {
            // Below a renamed message, only its own name was generated.
            return to.to_owned();
        }
    }
    generated.replace(".value_prefix", ".prefix")
}

/// An error of the plain compiler on a generated provider, named as the
/// user wrote it.
fn translate(e: ConfigError, path: &str) -> ConfigError {
    let rel = e.path.strip_prefix(path).and_then(|r| r.strip_prefix('.'));
    let path = match rel {
        Some(rel) => join(path, &user_field(rel)),
        None => e.path,
    };
    ConfigError {
        path,
        message: e.message,
    }
}

/// Istio's requirement: with one provider, its token or none; with more,
/// any provider's token, or (for providers sharing a location) every
/// provider's token or none.
fn requirement(n: usize) -> Value {
    let name = |i: usize| json!({ "provider_name": format!("origins-{i}") });
    let optional = |i: usize| json!({ "requires_any": { "requirements": [name(i), { "allow_missing": {} }] } });
    if n == 1 {
        return optional(0);
    }
    let mut any: Vec<Value> = (0..n).map(name).collect();
    let all: Vec<Value> = (0..n).map(optional).collect();
    any.push(json!({ "requires_all": { "requirements": all } }));
    json!({ "requires_any": { "requirements": any } })
}

/// Compiles the `request_authentication` specs of the `istio` member at `path`.
pub fn compile(specs: &[(&Value, String)], path: &str) -> Result<Authn> {
    let mut words = vec!["permission".to_owned(), "scope".to_owned()];
    let mut rules = Vec::new();
    for (v, p) in specs {
        let mut o = Obj::new(v, p)?;
        super::refuse_outside_spec(&o)?;
        for (rv, rp) in o.list("jwt_rules")? {
            rules.push(jwt_rule(rv, &rp, &mut words)?);
        }
        o.finish()?;
    }
    // istiod sorts the rules by issuer (stable here) before naming them.
    crate::small_sort::sort_small_by(&mut rules, |a, b| a.issuer < b.issuer);
    let mut providers = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let name = format!("origins-{i}");
        let p = super::generated(|| provider::compile(i, &name, &r.provider, &r.path))
            .map_err(|e| translate(e, &r.path))?;
        providers.push(p);
    }
    let verifier = if providers.is_empty() {
        Verifier::AllowAll
    } else {
        let json = requirement(providers.len());
        super::generated(|| requirements::requirement(&json, path, &providers))?
    };
    Ok(Authn {
        providers,
        key_paths: rules.into_iter().map(|r| r.keys_path).collect(),
        verifier,
        words,
    })
}
