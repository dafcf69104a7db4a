use crate::config;
use crate::dpop::settings::{Mode, Origin, Settings};
use crate::fixtures;
use crate::jws::Alg;
use serde_json::{json, Value};

const NONCE_SECRET: &str = "a-nonce-secret-of-at-least-32-chars";

fn config(dpop: Value) -> Value {
    json!({
        "providers": {"p": {
            "issuer": "https://issuer.test",
            "local_jwks": {"inline_string": fixtures::jwks(None)},
            "dpop": dpop,
        }},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    })
}

fn settings(dpop: Value) -> Option<Settings> {
    let p = fixtures::policy(config(dpop));
    p.providers[0].dpop.as_deref().cloned()
}

fn error_of(dpop: Value) -> String {
    match config::compile(&config(dpop).to_string()) {
        Ok(_) => panic!("compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_every_asymmetric_algorithm_five_minutes_and_a_large_store() {
    let s = settings(json!({"mode": "required"})).expect("dpop");
    assert_eq!(s.mode, Mode::Required);
    assert_eq!(s.algorithms.len(), 10);
    assert!(!s.algorithms.iter().any(|a| a.name().starts_with("HS")));
    assert_eq!((s.max_age_s, s.future_skew_s), (300, 5));
    assert_eq!(s.replay_slots, 50_000);
    assert!(s.shared_prefix.starts_with("jwt_guard/dpop/"));
    assert!(s.nonces.is_none() && s.origin.is_none());
}

#[test]
fn every_field_reads_in_either_case() {
    let s = settings(json!({
        "mode": "allowed", "allowedAlgorithms": ["EdDSA", "ES256"],
        "maxAge": "60s", "futureSkew": "2s", "replayCache": {"maxEntries": 1000},
        "nonce": {"secret": NONCE_SECRET, "lifetime": "30s"},
        "authority": "HTTPS://api.example.com:8443"
    }))
    .expect("dpop");
    assert_eq!(s.mode, Mode::Allowed);
    assert_eq!(s.algorithms, vec![Alg::EdDSA, Alg::ES256]);
    assert_eq!((s.max_age_s, s.future_skew_s, s.replay_slots), (60, 2, 500));
    assert!(s.nonces.is_some());
    assert_eq!(
        s.origin,
        Some(Origin {
            scheme: Some("https".into()),
            authority: "api.example.com:8443".into()
        })
    );
    let bare = settings(json!({"mode": "required", "authority": "api.example.com"}));
    assert_eq!(bare.and_then(|s| s.origin).and_then(|o| o.scheme), None);
}

#[test]
fn off_compiles_to_nothing_and_adds_no_location() {
    assert!(settings(json!({"mode": "off"})).is_none());
    let p = fixtures::policy(config(json!({"mode": "off"})));
    assert!(!p.providers[0].locations.dpop);
    let p = fixtures::policy(config(json!({"mode": "allowed"})));
    assert!(p.providers[0].locations.dpop);
}

#[test]
fn mistakes_are_refused_at_their_path() {
    for (dpop, path, words) in [
        (json!({}), "providers.p.dpop.mode", "is required"),
        (
            json!({"mode": "sometimes"}),
            "providers.p.dpop.mode",
            "not one of",
        ),
        (
            json!({"mode": "required", "allowed_algorithms": []}),
            "providers.p.dpop.allowed_algorithms",
            "must not be empty",
        ),
        (
            json!({"mode": "required", "allowed_algorithms": ["ES256", "HS256"]}),
            "providers.p.dpop.allowed_algorithms[1]",
            "symmetric",
        ),
        (
            json!({"mode": "required", "allowed_algorithms": ["none"]}),
            "providers.p.dpop.allowed_algorithms[0]",
            "unknown algorithm",
        ),
        (
            json!({"mode": "required", "max_age": "0.5s"}),
            "providers.p.dpop.max_age",
            "at least 1s",
        ),
        (
            json!({"mode": "required", "future_skew": "-1s"}),
            "providers.p.dpop.future_skew",
            "negative",
        ),
        (
            json!({"mode": "required", "replay_cache": {"max_entries": 10}}),
            "providers.p.dpop.replay_cache.max_entries",
            "at least 64",
        ),
        (
            json!({"mode": "required", "replay_cache": {"size": 10}}),
            "providers.p.dpop.replay_cache.size",
            "",
        ),
        (
            json!({"mode": "required", "nonce": {}}),
            "providers.p.dpop.nonce.secret",
            "at least 32",
        ),
        (
            json!({"mode": "required", "nonce": {"secret": "short"}}),
            "providers.p.dpop.nonce.secret",
            "at least 32",
        ),
        (
            json!({"mode": "required", "nonce": {"secret": NONCE_SECRET, "lifetime": "0s"}}),
            "providers.p.dpop.nonce.lifetime",
            "at least 1s",
        ),
        (
            json!({"mode": "required", "authority": "https://api.example.com/base"}),
            "providers.p.dpop.authority",
            "without a path",
        ),
        (
            json!({"mode": "required", "authority": "ftp://api.example.com"}),
            "providers.p.dpop.authority",
            "not http or https",
        ),
        (
            json!({"mode": "required", "authority": "user@api.example.com"}),
            "providers.p.dpop.authority",
            "",
        ),
        (
            json!({"mode": "required", "authority": "https://"}),
            "providers.p.dpop.authority",
            "no host",
        ),
        (
            json!({"mode": "required", "forward_proof": true}),
            "providers.p.dpop.forward_proof",
            "",
        ),
        (json!("required"), "providers.p.dpop", ""),
    ] {
        let e = error_of(dpop.clone());
        assert!(e.starts_with(path), "{dpop}: {e}");
        assert!(e.contains(words), "{dpop}: {e}");
    }
}

#[test]
fn the_nonce_secret_never_appears_in_an_error() {
    let e = error_of(json!({"mode": "required", "nonce": {"secret": "tiny-secret-value"}}));
    assert!(!e.contains("tiny-secret-value"), "{e}");
    let e =
        error_of(json!({"mode": "required", "nonce": {"secret": NONCE_SECRET, "lifetime": "x"}}));
    assert!(!e.contains(NONCE_SECRET), "{e}");
    let s = settings(json!({"mode": "required", "nonce": {"secret": NONCE_SECRET}}));
    assert!(!format!("{s:?}").contains(NONCE_SECRET));
}

#[test]
fn providers_keep_their_replay_slots_apart() {
    let two = json!({
        "providers": {
            "a": {"local_jwks": {"inline_string": fixtures::jwks(None)}, "dpop": {"mode": "required"}},
            "b": {"local_jwks": {"inline_string": fixtures::jwks(None)}, "dpop": {"mode": "required"}}
        },
        "rules": []
    });
    let p = fixtures::policy(two);
    let prefix = |i: usize| {
        p.providers[i]
            .dpop
            .as_ref()
            .map(|d| d.shared_prefix.clone())
    };
    assert_ne!(prefix(0), prefix(1));
}
