//! Which tokens an introspection provider sends to the endpoint.

use super::*;

#[test]
fn jwt_shaped_tokens_go_to_the_endpoint_only_with_introspect() {
    let jwt = fixtures::hs256(json!({"kid": "k"}), json!({"iss": "https://as.test"}));
    let p = intro_policy(json!({}));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let d = send(&mut w, &p, &mut host, 1, &jwt, &[]);
    assert!(is(&d, &denied(Status::JwtVerificationFail)), "{d:?}");
    assert!(host.sent.is_empty());
    let p = intro_policy(json!({"jwt_tokens": "introspect"}));
    let mut w = worker(&p);
    let d = send(&mut w, &p, &mut host, 1, &jwt, &[]);
    assert!(waits_for_introspection(&d), "{d:?}");
    assert_eq!(host.sent.len(), 1);
}

#[test]
fn requires_any_verifies_jwts_locally_and_sends_opaque_tokens_to_the_endpoint() {
    let jwks = String::from_utf8(keys(&["k"])).expect("utf-8");
    let p = fixtures::policy(json!({
        "providers": {
            "opaque": {"issuer": "https://as.test", "introspection": {
                "http_uri": {"uri": "https://as.test/introspect", "cluster": "as"},
                "client_id": "gateway", "client_secret": SECRET}},
            "jwt": {"issuer": "https://idp.test", "local_jwks": {"inline_string": jwks}}
        },
        "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
            {"provider_name": "opaque"}, {"provider_name": "jwt"}]}}}]
    }));
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let d = send(&mut w, &p, &mut host, 1, &token("k"), &[]);
    assert!(matches!(d, Decision::Allow), "{d:?}");
    assert!(host.sent.is_empty(), "a JWT costs the endpoint nothing");
    let d = send(&mut w, &p, &mut host, 2, TOKEN, &[]);
    assert!(waits_for_introspection(&d), "{d:?}");
    answer(&mut w, &mut host, 0, ok(br#"{"active":true}"#.to_vec()));
    assert!(matches!(
        resume(&mut w, &p, &mut host, TOKEN)[0].1,
        Decision::Allow
    ));
    assert_eq!(host.sent.len(), 1);
}
