//! Whole decisions, config JSON in, headers out, with HS256 tokens signed
//! here: the requirement tree, forwarding and claim headers together.

use super::{Decision, Denial, Policy};
use crate::error::Status;
use crate::fixtures::{self, merged, NOW};
use crate::request::Headers;
use serde_json::{json, Value};

/// The decision as an authentication status (these tests set no `authorize`).
fn evaluate(c: &Policy, h: &mut Headers, now: u64) -> Result<(), Status> {
    match super::evaluate(c, h, now, &crate::authn::LocalKeysOnly) {
        Decision::Allow => Ok(()),
        Decision::Deny(Denial::Authn(s)) => Err(s),
        other => panic!("not an authentication decision: {other:?}"),
    }
}

/// An HS256 token (kid "k", the fixture secret) with the payload `claims`.
fn token(claims: Value) -> String {
    fixtures::hs256(json!({"kid": "k"}), claims)
}

/// A provider of `issuer` with the fixture key (kid "k"), plus `extra`.
fn provider(issuer: &str, extra: Value) -> Value {
    let jwks = fixtures::jwks(Some("k"));
    merged(
        json!({"issuer": issuer, "local_jwks": {"inline_string": jwks}}),
        extra,
    )
}

/// `/open` requires nothing; everything else `requires`.
fn config(providers: Value, requires: Value) -> Policy {
    fixtures::policy(json!({"providers": providers, "rules": [
        {"match": {"prefix": "/open"}},
        {"match": {"prefix": "/"}, "requires": requires}
    ]}))
}

fn request(path: &str, headers: &[(&str, &str)]) -> Headers {
    fixtures::headers(&[&[(":path", path)], headers].concat())
}

/// Changes a signature character away from the end, where base64's unused
/// low bits could leave the decoded signature unchanged.
fn tamper_signature(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() - 10;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn good(iss: &str) -> String {
    token(json!({"iss": iss, "sub": "alice", "exp": NOW + 600, "org": {"id": 7}}))
}

#[test]
fn valid_token_passes_and_is_stripped_with_claims_forwarded() {
    let c = config(
        json!({"a": provider("A", json!({"claim_to_headers": [{"header_name": "x-org", "claim_name": "org.id"}]}))}),
        json!({"provider_name": "a"}),
    );
    let bearer = format!("Bearer {}", good("A"));
    let mut h = request("/x", &[("authorization", &bearer), ("x-org", "spoofed")]);
    assert_eq!(evaluate(&c, &mut h, NOW), Ok(()));
    assert_eq!(h.get("authorization"), None);
    assert_eq!(h.get_joined("x-org").as_deref(), Some("7"));
}

#[test]
fn unmatched_or_open_rule_requires_nothing() {
    let c = config(
        json!({"a": provider("A", json!({}))}),
        json!({"provider_name": "a"}),
    );
    assert_eq!(evaluate(&c, &mut request("/open/x", &[]), NOW), Ok(()));
    assert_eq!(
        evaluate(&c, &mut request("/x", &[]), NOW),
        Err(Status::JwtMissed)
    );
}

#[test]
fn expired_wrong_issuer_and_bad_signature_fail_with_their_own_status() {
    let c = config(
        json!({"a": provider("A", json!({}))}),
        json!({"provider_name": "a"}),
    );
    let expired = token(json!({"iss": "A", "exp": NOW - 61}));
    let h = format!("Bearer {expired}");
    assert_eq!(
        evaluate(&c, &mut request("/", &[("authorization", &h)]), NOW),
        Err(Status::JwtExpired)
    );
    let h = format!("Bearer {}", good("B"));
    assert_eq!(
        evaluate(&c, &mut request("/", &[("authorization", &h)]), NOW),
        Err(Status::JwtUnknownIssuer)
    );
    let h = format!("Bearer {}", tamper_signature(&good("A")));
    assert_eq!(
        evaluate(&c, &mut request("/", &[("authorization", &h)]), NOW),
        Err(Status::JwtVerificationFail)
    );
}

#[test]
fn every_token_found_must_verify() {
    let c = config(
        json!({"a": provider("A", json!({}))}),
        json!({"provider_name": "a"}),
    );
    let h = format!("Bearer {}", good("A"));
    let expired = token(json!({"iss": "A", "exp": NOW - 61}));
    let path = format!("/?access_token={expired}");
    assert_eq!(
        evaluate(&c, &mut request(&path, &[("authorization", &h)]), NOW),
        Err(Status::JwtExpired)
    );
}

#[test]
fn requires_any_passes_on_one_and_requires_all_needs_both() {
    let providers = json!({
        "a": provider("A", json!({"from_headers": [{"name": "x-a"}]})),
        "b": provider("B", json!({"from_headers": [{"name": "x-b"}]}))
    });
    let any = config(
        providers.clone(),
        json!({"requires_any": {"requirements": [{"provider_name": "a"}, {"provider_name": "b"}]}}),
    );
    let all = config(
        providers,
        json!({"requires_all": {"requirements": [{"provider_name": "a"}, {"provider_name": "b"}]}}),
    );
    let (ta, tb) = (good("A"), good("B"));
    assert_eq!(
        evaluate(&any, &mut request("/", &[("x-b", &tb)]), NOW),
        Ok(())
    );
    assert_eq!(
        evaluate(&all, &mut request("/", &[("x-b", &tb)]), NOW),
        Err(Status::JwtMissed)
    );
    assert_eq!(
        evaluate(&all, &mut request("/", &[("x-a", &ta), ("x-b", &tb)]), NOW),
        Ok(())
    );
}

#[test]
fn allow_missing_passes_without_token_but_not_with_a_bad_one() {
    let c = config(
        json!({"a": provider("A", json!({}))}),
        json!({"allow_missing": {}}),
    );
    assert_eq!(evaluate(&c, &mut request("/", &[]), NOW), Ok(()));
    let expired = format!("Bearer {}", token(json!({"iss": "A", "exp": NOW - 61})));
    assert_eq!(
        evaluate(&c, &mut request("/", &[("authorization", &expired)]), NOW),
        Err(Status::JwtExpired)
    );
    let c = config(
        json!({"a": provider("A", json!({}))}),
        json!({"allow_missing_or_failed": {}}),
    );
    let mut h = request("/", &[("authorization", &expired)]);
    assert_eq!(evaluate(&c, &mut h, NOW), Ok(()));
    // A failed token is left where it was.
    assert_eq!(h.get("authorization"), Some(expired.as_str()));
}

#[test]
fn audiences_mismatch_is_the_forbidden_outcome() {
    let c = config(
        json!({"a": provider("A", json!({"audiences": ["api"]}))}),
        json!({"provider_name": "a"}),
    );
    let t = format!("Bearer {}", token(json!({"iss": "A", "aud": "other"})));
    assert_eq!(
        evaluate(&c, &mut request("/", &[("authorization", &t)]), NOW),
        Err(Status::JwtAudienceNotAllowed)
    );
}

#[test]
fn cors_preflight_bypasses_only_when_configured_and_complete() {
    let mut c = config(
        json!({"a": provider("A", json!({}))}),
        json!({"provider_name": "a"}),
    );
    let pre = [
        (":method", "OPTIONS"),
        ("origin", "https://app"),
        ("access-control-request-method", "GET"),
    ];
    assert_eq!(
        evaluate(&c, &mut request("/", &pre), NOW),
        Err(Status::JwtMissed)
    );
    c.bypass_cors_preflight = true;
    assert_eq!(evaluate(&c, &mut request("/", &pre), NOW), Ok(()));
    assert_eq!(
        evaluate(&c, &mut request("/", &pre[..2]), NOW),
        Err(Status::JwtMissed)
    );
}

/// A small deterministic generator, so the garbage below is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_tokens_and_headers_never_panic_and_never_pass_with_a_changed_payload() {
    let c = config(
        json!({"a": provider("A", json!({"claim_to_headers": [{"header_name": "x-o", "claim_name": "org"}],
            "forward_payload_header": "x-p", "from_params": ["t"], "from_cookies": ["c"],
            "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}]}))}),
        json!({"requires_any": {"requirements": [{"provider_name": "a"}, {"allow_missing": {}}]}}),
    );
    let original = good("A");
    let (signed, _) = original.rsplit_once('.').unwrap();
    let alphabet = b"AZaz09-_.=+/ \t,;\"%\x7f!";
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let mut bytes = original.clone().into_bytes();
        for _ in 0..=(rng.next() % 3) {
            let i = (rng.next() as usize) % bytes.len();
            bytes[i] = alphabet[(rng.next() as usize) % alphabet.len()];
        }
        let token = String::from_utf8(bytes).unwrap();
        let bearer = format!("Bearer {token}");
        let path = format!("/?t={token}");
        let cookie = format!("c={token}");
        for h in [
            request("/", &[("authorization", &bearer)]),
            request(&path, &[]),
            request("/", &[("cookie", &cookie)]),
        ] {
            let mut h = h;
            if evaluate(&c, &mut h, NOW).is_ok() && h.get("x-p").is_some() {
                // Only the signature segment may differ (Envoy's lenient
                // base64 ignores padding bits and whitespace there).
                let (mutated_signed, _) = token.trim_start_matches('.').rsplit_once('.').unwrap();
                assert_eq!(mutated_signed, signed, "{token}");
            }
        }
    }
}

/// A runtime with only a verified-token cache, counting hits.
struct Caching {
    cache: std::cell::RefCell<crate::cache::TokenCache>,
    hits: std::cell::Cell<usize>,
}

impl crate::authn::Runtime for Caching {
    fn remote_keys(&self, _provider: usize, _now_ms: u64) -> crate::authn::Availability {
        crate::authn::Availability::Unavailable
    }
    fn unknown_kid(&self, _provider: usize, _now_ms: u64) -> bool {
        false
    }
    fn cached(&self, token: &str) -> Option<crate::cache::Hit> {
        let hit = self.cache.borrow().get(token);
        self.hits.set(self.hits.get() + usize::from(hit.is_some()));
        hit
    }
    fn remember(&self, token: &str, hit: crate::cache::Hit) {
        self.cache.borrow_mut().insert(token, hit);
    }
}

#[test]
fn cached_verdicts_skip_only_the_signature_and_time_is_checked_on_every_hit() {
    let c = config(
        json!({"a": provider("A", json!({"claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}]}))}),
        json!({"provider_name": "a"}),
    );
    let rt = Caching {
        cache: std::cell::RefCell::new(crate::cache::TokenCache::new(10)),
        hits: std::cell::Cell::new(0),
    };
    let bearer = format!("Bearer {}", good("A"));
    let run = |now: u64| {
        let mut h = request("/", &[("authorization", &bearer), ("x-sub", "spoof")]);
        let r = match super::evaluate(&c, &mut h, now, &rt) {
            Decision::Allow => Ok(()),
            Decision::Deny(Denial::Authn(s)) => Err(s),
            other => panic!("no authorize here: {other:?}"),
        };
        (r, h.get_joined("x-sub"))
    };
    assert_eq!(run(NOW), (Ok(()), Some("alice".to_owned())));
    assert_eq!(rt.hits.get(), 0);
    // A hit still strips the spoofed header and adds the claim header.
    assert_eq!(run(NOW + 1), (Ok(()), Some("alice".to_owned())));
    assert_eq!(rt.hits.get(), 1);
    // Expired since: refused although the signature verdict is cached.
    assert_eq!(run(NOW + 600 + 61).0, Err(Status::JwtExpired));
    // A different token (a changed signature character) is not a hit.
    let forged = format!("Bearer {}", tamper_signature(&good("A")));
    let mut h = request("/", &[("authorization", &forged)]);
    assert!(matches!(
        super::evaluate(&c, &mut h, NOW, &rt),
        Decision::Deny(Denial::Authn(Status::JwtVerificationFail))
    ));
}
