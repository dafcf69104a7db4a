//! An authorization server's introspection answer (RFC 7662 §2.2): the
//! strict reader, what is derived from an active answer (how long it may be
//! cached, whether it may be an access token, its registered claims), and
//! its shared-data record, which must read back as written.
#![no_main]

use jwt_guard::introspection::cache::Remembered;
use jwt_guard::introspection::{self, Answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match introspection::read_answer(data) {
        Ok(Answer::Active(answer)) => {
            let claims = &answer.claims;
            // Only a boolean true reads as active.
            assert_eq!(claims.get("active"), Some(&serde_json::Value::Bool(true)));
            let ttl = introspection::active_ttl_ms(claims, 1_700_000_000_000, 300_000);
            assert!(ttl <= 300_000);
            let _ = introspection::may_be_access_token(claims);
            if let Some(r) = Remembered::of_active(answer.clone(), 1_700_000_000_000, 300_000) {
                assert_eq!(Remembered::from_record(&r.to_record()), Some(r));
            }
        }
        Ok(Answer::Inactive) | Err(_) => {}
    }
    let text = String::from_utf8_lossy(data);
    let body = introspection::request_body(&text, Some("access_token"), &[("client_id", &text)]);
    // Form encoding leaves only unreserved characters, `%`, `+`, `=` and `&`.
    assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%+=&".contains(&b)));
});
