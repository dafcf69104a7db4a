//! Introspection's pure parts against RFC 7662 / RFC 6749 and independent
//! vectors (Python's urllib.parse.quote_plus, base64 and hashlib).

use super::*;
use crate::fixtures::object as obj;
use serde_json::json;

#[test]
fn active_true_is_the_claim_set_and_active_false_is_inactive() {
    let body =
        br#"{"active":true,"scope":"read write","client_id":"l238j323ds-23ij4","exp":1419356238}"#;
    match read_answer(body) {
        Ok(Answer::Active(answer)) => {
            let claims = &answer.claims;
            assert_eq!(claims.get("scope"), Some(&json!("read write")));
            assert_eq!(claims.get("exp"), Some(&json!(1419356238)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(read_answer(br#"{"active":false}"#), Ok(Answer::Inactive));
    assert_eq!(
        read_answer(br#" {"active" : false, "scope": 3} "#),
        Ok(Answer::Inactive)
    );
}

#[test]
fn anything_but_a_boolean_active_in_one_json_object_is_an_error() {
    use AnswerError::*;
    let cases: &[(&[u8], AnswerError)] = &[
        (b"", NotJsonObject),
        (b"active=true", NotJsonObject),
        (b"[{\"active\":true}]", NotJsonObject),
        (b"\"active\"", NotJsonObject),
        (b"{\"active\":true}{}", NotJsonObject),
        (b"{\"active\":false,\"active\":true}", NotJsonObject),
        (b"{\"active\":true,\"x\":{\"a\":1,\"a\":2}}", NotJsonObject),
        (b"\xff{\"active\":true}", NotJsonObject),
        (b"{}", ActiveMissing),
        (b"{\"token\":{\"active\":true}}", ActiveMissing),
        (b"{\"Active\":true}", ActiveMissing),
        (b"{\"active\":\"true\"}", ActiveNotBoolean),
        (b"{\"active\":1}", ActiveNotBoolean),
        (b"{\"active\":null}", ActiveNotBoolean),
        (b"{\"active\":[true]}", ActiveNotBoolean),
        (b"{\"active\":{\"value\":true}}", ActiveNotBoolean),
    ];
    for (body, want) in cases {
        assert_eq!(
            read_answer(body),
            Err(want.clone()),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn form_encoding_keeps_unreserved_characters_and_escapes_the_rest() {
    let mut out = String::new();
    form_encode(&mut out, "s3cr3t:/+ é~");
    assert_eq!(out, "s3cr3t%3A%2F%2B+%C3%A9~");
    let mut all = String::new();
    form_encode(&mut all, "AZaz09-._~");
    assert_eq!(all, "AZaz09-._~");
}

#[test]
fn the_request_body_is_token_then_hint_then_client_fields() {
    assert_eq!(
        request_body("2YotnFZFEjr1zCsicMWpAA", Some("access_token"), &[]),
        "token=2YotnFZFEjr1zCsicMWpAA&token_type_hint=access_token"
    );
    assert_eq!(request_body("a+b=c&d", None, &[]), "token=a%2Bb%3Dc%26d");
    assert_eq!(
        request_body(
            "t",
            None,
            &[("client_id", "gate way"), ("client_secret", "p&q")]
        ),
        "token=t&client_id=gate+way&client_secret=p%26q"
    );
}

#[test]
fn basic_credentials_are_form_encoded_before_base64() {
    // RFC 6749 §2.3.1's example pair.
    assert_eq!(
        basic_authorization("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw"),
        "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3"
    );
    assert_eq!(
        basic_authorization("gate way", "p@ss:w+rd é"),
        "Basic Z2F0ZSt3YXk6cCU0MHNzJTNBdyUyQnJkKyVDMyVBOQ=="
    );
}

#[test]
fn the_cache_key_is_a_hash_of_provider_and_token_never_the_token() {
    let key = cache_key("opaque", "2YotnFZFEjr1zCsicMWpAA");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "c1d2f48f323578d8e0d932285883ff1716619817950ff325d4f629f7bd565c19"
    );
    assert_ne!(cache_key("ab", "c"), cache_key("a", "bc"));
    assert_ne!(cache_key("p", "t1"), cache_key("p", "t2"));
}

#[test]
fn an_active_answer_is_reused_until_exp_and_at_most_max_ttl() {
    let now = 1_000_000_000_000; // ms
    let max = 300_000;
    let exp = |e: Value| obj(json!({"active": true, "exp": e}));
    assert_eq!(active_ttl_ms(&exp(json!(1_000_000_060)), now, max), 60_000);
    assert_eq!(active_ttl_ms(&exp(json!(1_000_009_999)), now, max), max);
    assert_eq!(active_ttl_ms(&exp(json!(999_999_999)), now, max), 0);
    assert_eq!(active_ttl_ms(&exp(json!(1_000_000_000)), now, max), 0);
    assert_eq!(active_ttl_ms(&obj(json!({"active": true})), now, max), max);
    for bad in [json!("1000000060"), json!(-5), json!(1e300), json!(null)] {
        assert_eq!(active_ttl_ms(&exp(bad.clone()), now, max), 0, "{bad}");
    }
}

#[test]
fn refresh_and_id_tokens_are_not_access_tokens() {
    let typed = |t: Value| obj(json!({"active": true, "token_type": t}));
    for ok in [
        "Bearer",
        "bearer",
        "DPoP",
        "access_token",
        "urn:ietf:params:oauth:token-type:access_token",
        "N_A",
    ] {
        assert!(may_be_access_token(&typed(json!(ok))), "{ok}");
    }
    for refused in [
        "refresh_token",
        "Refresh_Token",
        "id_token",
        "urn:ietf:params:oauth:token-type:refresh_token",
        "urn:ietf:params:oauth:token-type:id_token",
    ] {
        assert!(!may_be_access_token(&typed(json!(refused))), "{refused}");
    }
    assert!(may_be_access_token(&obj(json!({"active": true}))));
    assert!(
        !may_be_access_token(&typed(json!(7))),
        "a non-string type is not trusted"
    );
}
