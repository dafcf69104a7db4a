//! JSON → a provider's `introspection` (jwt-guard only: RFC 7662 token
//! introspection). Every field has a default but the endpoint and the
//! client's credentials; secrets never appear in an error message.

use super::json::{err, Obj, Result};
use super::remote::{http_uri, millis, HttpUri};
use crate::introspection::settings::{ClientAuth, Endpoint, FailureMode, JwtTokens, Settings};
use crate::introspection::{basic_authorization, cache_key, key_hasher};
use crate::keystore::Remote;
use serde_json::Value;

/// Answers remembered per worker (and shared slots) unless configured.
const DEFAULT_MAX_ENTRIES: u64 = 10_000;
/// The most an active answer is reused without asking again.
const DEFAULT_MAX_TTL_MS: u64 = 300_000;
/// How long "inactive" is remembered.
const DEFAULT_NEGATIVE_TTL_MS: u64 = 10_000;
/// Upper bound of `max_entries`: memory stays bounded whatever is written.
const MAX_ENTRIES_LIMIT: u64 = 1_000_000;

/// A string field among `choices`; `None` when absent.
fn choice<'c>(o: &mut Obj<'_>, name: &str, choices: &[&'c str]) -> Result<Option<&'c str>> {
    let Some(value) = o.string(name)? else {
        return Ok(None);
    };
    match choices.iter().find(|c| **c == value) {
        Some(c) => Ok(Some(c)),
        None => err(
            &format!("{}.{name}", o.path),
            format!("\"{value}\" is not one of {}", choices.join(", ")),
        ),
    }
}

/// A required, non-empty string; the message never repeats its value.
fn required(o: &mut Obj<'_>, name: &str, why: &str) -> Result<String> {
    match o.string(name)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => err(&format!("{}.{name}", o.path), why.to_owned()),
    }
}

fn client_auth(o: &mut Obj<'_>) -> Result<ClientAuth> {
    let method = choice(
        o,
        "auth_method",
        &["client_secret_basic", "client_secret_post", "bearer"],
    )?
    .unwrap_or("client_secret_basic");
    let needs = |field: &str| {
        format!("is required with auth_method {method}, and must not be empty ({field})")
    };
    let refused = |o: &Obj<'_>, field: &str| -> Result<()> {
        if o.has(field) {
            return err(
                &format!("{}.{field}", o.path),
                format!("is not used with auth_method {method}"),
            );
        }
        Ok(())
    };
    Ok(match method {
        "bearer" => {
            refused(o, "client_id")?;
            refused(o, "client_secret")?;
            let token = required(o, "bearer_token", &needs("the static token to send"))?;
            ClientAuth::Bearer {
                authorization: format!("Bearer {token}"),
            }
        }
        _ => {
            refused(o, "bearer_token")?;
            let id = required(o, "client_id", &needs("the gateway's client id"))?;
            let secret = required(o, "client_secret", &needs("the gateway's client secret"))?;
            if method == "client_secret_post" {
                ClientAuth::Post {
                    client_id: id,
                    secret,
                }
            } else {
                ClientAuth::Basic {
                    authorization: basic_authorization(&id, &secret),
                }
            }
        }
    })
}

/// What the provider around an `introspection` block holds.
pub struct Around<'a> {
    pub name: &'a str,
    /// `local_jwks` or `remote_jwks`: keys for JWT-shaped tokens.
    pub has_keys: bool,
    /// `discovery` (its `http_uri`), which can supply the endpoint.
    pub discovery: Option<&'a Remote>,
    pub issuer: &'a str,
}

/// Compiles `<provider>.introspection`.
pub fn compile(v: &Value, path: &str, around: &Around<'_>) -> Result<Settings> {
    let mut o = Obj::new(v, path)?;
    let (raw, endpoint, cluster, timeout_ms) = if o.has("http_uri") {
        let HttpUri {
            raw,
            target,
            cluster,
            timeout_ms,
        } = http_uri(&mut o)?;
        (raw, Endpoint::Fixed(target), cluster, timeout_ms)
    } else if let Some(d) = around.discovery {
        // The document's `introspection_endpoint`, through discovery's
        // cluster, with its timeout.
        let document = d.target.clone();
        let raw = format!(
            "{}://{}{}",
            document.scheme, document.authority, document.path
        );
        let issuer = around.issuer.to_owned();
        let endpoint = Endpoint::Discovered { document, issuer };
        (raw, endpoint, d.cluster.clone(), d.policy.timeout_ms)
    } else {
        return err(
            path,
            "missing required field \"http_uri\" (or give the provider discovery, whose \
             document names the introspection_endpoint)",
        );
    };
    let (provider, has_keys) = (around.name, around.has_keys);
    let client = client_auth(&mut o)?;
    let token_type_hint = match o.string("token_type_hint")? {
        None => Some("access_token".to_owned()),
        Some(h) if h.is_empty() => None,
        Some(h) => Some(h),
    };
    let mut max_entries = DEFAULT_MAX_ENTRIES;
    let mut max_ttl_ms = DEFAULT_MAX_TTL_MS;
    let mut negative_ttl_ms = DEFAULT_NEGATIVE_TTL_MS;
    if let Some(mut c) = o.object("cache")? {
        max_entries = c
            .u64("max_entries", MAX_ENTRIES_LIMIT)?
            .unwrap_or(max_entries);
        max_ttl_ms = millis(&mut c, "max_ttl")?.unwrap_or(max_ttl_ms);
        negative_ttl_ms = millis(&mut c, "negative_ttl")?.unwrap_or(negative_ttl_ms);
        c.finish()?;
    }
    let failure_mode = match choice(&mut o, "failure_mode", &["deny", "serve_stale"])? {
        Some("serve_stale") => FailureMode::ServeStale,
        _ => FailureMode::Deny,
    };
    let jwt_tokens = match choice(&mut o, "jwt_tokens", &["verify_locally", "introspect"])? {
        Some("introspect") => JwtTokens::Introspect,
        _ => JwtTokens::VerifyLocally,
    };
    if jwt_tokens == JwtTokens::Introspect && has_keys {
        return err(
            &format!("{path}.jwt_tokens"),
            "with \"introspect\" every token goes to the endpoint and the provider's keys \
             would never be used: remove the keys, or use \"verify_locally\"",
        );
    }
    o.finish()?;
    // The scope of cache keys: provider, endpoint and client (an answer may
    // depend on who asks). Hashed: the scope and the shared-data prefix
    // show no secret.
    let credentials = match &client {
        ClientAuth::Post { client_id, secret } => format!("{client_id}:{secret}"),
        other => other.authorization().unwrap_or_default().to_owned(),
    };
    let scope = crate::b64::hex(&cache_key(
        provider,
        &format!("{cluster}\n{raw}\n{credentials}"),
    ));
    let shared_prefix = format!("jwt_guard/introspect/{}/", scope.get(..16).unwrap_or(""));
    let max_entries = usize::try_from(max_entries).unwrap_or(usize::MAX);
    Ok(Settings {
        cluster,
        endpoint,
        timeout_ms,
        client,
        token_type_hint,
        max_entries,
        max_ttl_ms,
        negative_ttl_ms,
        failure_mode,
        jwt_tokens,
        hasher: key_hasher(&scope),
        scope,
        shared_prefix,
    })
}

#[cfg(test)]
mod tests;
