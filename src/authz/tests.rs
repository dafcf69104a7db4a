//! Conditions compiled from JSON and evaluated against claims, and config
//! errors for `authorize`. That evaluation allocates nothing is checked in
//! its own test binary (`tests/allocations.rs`), whose counting allocator
//! then wraps only that test.

use super::*;
use crate::fixtures;
use crate::rules::Policy;
use serde_json::json;

mod principal;

const JWKS: &str =
    r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw"}]}"#;

fn providers() -> serde_json::Value {
    json!({
        "a": {"issuer": "A", "local_jwks": {"inline_string": JWKS}},
        "b": {"issuer": "B", "local_jwks": {"inline_string": JWKS}}
    })
}

fn compile(authorize: serde_json::Value) -> Result<Policy, String> {
    fixtures::compile(&json!({"providers": providers(), "rules": [
        {"match": {"prefix": "/"}, "requires": {"provider_name": "a"}, "authorize": authorize}
    ]}))
    .map(|c| c.policy)
    .map_err(|e| e.to_string())
}

fn condition(authorize: serde_json::Value) -> Authorize {
    let c = compile(authorize).unwrap();
    c.rules[0].authorize.clone().unwrap()
}

/// A request with nothing to match: these conditions read only claims.
fn no_request() -> Headers {
    Headers::new(Vec::new())
}

fn claims(v: serde_json::Value) -> Object {
    match v {
        Value::Object(o) => o,
        _ => panic!("claims must be an object"),
    }
}

fn holds(authorize: serde_json::Value, token: serde_json::Value) -> Result<(), String> {
    let a = condition(authorize);
    let claims = claims(token);
    a.condition
        .check(&claims, &no_request())
        .map_err(|f| f.describe())
}

#[test]
fn scopes_come_from_scope_string_and_scp_list_or_string() {
    let all = json!({"scopes": {"all_of": ["orders:read", "orders:write"]}});
    assert!(holds(
        all.clone(),
        json!({"scope": "orders:write openid orders:read"})
    )
    .is_ok());
    assert!(holds(all.clone(), json!({"scp": ["orders:read", "orders:write"]})).is_ok());
    assert!(holds(
        all.clone(),
        json!({"scope": "orders:read", "scp": "orders:write"})
    )
    .is_ok());
    assert_eq!(
        holds(all, json!({"scope": "orders:read"})).unwrap_err(),
        "token lacks required scope (needs all of: orders:read orders:write)"
    );
    let any = json!({"scopes": {"any_of": ["a", "b"]}});
    assert!(holds(any.clone(), json!({"scp": "x b"})).is_ok());
    assert_eq!(
        holds(any, json!({})).unwrap_err(),
        "token lacks required scope (needs one of: a b)"
    );
}

#[test]
fn presence_equality_and_lists() {
    let t = json!({"org": {"tier": "gold", "seats": 5}, "admin": true, "groups": ["dev", "ops"],
                   "https://example.com/roles": ["buyer"], "gone": null});
    for (cond, ok) in [
        (json!({"claim": "org.tier", "present": true}), true),
        (json!({"claim": "gone", "present": true}), false),
        (json!({"claim": "gone", "present": false}), true),
        (json!({"claim": "org.tier", "equals": "gold"}), true),
        (json!({"claim": "org.seats", "equals": 5.0}), true),
        (json!({"claim": "admin", "equals": true}), true),
        (json!({"claim": "admin", "equals": "true"}), false),
        (
            json!({"claim": "org.tier", "one_of": ["silver", "gold"]}),
            true,
        ),
        (json!({"claim": "org.tier", "none_of": ["gold"]}), false),
        (json!({"claim": "missing", "none_of": ["gold"]}), false),
        (json!({"claim": "groups", "none_of": ["admin"]}), true),
        (json!({"claim": "groups", "equals": "ops"}), true),
        (
            json!({"claim": "groups", "contains_any": ["admin", "ops"]}),
            true,
        ),
        (
            json!({"claim": "groups", "contains_all": ["dev", "ops"]}),
            true,
        ),
        (
            json!({"claim": "groups", "contains_all": ["dev", "admin"]}),
            false,
        ),
        (json!({"claim": "org.tier", "contains_any": ["gold"]}), true),
        (
            json!({"claim": ["https://example.com/roles"], "contains_any": ["buyer"]}),
            true,
        ),
        (
            json!({"claim": "https://example.com/roles", "present": true}),
            false,
        ),
        (json!({"claim": "groups", "matches": "o.s"}), true),
        (json!({"claim": "org.tier", "matches": "gol"}), false),
    ] {
        assert_eq!(holds(cond.clone(), t.clone()).is_ok(), ok, "{cond}");
    }
}

#[test]
fn numeric_bounds_and_differences() {
    let t = json!({"acr": "2", "loa": 3, "iat": 1000, "exp": 4600});
    assert!(holds(json!({"claim": "acr", "gte": 2, "lt": 3}), t.clone()).is_ok());
    assert_eq!(
        holds(json!({"claim": "loa", "gte": 2, "lt": 3}), t.clone()).unwrap_err(),
        "claim loa fails \"lt\""
    );
    assert!(holds(
        json!({"claim_difference": ["exp", "iat"], "lte": 3600}),
        t.clone()
    )
    .is_ok());
    assert_eq!(
        holds(
            json!({"claim_difference": ["exp", "iat"], "lt": 3600}),
            t.clone()
        )
        .unwrap_err(),
        "claims exp - iat fail \"lt\""
    );
    assert_eq!(
        holds(json!({"claim": "missing", "gt": 1}), t).unwrap_err(),
        "claim missing fails \"gt\""
    );
}

#[test]
fn composition_reports_the_failing_node() {
    let t = json!({"scope": "a", "groups": ["dev"]});
    let c = json!({"all": [
        {"scopes": {"all_of": ["a"]}},
        {"any": [{"claim": "groups", "contains_any": ["admin"]}, {"claim": "vip", "equals": true}]}
    ]});
    assert_eq!(
        holds(c, t.clone()).unwrap_err(),
        "none of the alternatives at rules[0].authorize.all[1].any is met"
    );
    let c = json!({"not": {"claim": "groups", "contains_any": ["dev"]}});
    assert_eq!(
        holds(c, t.clone()).unwrap_err(),
        "the excluded condition at rules[0].authorize.not is met"
    );
    let c = json!({"not": {"claim": "groups", "contains_any": ["contractor"]}});
    assert!(holds(c, t).is_ok());
}

#[test]
fn every_verified_token_of_the_provider_must_satisfy() {
    let a = condition(json!({"claim": "ok", "equals": true}));
    let good = Verified {
        provider: 0,
        claims: std::rc::Rc::new(claims(json!({"ok": true}))),
        proof: None,
        jwt: None,
    };
    let bad = Verified {
        provider: 0,
        claims: std::rc::Rc::new(claims(json!({"ok": false}))),
        proof: None,
        jwt: None,
    };
    let other = Verified {
        provider: 1,
        claims: std::rc::Rc::new(claims(json!({"ok": true}))),
        proof: None,
        jwt: None,
    };
    assert!(a.check(std::slice::from_ref(&good), &no_request()).is_ok());
    assert!(matches!(
        a.check(&[good, bad], &no_request()),
        Err(Refusal::Failed(_))
    ));
    assert!(matches!(
        a.check(&[other], &no_request()),
        Err(Refusal::NoToken)
    ));
}

#[test]
fn config_errors_name_their_path() {
    let cases = [
        (
            json!({"scopes": {"all_of": []}}),
            "rules[0].authorize.scopes.all_of: must not be empty",
        ),
        (
            json!({"scopes": {"all_of": ["a b"]}}),
            "rules[0].authorize.scopes.all_of: \"a b\" is not a scope",
        ),
        (json!({}), "rules[0].authorize: a condition needs one of"),
        (
            json!({"claim": "x"}),
            "rules[0].authorize: needs an operator",
        ),
        (
            json!({"claim": "x", "equals": 1, "present": true}),
            "rules[0].authorize: only one operator",
        ),
        (
            json!({"claim": "x", "matches": "(["}),
            "rules[0].authorize.matches: invalid regex",
        ),
        (
            json!({"claim": "", "present": true}),
            "rules[0].authorize.claim: claim name parts must not be empty",
        ),
        (
            json!({"any": []}),
            "rules[0].authorize.any: must not be empty",
        ),
        (
            json!({"all": [{"claim": "x", "bogus": 1}]}),
            "rules[0].authorize.all[0]: needs an operator",
        ),
        (
            json!({"claim": "x", "present": true, "extra": 1}),
            "rules[0].authorize.extra: unknown field",
        ),
        (
            json!({"provider": "b", "claim": "x", "present": true}),
            "rules[0].authorize.provider: the rule's requires never verifies",
        ),
        (
            json!({"provider": "zz", "claim": "x", "present": true}),
            "rules[0].authorize.provider: Required provider",
        ),
        (
            json!({"claim_difference": ["exp"], "lte": 1}),
            "rules[0].authorize.claim_difference: expected a list of two claims",
        ),
    ];
    for (authorize, want) in cases {
        let e = compile(authorize.clone()).unwrap_err();
        assert!(e.starts_with(want), "{authorize}: {e}");
    }
}

#[test]
fn provider_must_be_named_when_the_requirement_is_ambiguous() {
    let config = |requires: serde_json::Value, authorize: serde_json::Value| {
        fixtures::compile(&json!({"providers": providers(), "rules": [
            {"match": {"prefix": "/"}, "requires": requires, "authorize": authorize}]}))
        .map(|c| c.policy)
    };
    let any =
        json!({"requires_any": {"requirements": [{"provider_name": "a"}, {"provider_name": "b"}]}});
    let cond = json!({"claim": "x", "present": true});
    let e = config(any.clone(), cond).unwrap_err().to_string();
    assert!(
        e.contains("provider is required: the rule can verify tokens of a, b"),
        "{e}"
    );
    let named = json!({"provider": "b", "claim": "x", "present": true});
    assert_eq!(
        config(any, named).unwrap().rules[0]
            .authorize
            .as_ref()
            .unwrap()
            .reads,
        Reads::Provider(1)
    );
    let e = fixtures::compile(&json!({"providers": providers(), "rules": [
        {"match": {"prefix": "/"}, "authorize": {"claim": "x", "present": true}}]}))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("authorize needs a rule whose requires verifies a token"),
        "{e}"
    );
}
#[test]
fn scopes_are_delimited_by_the_space_character_only() {
    // RFC 6749 §3.3: scope tokens are separated by %x20. Any other
    // whitespace is part of a word, and such a word matches no scope.
    let read = json!({"scopes": {"all_of": ["orders:read"]}});
    let openid = json!({"scopes": {"any_of": ["openid"]}});
    for joined in [
        "openid\torders:read",
        "openid\norders:read",
        "openid\r\norders:read",
        "openid\u{b}orders:read",
        "openid\u{c}orders:read",
        "openid\u{a0}orders:read",
        "openid\u{2003}orders:read",
        "openid\u{3000}orders:read",
    ] {
        for claim in ["scope", "scp"] {
            assert!(
                holds(read.clone(), json!({ claim: joined })).is_err(),
                "{joined:?}"
            );
            assert!(
                holds(openid.clone(), json!({ claim: joined })).is_err(),
                "{joined:?}"
            );
        }
    }
    for spaced in [
        "orders:read",
        "openid orders:read",
        "orders:read openid",
        "  openid   orders:read  ",
    ] {
        for claim in ["scope", "scp"] {
            assert!(
                holds(read.clone(), json!({ claim: spaced })).is_ok(),
                "{spaced:?}"
            );
        }
    }
    // A word with a tab on one side of a space-delimited list is still one word.
    assert!(holds(read.clone(), json!({"scope": "openid orders:read\tx"})).is_err());
    assert!(holds(read.clone(), json!({"scope": "openid\tx orders:read"})).is_ok());
    // `scp` list elements are whole scopes, never split.
    assert!(holds(read, json!({"scp": ["openid orders:read"]})).is_err());
}

#[test]
fn istio_space_delimited_claims_split_at_the_space_character_only() {
    let t = StringsTest {
        patterns: vec![Wildcard::istio("orders:read")],
        words: true,
    };
    assert!(t.holds(&json!("openid orders:read")));
    for joined in [
        "openid\torders:read",
        "openid\norders:read",
        "openid\u{a0}orders:read",
    ] {
        assert!(!t.holds(&json!(joined)), "{joined:?}");
    }
}
