//! Evaluating `authorize` conditions allocates nothing: a counting global
//! allocator, in a test binary of its own so that it wraps only these
//! tests (the library's unit tests keep the system allocator).

// A test binary: its helpers may fail loudly, as test code does.
#![allow(clippy::expect_used, clippy::panic)]

use jwt_guard::authn::Verified;
use jwt_guard::authz::{
    Authorize, ClaimPath, ClaimTest, Condition, Reads, Refusal, RequestField, RequestTest,
    StringsTest, Wildcard,
};
use jwt_guard::request::Headers;
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counts this thread's allocations.
struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const JWKS: &str =
    r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw"}]}"#;

/// The compiled `authorize` of a rule requiring provider "a".
fn condition(authorize: Value) -> Authorize {
    let config = json!({
        "providers": {"a": {"issuer": "A", "local_jwks": {"inline_string": JWKS}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"},
                   "authorize": authorize}]
    });
    let compiled = jwt_guard::config::compile(&config.to_string()).expect("a valid config");
    let rule = compiled.policy.rules.into_iter().next().expect("one rule");
    rule.authorize.expect("an authorize")
}

fn verified(claims: Value) -> [Verified; 1] {
    let Value::Object(claims) = claims else {
        panic!("claims must be an object")
    };
    [Verified {
        provider: 0,
        claims: Rc::new(claims),
        proof: None,
        jwt: None,
    }]
}

#[test]
fn evaluation_allocates_nothing() {
    let a = condition(json!({"all": [
        {"scopes": {"all_of": ["orders:read"]}},
        {"claim": "org.tier", "one_of": ["gold", "silver"]},
        {"claim": ["https://example.com/roles"], "contains_all": ["buyer"]},
        {"claim": "email", "matches": "[a-z]+@example\\.com"},
        {"claim": "acr", "gte": 2},
        {"claim_difference": ["exp", "iat"], "lte": 3600},
        {"not": {"claim": "groups", "contains_any": ["banned"]}},
        {"any": [{"claim": "vip", "equals": true}, {"claim": "groups", "none_of": ["guests"]}]}
    ]}));
    let token = verified(json!({
        "scope": "openid orders:read", "org": {"tier": "gold"}, "https://example.com/roles": ["buyer"],
        "email": "ann@example.com", "acr": "2", "iat": 1000, "exp": 4000, "groups": ["dev"]
    }));
    let request = Headers::new(Vec::new());
    assert!(a.check(&token, &request).is_ok()); // warm up (the regex builds its cache once)
    let n = allocations(|| {
        for _ in 0..100 {
            assert!(a.check(&token, &request).is_ok());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn request_reads_allocate_nothing_with_or_without_a_token() {
    let mut a = condition(json!({"any": [{"principal": ["*"]}, {"claim": "x", "present": true}]}));
    a.reads = Reads::Request;
    a.condition = Condition::All(vec![
        a.condition.clone(),
        Condition::Claim {
            path: ClaimPath {
                keys: vec!["scope".into()],
                display: "scope".into(),
            },
            test: ClaimTest::Strings(StringsTest {
                patterns: vec![Wildcard::istio("orders:*")],
                words: true,
            }),
        },
        Condition::Request(RequestTest::istio(RequestField::Method, &["GET".into()])),
        Condition::Request(RequestTest::istio(RequestField::Path, &["/orders*".into()])),
        Condition::Request(RequestTest::istio(
            RequestField::Host,
            &["API.example.com".into()],
        )),
    ]);
    let token = verified(json!({"iss": "A", "sub": "s", "scope": "a orders:read"}));
    let request = Headers::new(vec![
        (":method".into(), "GET".into()),
        (":path".into(), "/orders/7?page=2".into()),
        (":authority".into(), "api.example.com".into()),
    ]);
    assert!(a.check(&token, &request).is_ok());
    assert!(matches!(a.check(&[], &request), Err(Refusal::Rbac)));
    assert!(a.check(&token, &Headers::new(Vec::new())).is_err());
    let n = allocations(|| {
        for _ in 0..100 {
            assert!(a.check(&token, &request).is_ok());
            assert!(a.check(&[], &request).is_err());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn the_counter_sees_an_allocation() {
    let n = allocations(|| drop(std::hint::black_box(vec![0u8; 16])));
    assert!(n >= 1, "{n}");
}
