//! A token from anywhere: parsing in Envoy's order, then the whole decision
//! with it as a bearer token on every rule's path.
#![no_main]

use jwt_guard_fuzz::{decide, SECRET};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let _ = jwt_guard::jwt::parse(&token);
    for path in ["/api", "/h", "/any", "/"] {
        let allowed = decide(vec![
            (":path".into(), path.into()),
            ("authorization".into(), format!("Bearer {token}")),
        ]);
        // Oracle: a token the filter lets through on a protected path must
        // carry a signature that verifies over its own first two segments
        // (checked here with HMAC for HS256 only, the one key we can sign with).
        if allowed && path != "/any" && path != "/" && token.contains("\"HS256\"") {
            check_hs256(&token);
        }
    }
});

fn check_hs256(token: &str) {
    use hmac::{Hmac, KeyInit, Mac};
    let Some((input, sig)) = token.rsplit_once('.') else {
        panic!("allowed a token without a signature segment: {token}");
    };
    let sig = jwt_guard::b64::decode_url(sig.as_bytes()).unwrap_or_default();
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    assert!(mac.verify_slice(&sig).is_ok(), "allowed a forged HS256 token: {token}");
}
