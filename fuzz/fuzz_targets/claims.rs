//! Arbitrary claims in a correctly signed (HS256) token: claims parsing,
//! registered-claim checks, claim headers and every `authorize` condition.
#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use jwt_guard_fuzz::{decide, SECRET};
use libfuzzer_sys::fuzz_target;

fn b64url(bytes: &[u8]) -> String {
    jwt_guard::b64::encode_std(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

fuzz_target!(|data: &[u8]| {
    let _ = jwt_guard::claims::parse_object(data);
    let input = format!("{}.{}", b64url(br#"{"alg":"HS256","kid":"hs"}"#), b64url(data));
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    let token = format!("{input}.{}", b64url(&mac.finalize().into_bytes()));
    for path in ["/api", "/"] {
        let _ = decide(vec![
            (":path".into(), path.into()),
            ("authorization".into(), format!("Bearer {token}")),
        ]);
    }
});
