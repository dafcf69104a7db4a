use super::*;
use crate::authn::MaxLifetime;
use crate::jwks::Jwks;
use crate::rules::Verifier;
use serde_json::json;

fn local_keys(p: &Provider) -> &Jwks {
    match &p.keys {
        Keys::Local(j) => j,
        Keys::Remote { .. } | Keys::None => panic!("expected local keys"),
    }
}

const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw"}]}"#;

fn provider(extra: serde_json::Value) -> serde_json::Value {
    let mut p = json!({"issuer": "https://idp.example.com", "local_jwks": {"inline_string": JWKS}});
    if let (Some(p), serde_json::Value::Object(e)) = (p.as_object_mut(), extra) {
        p.extend(e);
    }
    p
}

/// The policy of a config; see `compiled` for its warnings too.
fn compile(v: serde_json::Value) -> Result<Policy, ConfigError> {
    compiled(v).map(|c| c.policy)
}

fn compiled(v: serde_json::Value) -> Result<Compiled, ConfigError> {
    crate::fixtures::compile(&v)
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
    let e = error_of(json!({"providers": {"idp": provider(json!({"payload_in_metadata": "x"}))}}));
    assert!(e.starts_with("providers.idp.payload_in_metadata: "), "{e}");
    let e = error_of(json!({"filter_state_rules": {"name": "x"}}));
    assert!(e.starts_with("filter_state_rules: "), "{e}");
    let e = error_of(json!({"providers": {"idp": {"local_jwks": {"filename": "/etc/jwks.json"}}}}));
    assert!(e.starts_with("providers.idp.local_jwks.filename: "), "{e}");
}

#[test]
fn remote_jwks_and_discovery_compile_with_envoys_defaults() {
    let remote = json!({"issuer": "https://idp", "remote_jwks": {"http_uri": {
        "uri": "https://idp.example.com:8443/keys?v=1", "cluster": "outbound|443||idp.example.com", "timeout": "2s"}}});
    let c = compile(json!({"providers": {"r": remote}})).unwrap();
    let Keys::Remote { remote, .. } = &c.providers[0].keys else {
        panic!("expected remote keys")
    };
    assert_eq!(remote.cluster, "outbound|443||idp.example.com");
    assert_eq!(
        (
            remote.target.authority.as_str(),
            remote.target.path.as_str()
        ),
        ("idp.example.com:8443", "/keys?v=1")
    );
    assert_eq!(remote.policy.cache_duration_ms, 600_000);
    assert_eq!(remote.policy.timeout_ms, 2_000);
    assert!(!remote.policy.prefetch && !remote.discovery);
    let disc = json!({"issuer": "https://idp", "discovery": {"http_uri": {
        "uri": "http://idp/.well-known/openid-configuration", "cluster": "idp", "timeout": "1s"},
        "async_fetch": {"failed_refetch_duration": "2s"},
        "retry_policy": {"num_retries": 3, "retry_back_off": {"base_interval": "0.1s"}}}});
    let c = compile(json!({"providers": {"d": disc}})).unwrap();
    let Keys::Remote { remote, .. } = &c.providers[0].keys else {
        panic!("expected remote keys")
    };
    assert!(remote.discovery && remote.policy.prefetch);
    assert_eq!(
        (remote.policy.failed_refetch_ms, remote.policy.num_retries),
        (2_000, 3)
    );
    assert_eq!(
        (
            remote.policy.base_interval_ms,
            remote.policy.max_interval_ms
        ),
        (100, 1_000)
    );
}

#[test]
fn remote_key_sources_are_checked_with_paths() {
    let uri = |u: &str| json!({"http_uri": {"uri": u, "cluster": "idp", "timeout": "1s"}});
    let e =
        error_of(json!({"providers": {"p": {"issuer": "i", "remote_jwks": uri("ftp://x/keys")}}}));
    assert!(
        e.starts_with("providers.p.remote_jwks.http_uri.uri: "),
        "{e}"
    );
    let e = error_of(
        json!({"providers": {"p": {"discovery": uri("http://x/.well-known/openid-configuration")}}}),
    );
    assert!(
        e.starts_with("providers.p: discovery needs the provider's issuer"),
        "{e}"
    );
    let e = error_of(
        json!({"providers": {"p": {"issuer": "i", "remote_jwks": uri("http://x/k"),
        "local_jwks": {"inline_string": JWKS}}}}),
    );
    assert!(
        e.contains("only one of local_jwks, remote_jwks may be set"),
        "{e}"
    );
    let e = error_of(json!({"providers": {"p": {"issuer": "i"}}}));
    assert!(
        e.contains("one of local_jwks, remote_jwks, discovery, introspection is required"),
        "{e}"
    );
    let e = error_of(
        json!({"providers": {"p": {"issuer": "i", "remote_jwks": {"http_uri": {"uri": "http://x/k", "timeout": "1s"}}}}}),
    );
    assert!(
        e.starts_with("providers.p.remote_jwks.http_uri.cluster: "),
        "{e}"
    );
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
    assert!(super::compile("{")
        .unwrap_err()
        .to_string()
        .contains("not valid JSON"));
    assert!(super::compile(r#"{"rules":[],"rules":[]}"#)
        .unwrap_err()
        .to_string()
        .contains("duplicate"));
    assert!(super::compile("[]").is_err());
}

#[test]
fn inline_bytes_holds_base64_of_the_jwks() {
    let b = crate::b64::encode_std(JWKS.as_bytes());
    let c = compile(json!({"providers": {"idp": {"local_jwks": {"inline_bytes": b}}}})).unwrap();
    assert_eq!(local_keys(&c.providers[0]).len(), 1);
}

fn hardened(extra: serde_json::Value) -> Result<Policy, ConfigError> {
    compile(json!({"providers": {"idp": provider(extra)}}))
}

#[test]
fn hardening_is_off_unless_configured() {
    let c = hardened(json!({})).unwrap();
    let h = &c.providers[0].hardening;
    assert_eq!(h.allowed_algorithms, None);
    assert_eq!(h.required_typ, None);
    assert!(!h.reject_unknown_crit);
    assert!(h.required_claims.is_empty());
    assert_eq!(h.max_auth_age, None);
}

#[test]
fn hardening_fields_compile_to_typed_checks_in_either_spelling() {
    let c = hardened(json!({
        "allowedAlgorithms": ["RS256", "HS256", "RS256"],
        "required_typ": "Application/AT+JWT",
        "rejectUnknownCrit": true,
        "required_claims": ["jti", "org.id"],
        "maxAuthAge": "1.5s",
        "min_rsa_key_bits": 2048,
        "honorKeyUse": true
    }))
    .unwrap();
    let h = &c.providers[0].hardening;
    let algs = h.allowed_algorithms.unwrap();
    assert!(algs.contains(crate::jws::Alg::RS256) && algs.contains(crate::jws::Alg::HS256));
    assert!(!algs.contains(crate::jws::Alg::ES256));
    assert_eq!(h.required_typ.as_deref(), Some("at+jwt"));
    assert!(h.reject_unknown_crit);
    assert_eq!(h.required_claims, ["jti", "org.id"]);
    assert_eq!(h.max_auth_age, Some(1_500_000_000));
}

#[test]
fn allowed_algorithms_must_be_known_jose_names_and_not_empty() {
    assert_eq!(
        hardened(json!({"allowed_algorithms": []}))
            .unwrap_err()
            .to_string(),
        "providers.idp.allowed_algorithms: must not be empty (it would refuse every token)"
    );
    let e = hardened(json!({"allowed_algorithms": ["RS256", "none"]}))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(r#"providers.idp.allowed_algorithms[1]: unknown algorithm "none" (expected one of RS256, "#),
        "{e}"
    );
    let e = hardened(json!({"allowed_algorithms": ["rs256"]})).unwrap_err();
    assert_eq!(e.path, "providers.idp.allowed_algorithms[0]");
    let e = hardened(json!({"allowed_algorithms": "RS256"})).unwrap_err();
    assert_eq!(e.path, "providers.idp.allowed_algorithms");
}

#[test]
fn required_typ_must_name_a_media_type() {
    for typ in ["", "application/", "APPLICATION/"] {
        assert_eq!(
            hardened(json!({"required_typ": typ}))
                .unwrap_err()
                .to_string(),
            "providers.idp.required_typ: must name a media type such as \"at+jwt\"",
            "{typ}"
        );
    }
    let e = hardened(json!({"required_typ": 1})).unwrap_err();
    assert_eq!(e.path, "providers.idp.required_typ");
}

#[test]
fn max_auth_age_must_be_a_non_negative_duration() {
    assert_eq!(
        hardened(json!({"max_auth_age": "-1s"}))
            .unwrap_err()
            .to_string(),
        "providers.idp.max_auth_age: must not be negative"
    );
    let e = hardened(json!({"max_auth_age": 3600})).unwrap_err();
    assert_eq!(e.path, "providers.idp.max_auth_age");
    let c = hardened(json!({"max_auth_age": "0s"})).unwrap();
    assert_eq!(c.providers[0].hardening.max_auth_age, Some(0));
}

#[test]
fn required_claims_entries_must_be_dotted_paths() {
    for bad in ["", "org.", ".id", "org..id"] {
        assert_eq!(
            hardened(json!({"required_claims": ["jti", bad]}))
                .unwrap_err()
                .to_string(),
            format!(
                "providers.idp.required_claims[1]: \"{bad}\" is not a dotted claim path such as \"org.id\""
            )
        );
    }
    let e = hardened(json!({"required_claims": ["jti", 7]})).unwrap_err();
    assert_eq!(e.path, "providers.idp.required_claims[1]");
}

fn with_jwks(
    keys: Vec<serde_json::Value>,
    extra: serde_json::Value,
) -> Result<Policy, ConfigError> {
    let jwks = json!({ "keys": keys }).to_string();
    let mut p = json!({"local_jwks": {"inline_string": jwks}});
    if let (Some(p), serde_json::Value::Object(e)) = (p.as_object_mut(), extra) {
        p.extend(e);
    }
    compile(json!({"providers": {"p": p}}))
}

fn key(text: &str, members: serde_json::Value) -> serde_json::Value {
    let mut k: serde_json::Value = serde_json::from_str(text).unwrap();
    if let (Some(k), serde_json::Value::Object(m)) = (k.as_object_mut(), members) {
        k.extend(m);
    }
    k
}

#[test]
fn min_rsa_key_bits_refuses_a_smaller_rsa_key_naming_it() {
    use crate::jwks::testdata::{OCT_JWK, RSA1024_E3_JWK, RSA_JWK};
    let small = key(RSA1024_E3_JWK, json!({"kid": "k"}));
    let rsa2048 = key(RSA_JWK, json!({}));
    let oct = key(OCT_JWK, json!({}));
    assert_eq!(
        with_jwks(vec![small.clone()], json!({"min_rsa_key_bits": 2048}))
            .unwrap_err()
            .to_string(),
        r#"providers.p.local_jwks: key 0 (kid "k"): RSA key has 1024 bits, below min_rsa_key_bits 2048"#
    );
    assert_eq!(
        with_jwks(
            vec![oct.clone(), rsa2048.clone(), small.clone()],
            json!({"minRsaKeyBits": "2048"})
        )
        .unwrap_err()
        .to_string(),
        r#"providers.p.local_jwks: key 2 (kid "k"): RSA key has 1024 bits, below min_rsa_key_bits 2048"#
    );
    let c = with_jwks(vec![oct, rsa2048], json!({"min_rsa_key_bits": 2048})).unwrap();
    assert_eq!(local_keys(&c.providers[0]).len(), 2);
    assert!(with_jwks(vec![small], json!({})).is_ok());
    let e = with_jwks(
        vec![key(RSA_JWK, json!({}))],
        json!({"min_rsa_key_bits": 16385}),
    )
    .unwrap_err();
    assert_eq!(e.path, "providers.p.min_rsa_key_bits");
}

#[test]
fn min_rsa_key_bits_names_pem_keys_by_block() {
    let pem = crate::jwks::testdata::RSA_PEM;
    let e = compile(json!({"providers": {"p": {
        "local_jwks": {"inline_string": pem}, "min_rsa_key_bits": 4096}}}))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "providers.p.local_jwks: PEM block 0: RSA key has 2048 bits, below min_rsa_key_bits 4096"
    );
}

#[test]
fn honor_key_use_drops_keys_not_declared_for_verification() {
    use crate::jwks::testdata::{EC256_JWK, OCT_JWK, RSA_JWK};
    let keys = vec![
        key(RSA_JWK, json!({"use": "enc"})),
        key(EC256_JWK, json!({"key_ops": ["encrypt"]})),
        key(
            OCT_JWK,
            json!({"use": "sig", "key_ops": ["sign", "verify"]}),
        ),
        key(EC256_JWK, json!({"kid": "plain"})),
    ];
    let all = with_jwks(keys.clone(), json!({})).unwrap();
    assert_eq!(local_keys(&all.providers[0]).len(), 4);
    let c = with_jwks(keys, json!({"honor_key_use": true})).unwrap();
    let kids: Vec<_> = local_keys(&c.providers[0])
        .keys()
        .iter()
        .map(|k| k.kid())
        .collect();
    assert_eq!(kids, [Some("hmac"), Some("plain")]);
}

#[test]
fn honor_key_use_with_no_signing_key_left_is_a_config_error() {
    use crate::jwks::testdata::{RSA1024_E3_JWK, RSA_JWK};
    let keys = vec![
        key(RSA_JWK, json!({"use": "enc"})),
        key(RSA_JWK, json!({"key_ops": "verify"})),
    ];
    assert_eq!(
        with_jwks(keys, json!({"honor_key_use": true})).unwrap_err().to_string(),
        "providers.p.local_jwks: no key is left under honor_key_use: every key has \"use\" other than \"sig\" or \"key_ops\" without \"verify\""
    );
    // A dropped key is not held to min_rsa_key_bits.
    let keys = vec![
        key(RSA1024_E3_JWK, json!({"use": "enc"})),
        key(RSA_JWK, json!({})),
    ];
    let c = with_jwks(
        keys,
        json!({"honor_key_use": true, "min_rsa_key_bits": 2048}),
    )
    .unwrap();
    assert_eq!(local_keys(&c.providers[0]).len(), 1);
}

#[test]
fn token_cache_is_on_by_default_and_can_be_sized_or_switched_off() {
    let base = json!({"providers": {"idp": provider(json!({}))}});
    assert_eq!(compile(base).unwrap().token_cache_entries, 1000);
    let c = compile(
        json!({"providers": {"idp": provider(json!({}))}, "token_cache": {"max_entries": 0}}),
    );
    assert_eq!(c.unwrap().token_cache_entries, 0);
    let e = error_of(json!({"token_cache": {"size": 5}}));
    assert_eq!(e, "token_cache.size: unknown field");
}

#[test]
fn weak_local_keys_load_with_a_warning_naming_each_key() {
    let rsa1024 = crate::jwks::testdata::RSA1024_E3_JWK.replacen('{', r#"{"kid": "small", "#, 1);
    let secret32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"; // 32 bytes
    let keys = format!(
        r#"{{"keys":[{rsa1024},
            {{"kty":"oct","kid":"ok","alg":"HS256","k":"{secret32}"}},
            {{"kty":"oct","kid":"h512","alg":"HS512","k":"{secret32}"}},
            {{"kty":"oct","k":"c2hvcnQ"}}]}}"#
    );
    let c = compiled(
        json!({"providers": {"p": provider(json!({"local_jwks": {"inline_string": keys}}))}}),
    )
    .unwrap();
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            r#"providers.p.local_jwks: key 0 (kid "small"): RSA key has 1024 bits, below the recommended 2048 (min_rsa_key_bits refuses such keys)"#,
            r#"providers.p.local_jwks: key 2 (kid "h512"): HMAC secret has 32 bytes, shorter than the 64 HS512 needs (RFC 7518 section 3.2)"#,
            "providers.p.local_jwks: key 3: HMAC secret has 5 bytes, shorter than the 32 HS256 needs (RFC 7518 section 3.2)",
        ]
    );
    let strong = format!(r#"{{"keys":[{{"kty":"oct","k":"{secret32}"}}]}}"#);
    let c = compiled(
        json!({"providers": {"p": provider(json!({"local_jwks": {"inline_string": strong}}))}}),
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}
