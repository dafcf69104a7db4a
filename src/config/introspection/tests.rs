use crate::config;
use crate::fixtures;
use crate::introspection::settings::{ClientAuth, Endpoint, FailureMode, JwtTokens};
use serde_json::{json, Value};

const SECRET: &str = "very-secret-value";

fn intro(extra: Value) -> Value {
    fixtures::merged(
        json!({
            "http_uri": {"uri": "https://as.test/introspect", "cluster": "as"},
            "client_id": "gw",
            "client_secret": SECRET,
        }),
        extra,
    )
}

fn config(provider: Value) -> Value {
    json!({
        "providers": {"p": provider},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    })
}

fn error_of(provider: Value) -> String {
    match config::compile(&config(provider).to_string()) {
        Ok(_) => panic!("compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_basic_auth_access_token_hint_deny_and_verify_locally() {
    let p = fixtures::policy(config(json!({"introspection": intro(json!({}))})));
    let s = p.providers[0]
        .introspection
        .as_deref()
        .expect("introspection");
    assert_eq!(s.client.method_name(), "client_secret_basic");
    assert_eq!(s.token_type_hint.as_deref(), Some("access_token"));
    assert_eq!(
        (s.max_entries, s.max_ttl_ms, s.negative_ttl_ms, s.timeout_ms),
        (10_000, 300_000, 10_000, 1_000)
    );
    assert_eq!(s.failure_mode, FailureMode::Deny);
    assert_eq!(s.jwt_tokens, JwtTokens::VerifyLocally);
    assert!(s.shared_prefix.starts_with("jwt_guard/introspect/"));
}

#[test]
fn settings_read_in_camel_case_too() {
    let p = fixtures::policy(config(json!({"introspection": intro(json!({
        "authMethod": "client_secret_post", "tokenTypeHint": "",
        "cache": {"maxEntries": 5, "maxTtl": "2s", "negativeTtl": "0s"},
        "failureMode": "serve_stale", "jwtTokens": "introspect"
    }))})));
    let s = p.providers[0]
        .introspection
        .as_deref()
        .expect("introspection");
    assert!(matches!(s.client, ClientAuth::Post { .. }));
    assert_eq!(s.token_type_hint, None);
    assert_eq!(
        (s.max_entries, s.max_ttl_ms, s.negative_ttl_ms),
        (5, 2_000, 0)
    );
    assert_eq!(s.failure_mode, FailureMode::ServeStale);
    assert_eq!(s.jwt_tokens, JwtTokens::Introspect);
}

#[test]
fn bad_settings_are_refused_at_their_json_path() {
    let at = "providers.p.introspection";
    for (extra, path) in [
        (json!({"auth_method": "tls"}), format!("{at}.auth_method")),
        (json!({"client_secret": ""}), format!("{at}.client_secret")),
        (json!({"client_id": null}), format!("{at}.client_id")),
        (json!({"auth_method": "bearer"}), format!("{at}.client_id")),
        (json!({"bearer_token": "x"}), format!("{at}.bearer_token")),
        (
            json!({"failure_mode": "allow"}),
            format!("{at}.failure_mode"),
        ),
        (json!({"jwt_tokens": "both"}), format!("{at}.jwt_tokens")),
        (
            json!({"cache": {"max_ttl": "-1s"}}),
            format!("{at}.cache.max_ttl"),
        ),
        (json!({"cache": {"size": 1}}), format!("{at}.cache.size")),
        (
            json!({"cache": {"max_entries": 2_000_000}}),
            format!("{at}.cache.max_entries"),
        ),
        (
            json!({"http_uri": {"uri": "https://as.test/i", "cluster": "as", "timeout": "0s"}}),
            format!("{at}.http_uri.timeout"),
        ),
        (
            json!({"http_uri": null}),
            format!("{at}: missing required field \"http_uri\""),
        ),
        (json!({"extra": 1}), format!("{at}.extra")),
    ] {
        let e = error_of(json!({"introspection": intro(extra.clone())}));
        assert!(e.starts_with(&path), "{extra}: {e}");
        assert!(!e.contains(SECRET), "{e}");
    }
    let bearer = json!({"http_uri": {"uri": "https://as.test/i", "cluster": "as"},
                        "auth_method": "bearer"});
    let e = error_of(json!({"introspection": bearer}));
    assert!(e.starts_with(&format!("{at}.bearer_token")), "{e}");
}

#[test]
fn introspecting_every_token_leaves_no_use_for_keys() {
    let jwks = json!({"inline_string": r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#});
    let e = error_of(json!({
        "local_jwks": jwks.clone(),
        "introspection": intro(json!({"jwt_tokens": "introspect"}))
    }));
    assert!(e.starts_with("providers.p.introspection.jwt_tokens"), "{e}");
    // With verify_locally, keys verify the JWT-shaped tokens.
    let p = fixtures::policy(config(
        json!({"local_jwks": jwks, "introspection": intro(json!({}))}),
    ));
    assert!(p.providers[0].introspection.is_some());
}

#[test]
fn discovery_supplies_the_endpoint_when_http_uri_is_not_given() {
    let discovery = json!({"http_uri": {
        "uri": "https://as.test/.well-known/oauth-authorization-server",
        "cluster": "as", "timeout": "3s"}});
    let mut no_uri = intro(json!({"jwt_tokens": "introspect"}));
    if let Some(o) = no_uri.as_object_mut() {
        o.remove("http_uri");
    }
    let p = fixtures::policy(config(json!({
        "issuer": "https://as.test", "discovery": discovery.clone(), "introspection": no_uri.clone()
    })));
    let s = p.providers[0]
        .introspection
        .as_deref()
        .expect("introspection");
    let Endpoint::Discovered { document, issuer } = &s.endpoint else {
        panic!("{:?}", s.endpoint)
    };
    assert_eq!(
        (
            document.path.as_str(),
            issuer.as_str(),
            s.cluster.as_str(),
            s.timeout_ms
        ),
        (
            "/.well-known/oauth-authorization-server",
            "https://as.test",
            "as",
            3_000
        )
    );
    // With http_uri, discovery is for the keys only.
    let p = fixtures::policy(config(json!({
        "issuer": "https://as.test", "discovery": discovery, "introspection": intro(json!({}))
    })));
    let s = p.providers[0]
        .introspection
        .as_deref()
        .expect("introspection");
    assert!(matches!(s.endpoint, Endpoint::Fixed(_)));
    // Neither: refused.
    let e = error_of(json!({"introspection": no_uri}));
    assert!(
        e.starts_with("providers.p.introspection: missing required field \"http_uri\""),
        "{e}"
    );
}

#[test]
fn the_secret_is_not_in_debug_output_and_scopes_differ_per_client() {
    let a = fixtures::policy(config(json!({"introspection": intro(json!({}))})));
    let b = fixtures::policy(config(
        json!({"introspection": intro(json!({"client_secret": "other"}))}),
    ));
    let (sa, sb) = (
        a.providers[0].introspection.as_deref().expect("a"),
        b.providers[0].introspection.as_deref().expect("b"),
    );
    let dump = format!("{sa:?}");
    assert!(!dump.contains(SECRET) && !dump.contains("Basic"), "{dump}");
    assert_ne!(sa.scope, sb.scope);
    assert_ne!(sa.shared_prefix, sb.shared_prefix);
}

#[test]
fn a_tokens_key_is_the_sha256_of_scope_and_token_however_computed() {
    let p = fixtures::policy(config(json!({"introspection": intro(json!({}))})));
    let s = p.providers[0]
        .introspection
        .as_deref()
        .expect("introspection");
    for token in ["", "t", &"x".repeat(200)] {
        assert_eq!(
            s.key(token),
            crate::introspection::cache_key(&s.scope, token)
        );
    }
    assert_ne!(s.key("a"), s.key("b"));
}
