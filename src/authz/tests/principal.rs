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
    assert!(a.check(&token("A", "alice")).is_ok());
    assert!(a.check(&token("B", "bob")).is_ok());
    // A leading `*` decides first (as in Istio): `*/svc-*` is any issuer
    // with the subject "svc-*" exactly.
    assert!(a.check(&token("A", "svc-orders")).is_err());
    assert!(a.check(&token("A", "svc-*")).is_ok());
    let Err(Refusal::Failed(f)) = a.check(&token("A", "bob")) else {
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
    assert!(a.check(&no_sub).is_err());
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
    ]);
    let verified = [Verified {
        provider: 0,
        claims: std::rc::Rc::new(claims(
            json!({"iss": "A", "sub": "s", "scope": "a orders:read"}),
        )),
    }];
    assert!(a.check(&verified).is_ok());
    assert!(matches!(a.check(&[]), Err(Refusal::Rbac)));
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..100 {
        assert!(a.check(&verified).is_ok());
        assert!(a.check(&[]).is_err());
    }
    assert_eq!(ALLOCATIONS.with(Cell::get) - before, 0);
}
