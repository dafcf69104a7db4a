//! What the fuzz targets share: one configuration that reaches every part of
//! the request path (all token locations, every algorithm, claim headers,
//! payload forwarding, hardening, every `authorize` condition kind), built
//! once, and a fixed clock.

use jwt_guard::authn::LocalKeysOnly;
use jwt_guard::request::Headers;
use jwt_guard::rules::{self, Decision, Policy};
use serde_json::json;
use std::sync::OnceLock;

/// The keys the seed tokens are signed with (fuzz/make_seeds.py).
pub const KEYS: &str = include_str!("../fuzz_targets/keys.json");
/// The seed tokens' HS256 secret.
pub const SECRET: &[u8] = b"fuzz-secret-of-at-least-32-bytes!!";
/// Seed tokens are valid at this time.
pub const NOW: u64 = 1_700_000_000;

pub fn config() -> &'static Policy {
    static CONFIG: OnceLock<Policy> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let every_condition = json!({"all": [
            {"scopes": {"any_of": ["orders:read", "x"]}},
            {"any": [{"claim": "groups", "contains_any": ["dev"]}, {"claim": "vip", "equals": true}]},
            {"not": {"claim": ["https://example.com/roles"], "contains_all": ["z"]}},
            {"claim": "org.tier", "one_of": ["gold", "silver"]},
            {"claim": "sub", "matches": "[a-z]+"},
            {"claim": "acr", "present": false},
            {"claim": "iat", "gte": 0, "lt": 1e12},
            {"claim": "groups", "none_of": ["guests"]},
            {"claim_difference": ["exp", "iat"], "lte": 86400}
        ]});
        let provider = |issuer: &str| json!({
            "issuer": issuer,
            "audiences": ["api"],
            "local_jwks": {"inline_string": KEYS},
            "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}, {"name": "x-jwt"}],
            "from_params": ["access_token"],
            "from_cookies": ["jwt"],
            "forward_payload_header": "x-payload",
            "claim_to_headers": [
                {"header_name": "x-sub", "claim_name": "sub"},
                {"header_name": "x-groups", "claim_name": "groups"},
                {"header_name": "x-tier", "claim_name": "org.tier"}
            ]
        });
        let mut hardened = provider("https://hardened.example");
        if let Some(h) = hardened.as_object_mut() {
            h.insert("allowed_algorithms".into(), json!(["RS256", "ES256", "EdDSA"]));
            h.insert("required_typ".into(), json!("at+jwt"));
            h.insert("required_claims".into(), json!(["sub", "org.tier"]));
            h.insert("max_auth_age".into(), json!("3600s"));
            h.insert("reject_unknown_crit".into(), json!(true));
            h.insert("honor_key_use".into(), json!(true));
        }
        let mut dpop = provider("https://dpop.example");
        if let Some(d) = dpop.as_object_mut() {
            d.insert("dpop".into(), json!({"mode": "allowed",
                "nonce": {"secret": "fuzz-nonce-secret-of-32-characters", "lifetime": "60s"}}));
        }
        let text = json!({
            "providers": {"p": provider("https://issuer.example"), "h": hardened, "d": dpop},
            "rules": [
                {"match": {"prefix": "/api"}, "requires": {"provider_name": "p"},
                 "authorize": every_condition},
                {"match": {"prefix": "/h"}, "requires": {"provider_name": "h"}},
                {"match": {"prefix": "/dpop"}, "requires": {"provider_name": "d"}},
                {"match": {"prefix": "/any"}, "requires": {"requires_any": {"requirements": [
                    {"provider_name": "h"}, {"allow_missing_or_failed": {}}]}}},
                {"match": {"prefix": "/"}, "requires": {"requires_all": {"requirements": [
                    {"provider_name": "p"}, {"allow_missing": {}}]}}}
            ]
        })
        .to_string();
        match jwt_guard::config::compile(&text) {
            Ok(c) => c.policy,
            // The fixture itself is wrong: no point fuzzing anything.
            Err(e) => panic!("fuzz fixture config: {e}"),
        }
    })
}

/// Runs one request through the whole decision; returns whether it passed.
pub fn decide(entries: Vec<(String, String)>) -> bool {
    let mut headers = Headers::new(entries);
    matches!(
        rules::evaluate(config(), &mut headers, NOW, &LocalKeysOnly),
        Decision::Allow
    )
}

/// An HS256 token of the DPoP provider, bound (`cnf.jkt`) to `jkt`.
pub fn bound_token(jkt: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let b64url = |b: &[u8]| {
        jwt_guard::b64::encode_std(b)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    };
    let claims = json!({"iss": "https://dpop.example", "aud": "api", "exp": NOW + 600,
                        "cnf": {"jkt": jkt}});
    let input = format!(
        "{}.{}",
        b64url(br#"{"alg":"HS256","kid":"hs"}"#),
        b64url(claims.to_string().as_bytes())
    );
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET) else {
        return String::new();
    };
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
}
