//! `compile_all`: every error one pass can find, in the compiler's order,
//! the first being what `compile` (and so the module) reports.

use super::*;
use serde_json::{json, Value};

const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw"}]}"#;

fn good() -> Value {
    json!({"issuer": "https://idp.example.com", "local_jwks": {"inline_string": JWKS}})
}

fn errors(config: &Value) -> Vec<String> {
    match compile_all(&config.to_string()) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn errors_in_several_fields_and_providers_are_all_reported_in_order() {
    let config = json!({
        "bypass_cors_preflight": "yes",
        "providers": {
            "a": {"issuer": 7, "local_jwks": {"inline_string": JWKS}},
            "b": good(),
            "c": {"issuer": "c", "local_jwks": {"inline_string": JWKS}, "audience": ["x"]}
        },
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}],
        "bogus": 1
    });
    let found = errors(&config);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found[0].starts_with("bypass_cors_preflight: "),
        "{found:#?}"
    );
    assert!(found[1].starts_with("providers.a.issuer: "), "{found:#?}");
    assert!(found[2].starts_with("providers.c.audience: "), "{found:#?}");
    assert_eq!(found[3], "bogus: unknown field");
    let first = compile(&config.to_string()).map(|_| ()).unwrap_err();
    assert_eq!(first.to_string(), found[0], "compile reports the first");
}

#[test]
fn rules_are_not_compiled_against_a_provider_that_failed() {
    // The rule names `a`, which failed: "not configured" would repeat it.
    let config = json!({
        "providers": {"a": {"issuer": 7}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}]
    });
    let found = errors(&config);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("providers.a.issuer: "), "{found:#?}");
}

#[test]
fn every_bad_rule_is_reported_once_the_providers_compile() {
    let config = json!({
        "providers": {"a": good()},
        "rules": [
            {"match": {"prefix": "/x"}, "requires": {"provider_name": "nope"}},
            {"match": {"prefix": "/"}, "requires": {"provider_name": "a"}},
            {"match": {"pefix": "/y"}}
        ]
    });
    let found = errors(&config);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("rules[0].requires.provider_name: "),
        "{found:#?}"
    );
    assert!(found[1].starts_with("rules[2].match"), "{found:#?}");
}

#[test]
fn a_good_config_has_no_errors_and_bad_json_one() {
    let config = json!({"providers": {"a": good()},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}]});
    assert!(compile_all(&config.to_string()).is_ok());
    assert_eq!(compile_all("{").map(|_| ()).map_err(|e| e.len()), Err(1));
}
