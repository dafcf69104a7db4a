//! A JWKS document or PEM text, as found in `local_jwks` or fetched from an
//! IdP: key parsing and validation of every key type, strict and tolerant.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let strict = jwt_guard::jwks::parse(&text);
    let fetched = jwt_guard::jwks::parse_fetched(&text);
    // A set local_jwks accepts whole is fetched whole, skipping nothing.
    if let Ok(all) = &strict {
        match &fetched {
            Ok(f) => assert!(f.skipped.is_empty() && f.jwks.len() == all.len()),
            Err(e) => panic!("strict parse kept {} keys, tolerant one failed: {e}", all.len()),
        }
    }
    let _ = jwt_guard::jwks::parse_pem(&text);
    let _ = jwt_guard::discovery::parse_document(data, "https://issuer.example");
});
