use super::*;
use serde_json::json;

const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw"}]}"#;

fn provider(extra: serde_json::Value) -> serde_json::Value {
    let mut p = json!({"issuer": "https://idp.example.com", "local_jwks": {"inline_string": JWKS}});
    if let (Some(p), serde_json::Value::Object(e)) = (p.as_object_mut(), extra) {
        p.extend(e);
    }
    p
}

fn compile(v: serde_json::Value) -> Result<Config, ConfigError> {
    Config::from_json(&v.to_string())
}

fn error_of(v: serde_json::Value) -> String {
    compile(v).unwrap_err().to_string()
}

#[test]
fn envoy_config_with_defaults_compiles() {
    let c = compile(json!({
        "providers": {"idp": provider(json!({}))},
        "rules": [{"match": {"prefix": "/api"}, "requires": {"provider_name": "idp"}}]
    }))
    .unwrap();
    let p = &c.providers[0];
    assert_eq!(p.clock_skew, 60);
    assert!(!p.forward);
    assert_eq!(
        p.locations.headers,
        vec![("authorization".into(), "Bearer ".into())]
    );
    assert_eq!(p.locations.params, vec!["access_token".to_owned()]);
    assert_eq!(c.rules.len(), 1);
}

#[test]
fn camel_case_names_and_typed_config_wrapper_are_accepted() {
    let c = compile(json!({
        "@type": TYPE_URL,
        "providers": {"idp": provider(json!({"fromHeaders": [{"name": "X-Jwt", "valuePrefix": ""}],
            "clockSkewSeconds": 5, "claimToHeaders": [{"headerName": "X-Sub", "claimName": "sub"}]}))},
        "bypassCorsPreflight": true
    }))
    .unwrap();
    let p = &c.providers[0];
    assert_eq!(p.locations.headers, vec![("x-jwt".into(), String::new())]);
    assert!(p.locations.params.is_empty());
    assert_eq!(p.clock_skew, 5);
    assert_eq!(p.claim_to_headers[0].header, "x-sub");
    assert!(c.bypass_cors_preflight);
}

#[test]
fn zero_clock_skew_means_envoys_default() {
    let c =
        compile(json!({"providers": {"idp": provider(json!({"clock_skew_seconds": 0}))}})).unwrap();
    assert_eq!(c.providers[0].clock_skew, 60);
}

#[test]
fn unknown_field_names_its_path() {
    assert_eq!(
        error_of(json!({"providers": {"idp": provider(json!({"foo": 1}))}})),
        "providers.idp.foo: unknown field"
    );
    assert_eq!(error_of(json!({"bogus": true})), "bogus: unknown field");
}

#[test]
fn wrong_type_names_its_path() {
    assert_eq!(
        error_of(json!({"providers": {"idp": provider(json!({"forward": "yes"}))}})),
        "providers.idp.forward: expected a boolean, got a string"
    );
}

#[test]
fn unimplemented_envoy_fields_are_refused_by_name() {
    let e = error_of(json!({"providers": {"idp": provider(json!({"remote_jwks": {}}))}}));
    assert!(e.starts_with("providers.idp.remote_jwks: "), "{e}");
    let e = error_of(json!({"filter_state_rules": {"name": "x"}}));
    assert!(e.starts_with("filter_state_rules: "), "{e}");
    let e = error_of(json!({"providers": {"idp": {"local_jwks": {"filename": "/etc/jwks.json"}}}}));
    assert!(e.starts_with("providers.idp.local_jwks.filename: "), "{e}");
}

#[test]
fn bad_jwks_is_a_config_error_on_the_provider() {
    let e = error_of(json!({"providers": {"idp": {"local_jwks": {"inline_string": "nope"}}}}));
    assert!(e.starts_with("providers.idp.local_jwks: "), "{e}");
}

#[test]
fn unknown_provider_in_a_rule_or_requirement_map_is_refused() {
    let e = error_of(json!({
        "providers": {"idp": provider(json!({}))},
        "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
            {"provider_name": "idp"}, {"provider_name": "nope"}]}}}]
    }));
    assert_eq!(
        e,
        "rules[0].requires.requires_any.requirements[1].provider_name: Required provider ['nope'] is not configured."
    );
    let e = error_of(json!({
        "providers": {"idp": provider(json!({}))},
        "requirement_map": {"r": {"provider_name": "ghost"}}
    }));
    assert!(e.starts_with("requirement_map.r.provider_name: "), "{e}");
}

#[test]
fn groups_need_two_requirements_and_rules_need_a_match() {
    let e = error_of(json!({
        "providers": {"idp": provider(json!({}))},
        "rules": [{"match": {"prefix": "/"}, "requires": {"requires_all": {"requirements": [{"provider_name": "idp"}]}}}]
    }));
    assert!(e.contains("needs at least 2 requirements"), "{e}");
    let e = error_of(json!({"rules": [{"requires": {}}]}));
    assert_eq!(e, "rules[0]: missing required field \"match\"");
}

#[test]
fn requirement_name_resolves_through_requirement_map() {
    let c = compile(json!({
        "providers": {"idp": provider(json!({}))},
        "requirement_map": {"r": {"provider_name": "idp"}},
        "rules": [{"match": {"prefix": "/"}, "requirement_name": "r"}]
    }))
    .unwrap();
    assert!(matches!(
        c.rules[0].verifier,
        Verifier::Provider { provider: 0, .. }
    ));
    let e = error_of(json!({"rules": [{"match": {"prefix": "/"}, "requirement_name": "x"}]}));
    assert_eq!(
        e,
        "rules[0].requirement_name: \"x\" is not in requirement_map"
    );
}

#[test]
fn require_expiration_and_max_lifetime() {
    let c = compile(json!({"providers": {
        "a": provider(json!({"require_expiration": true})),
        "b": provider(json!({"max_lifetime": "3600s", "require_expiration": true}))
    }}))
    .unwrap();
    assert_eq!(c.providers[0].max_lifetime, Some(MaxLifetime::Unbounded));
    assert_eq!(
        c.providers[1].max_lifetime,
        Some(MaxLifetime::Nanos(3_600_000_000_000))
    );
    let e = error_of(json!({"providers": {"a": provider(json!({"max_lifetime": 60}))}}));
    assert!(e.starts_with("providers.a.max_lifetime: "), "{e}");
}

#[test]
fn not_json_or_duplicate_members_are_refused() {
    assert!(Config::from_json("{")
        .unwrap_err()
        .to_string()
        .contains("not valid JSON"));
    assert!(Config::from_json(r#"{"rules":[],"rules":[]}"#)
        .unwrap_err()
        .to_string()
        .contains("duplicate"));
    assert!(Config::from_json("[]").is_err());
}

#[test]
fn inline_bytes_holds_base64_of_the_jwks() {
    let b = crate::b64::encode_std(JWKS.as_bytes());
    let c = compile(json!({"providers": {"idp": {"local_jwks": {"inline_bytes": b}}}})).unwrap();
    assert_eq!(c.providers[0].jwks.len(), 1);
}
