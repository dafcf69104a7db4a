//! DPoP's host-free parts (RFC 9449) on hostile input: a proof checked
//! against a request, the `htu` comparison form of any string, the
//! thumbprint of any JSON object, and nonces. Oracles: a proof that passes
//! names a 43-character thumbprint; normalising is idempotent and only ever
//! yields an http(s) URI; only a nonce this secret issued is accepted.
#![no_main]

use jwt_guard::dpop::proof::{self, Expect};
use jwt_guard::dpop::{self, Nonces};
use jwt_guard::jws::Alg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let expect = Expect {
        method: "GET",
        htu: "https://api.example.com/orders",
        access_token: "token",
        algorithms: &[Alg::ES256, Alg::EdDSA, Alg::RS256, Alg::PS256],
        max_age_s: 300,
        future_skew_s: 5,
        max_jti_len: 256,
        nonces: None,
    };
    if let Ok(p) = proof::verify(&text, &expect, 1_700_000_000_000) {
        assert_eq!(p.jkt.len(), 43);
    }
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
