//! DPoP's host-free parts (RFC 9449) on hostile input: a proof checked
//! against a request, the `htu` comparison form of any string, the
//! thumbprint of any JSON object, nonces, and a whole request whose `DPoP`
//! header is the input, with a bound token. Oracles: a proof that passes
//! names a 43-character thumbprint; normalising is idempotent and only ever
//! yields an http(s) URI; only a nonce this secret issued is accepted; no
//! request passes without a replay store to record its proof in.
#![no_main]

use jwt_guard::dpop::keys::NoKeyCache;
use jwt_guard::dpop::proof::{self, Expect};
use jwt_guard::dpop::{self, Nonces};
use jwt_guard::jws::Alg;
use jwt_guard_fuzz::{bound_token, decide};
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
        keys: &NoKeyCache,
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
            assert!(t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
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
    // The RFC 7638 example key's thumbprint: seeds carry that key.
    let token = bound_token("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    let passed = decide(vec![
        (":method".into(), "GET".into()),
        (":scheme".into(), "https".into()),
        (":authority".into(), "api.example.com".into()),
        (":path".into(), "/dpop/orders".into()),
        ("authorization".into(), format!("DPoP {token}")),
        ("dpop".into(), text.into_owned()),
    ]);
    assert!(!passed, "a proof passed with no replay store");
});
