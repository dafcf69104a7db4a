//! The `principal` condition, and conditions read the Istio way
//! (`Reads::Request`): decisions, and no allocation while evaluating.

use super::*;

#[test]
fn principal_matches_iss_slash_sub_in_istios_wildcard_forms() {
    let a = condition(json!({"principal": ["A/alice", "*/svc-*", "B/*"]}));
    let token = |iss: &str, sub: &str| {
        [Verified {
            provider: 0,
            claims: std::rc::Rc::new(claims(json!({"iss": iss, "sub": sub}))),
        }]
    };
    assert!(a.check(&token("A", "alice"), &no_request()).is_ok());
    assert!(a.check(&token("B", "bob"), &no_request()).is_ok());
    // A leading `*` decides first (as in Istio): `*/svc-*` is any issuer
    // with the subject "svc-*" exactly.
    assert!(a.check(&token("A", "svc-orders"), &no_request()).is_err());
    assert!(a.check(&token("A", "svc-*"), &no_request()).is_ok());
    let Err(Refusal::Failed(f)) = a.check(&token("A", "bob"), &no_request()) else {
        panic!("expected a failure");
    };
    assert_eq!(
        f.describe(),
        "the token's principal (iss/sub) is not allowed"
    );
    let no_sub = [Verified {
        provider: 0,
        claims: std::rc::Rc::new(claims(json!({"iss": "A"}))),
    }];
    assert!(a.check(&no_sub, &no_request()).is_err());
    let e = compile(json!({"principal": []})).unwrap_err();
    assert_eq!(e, "rules[0].authorize.principal: must not be empty");
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
    let verified = [Verified {
        provider: 0,
        claims: std::rc::Rc::new(claims(
            json!({"iss": "A", "sub": "s", "scope": "a orders:read"}),
        )),
    }];
    let request = Headers::new(vec![
        (":method".into(), "GET".into()),
        (":path".into(), "/orders/7?page=2".into()),
        (":authority".into(), "api.example.com".into()),
    ]);
    assert!(a.check(&verified, &request).is_ok());
    assert!(matches!(a.check(&[], &request), Err(Refusal::Rbac)));
    assert!(a.check(&verified, &no_request()).is_err());
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..100 {
        assert!(a.check(&verified, &request).is_ok());
        assert!(a.check(&[], &request).is_err());
    }
    assert_eq!(ALLOCATIONS.with(Cell::get) - before, 0);
}
