//! The `principal` condition, and conditions read the Istio way
//! (`Reads::Request`).

use super::*;

#[test]
fn principal_matches_iss_slash_sub_in_istios_wildcard_forms() {
    let a = condition(json!({"principal": ["A/alice", "*/svc-*", "B/*"]}));
    let token = |iss: &str, sub: &str| {
        [Verified {
            provider: 0,
            claims: std::rc::Rc::new(claims(json!({"iss": iss, "sub": sub}))),
            proof: None,
            jwt: None,
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
        proof: None,
        jwt: None,
    }];
    assert!(a.check(&no_sub, &no_request()).is_err());
    let e = compile(json!({"principal": []})).unwrap_err();
    assert_eq!(e, "rules[0].authorize.principal: must not be empty");
}
