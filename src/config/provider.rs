//! JSON → compiled `JwtProvider`: keys decoded, matchers compiled, header
//! names lowercased, default token locations applied.

use super::json::{err, Obj, Result};
use super::matchers::string_matcher;
use crate::authn::{Audiences, ClaimToHeader, Keys, MaxLifetime, Provider};
use crate::extract::Locations;
use serde_json::Value;

/// Envoy's default token locations when a provider names none.
const DEFAULT_HEADER: (&str, &str) = ("authorization", "Bearer ");
const DEFAULT_PARAM: &str = "access_token";

fn header_name(name: &str, path: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.bytes().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    b'"' | b'('
                        | b')'
                        | b','
                        | b'/'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                        | b'\\'
                        | b'='
                        | b';'
                        | b'?'
                        | b'@'
                )
        });
    if !ok {
        return err(path, format!("\"{name}\" is not a valid header name"));
    }
    Ok(name.to_ascii_lowercase())
}

/// `config.core.v3.DataSource` holding the JWKS text.
fn jwks_text(v: &Value, path: &str) -> Result<String> {
    let mut o = Obj::new(v, path)?;
    for (field, why) in [
        ("filename", "reading files is not possible from inside the wasm sandbox; put the JWKS in inline_string"),
        ("environment_variable", "environment variables are not visible inside the wasm sandbox; put the JWKS in inline_string"),
    ] {
        if o.has(field) {
            return err(&format!("{path}.{field}"), why);
        }
    }
    o.unsupported(&["watched_directory"])?;
    let text = match (o.string("inline_string")?, o.string("inline_bytes")?) {
        (Some(s), None) => s,
        (None, Some(b)) => {
            let bytes = crate::b64::decode_std(b.as_bytes())
                .or_else(|| crate::b64::decode_url(b.as_bytes()))
                .ok_or_else(|| super::json::ConfigError {
                    path: format!("{path}.inline_bytes"),
                    message: "is not valid base64".into(),
                })?;
            String::from_utf8(bytes)
                .or_else(|_| err(&format!("{path}.inline_bytes"), "does not hold UTF-8 text"))?
        }
        (None, None) => return err(path, "one of inline_string, inline_bytes is required"),
        (Some(_), Some(_)) => {
            return err(path, "only one of inline_string, inline_bytes may be set")
        }
    };
    o.finish()?;
    Ok(text)
}

fn locations(o: &mut Obj<'_>) -> Result<Locations> {
    let mut headers = Vec::new();
    for (v, path) in o.list("from_headers")? {
        let mut h = Obj::new(v, &path)?;
        let name = h.string("name")?.unwrap_or_default();
        let name = header_name(&name, &format!("{path}.name"))?;
        let prefix = h.string("value_prefix")?.unwrap_or_default();
        h.finish()?;
        headers.push((name, prefix));
    }
    let params = o.strings("from_params")?;
    let cookies = o.strings("from_cookies")?;
    if headers.is_empty() && params.is_empty() && cookies.is_empty() {
        headers.push((DEFAULT_HEADER.0.to_owned(), DEFAULT_HEADER.1.to_owned()));
        return Ok(Locations {
            headers,
            params: vec![DEFAULT_PARAM.to_owned()],
            cookies,
            dpop: false,
        });
    }
    Ok(Locations {
        headers,
        params,
        cookies,
        dpop: false,
    })
}

/// Compiles `providers.<name>`.
pub fn compile(index: usize, name: &str, v: &Value, path: &str) -> Result<Provider> {
    let mut o = Obj::new(v, path)?;
    o.unsupported(&[
        "payload_in_metadata",
        "header_in_metadata",
        "failed_status_in_metadata",
        "normalize_payload_in_metadata",
    ])?;
    let issuer = o.string("issuer")?.unwrap_or_default();
    let audiences = Audiences::new(o.strings("audiences")?);
    let subjects = match o.field("subjects")? {
        Some((sv, sp)) => Some(string_matcher(sv, &sp)?),
        None => None,
    };
    let require_expiration = o.bool("require_expiration")?;
    let max_lifetime = match o.duration("max_lifetime")? {
        Some(n) if n < 0 => return err(&format!("{path}.max_lifetime"), "must not be negative"),
        Some(n) => Some(MaxLifetime::Nanos(n)),
        None if require_expiration => Some(MaxLifetime::Unbounded),
        None => None,
    };
    let (hardening, key_policy) = super::hardening::parse(&mut o)?;
    let keys = match o.oneof(&["local_jwks", "remote_jwks", "discovery"])? {
        Some("local_jwks") => {
            let (jv, jp) = o.require("local_jwks")?;
            let text = jwks_text(jv, &jp)?;
            let jwks = crate::jwks::parse(&text).or_else(|e| err(&jp, e.to_string()))?;
            Keys::Local(super::hardening::apply_key_policy(key_policy, jwks, &jp)?)
        }
        Some(remote) => {
            let discovery = remote == "discovery";
            if discovery && issuer.is_empty() {
                return err(
                    path,
                    "discovery needs the provider's issuer, to check the document's",
                );
            }
            let (rv, rp) = o.require(remote)?;
            Keys::Remote {
                remote: Box::new(super::remote::compile(rv, &rp, discovery)?),
                policy: key_policy,
            }
        }
        // Introspection alone: JWT-shaped tokens go to the endpoint too,
        // or (`verify_locally`) are not this provider's.
        None if o.has("introspection") => Keys::None,
        None => {
            return err(
                path,
                "one of local_jwks, remote_jwks, discovery, introspection is required",
            )
        }
    };
    let introspection = match o.field("introspection")? {
        Some((iv, ip)) => {
            let around = super::introspection::Around {
                name,
                has_keys: matches!(keys, Keys::Local(_))
                    || matches!(&keys, Keys::Remote { remote, .. } if !remote.discovery),
                discovery: match &keys {
                    Keys::Remote { remote, .. } if remote.discovery => Some(&**remote),
                    _ => None,
                },
                issuer: &issuer,
            };
            Some(Box::new(super::introspection::compile(iv, &ip, &around)?))
        }
        None => None,
    };
    let dpop = match o.field("dpop")? {
        Some((dv, dp)) => super::dpop::compile(dv, &dp, name)?.map(Box::new),
        None => None,
    };
    let forward = o.bool("forward")?;
    let mut locations = locations(&mut o)?;
    // A DPoP provider also reads `Authorization: DPoP <token>`.
    locations.dpop = dpop.is_some();
    let forward_payload_header = match o.string("forward_payload_header")? {
        Some(h) if !h.is_empty() => {
            Some(header_name(&h, &format!("{path}.forward_payload_header"))?)
        }
        _ => None,
    };
    let pad_forward_payload_header = o.bool("pad_forward_payload_header")?;
    let mut claim_to_headers = Vec::new();
    for (cv, cp) in o.list("claim_to_headers")? {
        let mut c = Obj::new(cv, &cp)?;
        let header = c.string("header_name")?.unwrap_or_default();
        let header = header_name(&header, &format!("{cp}.header_name"))?;
        let claim = c.string("claim_name")?.unwrap_or_default();
        if claim.is_empty() {
            return err(&format!("{cp}.claim_name"), "must not be empty");
        }
        c.finish()?;
        claim_to_headers.push(ClaimToHeader { claim, header });
    }
    let clock_skew = match o.u64("clock_skew_seconds", u64::from(u32::MAX))? {
        None | Some(0) => 60,
        Some(s) => s,
    };
    // Envoy's own token cache: same decisions with or without it, so the
    // settings are checked and accepted; jwt-guard's own verified-token
    // cache is `token_cache` at the top level.
    if let Some(mut c) = o.object("jwt_cache_config")? {
        c.u64("jwt_cache_size", u64::from(u32::MAX))?;
        c.u64("jwt_max_token_size", u64::from(u32::MAX))?;
        c.finish()?;
    }
    // Envoy re-evaluates routes after a wasm filter changes headers anyway.
    o.bool("clear_route_cache")?;
    o.finish()?;
    Ok(Provider {
        index,
        name: name.to_owned(),
        issuer,
        audiences,
        subjects,
        max_lifetime,
        keys,
        introspection,
        dpop,
        forward,
        forward_payload_header,
        pad_forward_payload_header,
        claim_to_headers,
        clock_skew,
        locations,
        hardening,
    })
}
