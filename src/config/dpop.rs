//! JSON → a provider's `dpop` (jwt-guard only: RFC 9449 sender-constrained
//! tokens). The block is optional (absent: `off`); inside it `mode` must be
//! said, everything else has a default. The nonce secret never appears in
//! an error message.

use super::json::{err, join, Obj, Result};
use super::remote::millis;
use crate::dpop::settings::{Mode, Origin, Settings};
use crate::dpop::Nonces;
use crate::jws::Alg;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How old a proof's `iat` may be unless configured.
const DEFAULT_MAX_AGE_MS: u64 = 300_000;
/// How far ahead a proof's `iat` may be unless configured.
const DEFAULT_FUTURE_SKEW_MS: u64 = 5_000;
/// Proofs the replay store holds per provider unless configured.
const DEFAULT_REPLAY_ENTRIES: u64 = 100_000;
/// The replay store's bounds: small enough to stay in memory, large enough
/// that slots rarely fill.
const REPLAY_ENTRIES: (u64, u64) = (64, 10_000_000);
/// How long a nonce is valid unless configured (between one and two of it).
const DEFAULT_NONCE_LIFETIME_MS: u64 = 60_000;
/// The shortest nonce secret: 256 bits as text.
const MIN_SECRET_LEN: usize = 32;

/// Every asymmetric algorithm the module verifies: the default.
fn asymmetric() -> Vec<Alg> {
    Alg::ALL.into_iter().filter(|a| !a.is_symmetric()).collect()
}

fn algorithms(o: &mut Obj<'_>) -> Result<Vec<Alg>> {
    const FIELD: &str = "allowed_algorithms";
    if !o.has(FIELD) {
        return Ok(asymmetric());
    }
    let path = join(&o.path, FIELD);
    let names = o.strings(FIELD)?;
    if names.is_empty() {
        return err(&path, "must not be empty (it would refuse every proof)");
    }
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let at = format!("{path}[{i}]");
        match Alg::from_name(name) {
            Some(a) if !a.is_symmetric() => out.push(a),
            Some(_) => {
                return err(
                    &at,
                    format!("{name} is symmetric: a DPoP proof needs an asymmetric algorithm"),
                )
            }
            None => {
                let known: Vec<&str> = asymmetric().iter().map(|a| a.name()).collect();
                return err(
                    &at,
                    format!(
                        "unknown algorithm \"{name}\" (expected one of {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }
    Ok(out)
}

/// Whole seconds of a duration field, at least one.
fn seconds(o: &mut Obj<'_>, name: &str, default_ms: u64) -> Result<u64> {
    let ms = millis(o, name)?.unwrap_or(default_ms);
    if ms < 1000 {
        return err(&join(&o.path, name), "must be at least 1s");
    }
    Ok(ms / 1000)
}

/// `authority`: `scheme://host[:port]` or `host[:port]`, nothing more.
fn origin(o: &mut Obj<'_>) -> Result<Option<Origin>> {
    let Some(text) = o.string("authority")? else {
        return Ok(None);
    };
    let path = join(&o.path, "authority");
    let (scheme, authority) = match text.split_once("://") {
        Some((s, a)) => (Some(s.to_ascii_lowercase()), a),
        None => (None, text.as_str()),
    };
    if let Some(s) = &scheme {
        if s != "http" && s != "https" {
            return err(&path, format!("scheme \"{s}\" is not http or https"));
        }
    }
    if authority.contains(['/', '?', '#']) {
        return err(
            &path,
            "must be scheme://host[:port] without a path, query or fragment",
        );
    }
    if authority.is_empty() {
        return err(&path, "names no host");
    }
    if let Err(e) = crate::discovery::check_authority(authority) {
        return err(&path, e.to_string());
    }
    Ok(Some(Origin {
        scheme,
        authority: authority.to_owned(),
    }))
}

fn nonces(o: &mut Obj<'_>) -> Result<Option<Nonces>> {
    let Some(mut n) = o.object("nonce")? else {
        return Ok(None);
    };
    let secret = n.string("secret")?.unwrap_or_default();
    if secret.len() < MIN_SECRET_LEN {
        return err(
            &join(&n.path, "secret"),
            format!("is required and must be at least {MIN_SECRET_LEN} characters long"),
        );
    }
    let lifetime = millis(&mut n, "lifetime")?.unwrap_or(DEFAULT_NONCE_LIFETIME_MS);
    let lifetime_path = join(&n.path, "lifetime");
    n.finish()?;
    if lifetime < 1000 {
        return err(&lifetime_path, "must be at least 1s");
    }
    Ok(Nonces::new(secret.as_bytes(), lifetime))
}

/// Compiles `<provider>.dpop`; `None` for `mode: off`.
pub fn compile(v: &Value, path: &str, provider: &str) -> Result<Option<Settings>> {
    let mut o = Obj::new(v, path)?;
    let mode = match o.string("mode")?.as_deref() {
        Some("required") => Some(Mode::Required),
        Some("allowed") => Some(Mode::Allowed),
        Some("off") => None,
        Some(other) => {
            return err(
                &join(path, "mode"),
                format!("\"{other}\" is not one of required, allowed, off"),
            )
        }
        None => {
            return err(
                &join(path, "mode"),
                "is required in a dpop block (required, allowed or off)",
            )
        }
    };
    let algorithms = algorithms(&mut o)?;
    let max_age_s = seconds(&mut o, "max_age", DEFAULT_MAX_AGE_MS)?;
    let future_skew_ms = millis(&mut o, "future_skew")?.unwrap_or(DEFAULT_FUTURE_SKEW_MS);
    let future_skew_s = future_skew_ms / 1000;
    let mut entries = DEFAULT_REPLAY_ENTRIES;
    if let Some(mut r) = o.object("replay_cache")? {
        let (min, max) = REPLAY_ENTRIES;
        if let Some(n) = r.u64("max_entries", max)? {
            if n < min {
                return err(
                    &join(&r.path, "max_entries"),
                    format!("must be at least {min}"),
                );
            }
            entries = n;
        }
        r.finish()?;
    }
    let nonces = nonces(&mut o)?;
    let origin = origin(&mut o)?;
    o.finish()?;
    let Some(mode) = mode else {
        return Ok(None);
    };
    // Slots of eight entries, twice as many as the entries need: a slot
    // fills (and refuses) only when the traffic is well past `max_entries`.
    let replay_slots = usize::try_from(entries.div_ceil(2)).unwrap_or(usize::MAX);
    let scope = crate::b64::hex(&Sha256::digest(provider.as_bytes()));
    Ok(Some(Settings {
        mode,
        algorithms,
        max_age_s,
        future_skew_s,
        replay_slots,
        shared_prefix: format!("jwt_guard/dpop/{}/", scope.get(..16).unwrap_or("")),
        nonces,
        origin,
    }))
}

#[cfg(test)]
mod tests;
