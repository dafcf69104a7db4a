//! DPoP's host-free parts (RFC 9449) on hostile input: the `htu`
//! comparison form of any string, the thumbprint of any JSON object, and
//! nonces. Oracles: normalising is idempotent and only ever yields an
//! http(s) URI with a path; a thumbprint is 43 base64url characters; only a
//! nonce this secret issued is accepted.
#![no_main]

use jwt_guard::dpop::{self, Nonces};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(htu) = dpop::normalize_htu(&text) {
        assert!(htu.starts_with("http://") || htu.starts_with("https://"));
        assert_eq!(dpop::normalize_htu(&htu).as_deref(), Some(htu.as_str()));
    }
    if let Some(jwk) = jwt_guard::claims::parse_object(data) {
        if let Ok(t) = dpop::thumbprint(&jwk) {
            assert_eq!(t.len(), 43);
            assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        let _ = dpop::has_private_members(&jwk);
    }
    let _ = dpop::ath(&text);
    if let Some(nonces) = Nonces::new(b"fuzz secret", 60_000) {
        let now = 1_700_000_000_000;
        assert!(nonces.accepts(&nonces.issue(now), now));
        if text != nonces.issue(now) && text != nonces.issue(now - 60_000) {
            assert!(!nonces.accepts(&text, now));
        }
    }
});
