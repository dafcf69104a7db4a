//! `explain --fetch`: a provider's keys straight from its JWKS or discovery
//! URI, with `curl` (the crate has no TLS of its own). Only on request:
//! without `--fetch` the command makes no network call.

use crate::discovery::{self, Target};
use crate::keystore::Remote;
use std::process::Command;

fn url(t: &Target) -> String {
    format!("{}://{}{}", t.scheme, t.authority, t.path)
}

/// The body at `target`, or why not.
fn get(target: &Target) -> Result<Vec<u8>, String> {
    let url = url(target);
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--location",
            "--max-time",
            "10",
            "--",
        ])
        .arg(&url)
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{url}: {}", why.trim()));
    }
    Ok(out.stdout)
}

/// The JWKS text of `remote` (through its discovery document when it has
/// one, whose `issuer` must be the provider's).
pub fn keys(remote: &Remote, issuer: &str) -> Result<String, String> {
    let jwks_at = if remote.discovery {
        let doc = get(&remote.target)?;
        discovery::parse_document(&doc, issuer)
            .map_err(|e| format!("{}: {e}", url(&remote.target)))?
    } else {
        remote.target.clone()
    };
    let body = get(&jwks_at)?;
    String::from_utf8(body).map_err(|_| format!("{}: the key set is not UTF-8", url(&jwks_at)))
}
