//! A JWKS document or PEM text, as found in `local_jwks` or fetched from an
//! IdP: key parsing and validation of every key type.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = jwt_guard::jwks::parse(&text);
    let _ = jwt_guard::jwks::parse_pem(&text);
    let _ = jwt_guard::discovery::parse_document(data, "https://issuer.example");
});
