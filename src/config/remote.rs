//! JSON → where a provider's keys come from when they are not inline:
//! Envoy's `remote_jwks`, or jwt-guard's `discovery` (OIDC discovery).

use super::json::{err, Obj, Result};
use crate::discovery::parse_uri;
use crate::discovery::Target;
use crate::keystore::{FetchPolicy, Remote};
use serde_json::Value;

const MS: i128 = 1_000_000;

pub(super) fn millis(o: &mut Obj<'_>, name: &str) -> Result<Option<u64>> {
    let path = format!("{}.{name}", o.path);
    match o.duration(name)? {
        None => Ok(None),
        Some(n) if n < 0 => err(&path, "must not be negative"),
        Some(n) => Ok(Some(u64::try_from(n / MS).unwrap_or(u64::MAX))),
    }
}

/// An Envoy `HttpUri`: what to call, through which upstream, how long to wait.
pub(super) struct HttpUri {
    /// The URI as written (shared-data keys name it).
    pub raw: String,
    pub target: Target,
    pub cluster: String,
    pub timeout_ms: u64,
}

/// `<o>.http_uri`, required.
pub(super) fn http_uri(o: &mut Obj<'_>) -> Result<HttpUri> {
    let mut uri = o.require_object("http_uri")?;
    let raw = uri.string("uri")?.unwrap_or_default();
    let target = parse_uri(&raw).or_else(|e| err(&format!("{}.uri", uri.path), e.to_string()))?;
    let cluster = uri.string("cluster")?.unwrap_or_default();
    if cluster.is_empty() {
        return err(
            &format!("{}.cluster", uri.path),
            "must name the upstream to fetch from",
        );
    }
    let timeout_ms = millis(&mut uri, "timeout")?.unwrap_or(1_000);
    if timeout_ms == 0 {
        return err(&format!("{}.timeout", uri.path), "must be positive");
    }
    uri.finish()?;
    Ok(HttpUri {
        raw,
        target,
        cluster,
        timeout_ms,
    })
}

/// `remote_jwks` (`discovery == false`) or `discovery`.
pub fn compile(v: &Value, path: &str, discovery: bool) -> Result<Remote> {
    let mut o = Obj::new(v, path)?;
    let HttpUri {
        raw,
        target,
        cluster,
        timeout_ms,
    } = http_uri(&mut o)?;

    let mut policy = FetchPolicy {
        cache_duration_ms: millis(&mut o, "cache_duration")?.unwrap_or(600_000),
        timeout_ms,
        num_retries: 0,
        base_interval_ms: 25,
        max_interval_ms: 250,
        failed_refetch_ms: 1_000,
        unknown_kid_refetch_ms: millis(&mut o, "unknown_kid_refetch_interval")?.unwrap_or(30_000),
        max_stale_ms: millis(&mut o, "max_stale")?.unwrap_or(86_400_000),
        prefetch: false,
    };
    if policy.cache_duration_ms == 0 {
        return err(&format!("{path}.cache_duration"), "must be positive");
    }
    if let Some(mut a) = o.object("async_fetch")? {
        policy.prefetch = true;
        // The listener never waits for keys in a wasm filter: accepted as is.
        a.bool("fast_listener")?;
        if let Some(ms) = millis(&mut a, "failed_refetch_duration")? {
            policy.failed_refetch_ms = ms;
        }
        a.finish()?;
    }
    if let Some(mut r) = o.object("retry_policy")? {
        policy.num_retries = u32::try_from(r.u64("num_retries", 100)?.unwrap_or(1)).unwrap_or(1);
        if let Some(mut b) = r.object("retry_back_off")? {
            let base = millis(&mut b, "base_interval")?.unwrap_or(25);
            if base == 0 {
                return err(&format!("{}.base_interval", b.path), "must be positive");
            }
            policy.base_interval_ms = base;
            policy.max_interval_ms =
                millis(&mut b, "max_interval")?.unwrap_or(base.saturating_mul(10));
            if policy.max_interval_ms < base {
                return err(
                    &format!("{}.max_interval", b.path),
                    "must not be below base_interval",
                );
            }
            b.finish()?;
        }
        r.unsupported(&[
            "retry_on",
            "retry_priority",
            "retry_host_predicate",
            "host_selection_retry_max_attempts",
        ])?;
        r.finish()?;
    }
    o.finish()?;
    // Kong's host keeps shared data in the shm_kv zone named by the key's
    // prefix before its first `/` (else in the zone `*`): `jwt_guard` is a
    // name kong.conf can declare (`nginx_wasm_shm_kv_jwt_guard`).
    let shared_key = format!("jwt_guard/keys/{cluster}/{raw}");
    Ok(Remote {
        cluster,
        target,
        discovery,
        policy,
        shared_key,
    })
}
