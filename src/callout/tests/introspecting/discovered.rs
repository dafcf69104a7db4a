//! An endpoint named by the provider's discovery document: read once,
//! shared with the other workers, then every token is asked about there.

use super::*;

const DOC_PATH: &str = "/.well-known/oauth-authorization-server";

fn discovered_policy() -> crate::rules::Policy {
    fixtures::policy(json!({
        "providers": {"p": {
            "issuer": "https://as.test",
            "discovery": {"http_uri": {"uri": format!("https://as.test{DOC_PATH}"),
                                       "cluster": "as", "timeout": "2s"}},
            "introspection": {"client_id": "gateway", "client_secret": SECRET,
                              "jwt_tokens": "introspect"}}},
        "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}]
    }))
}

fn document(endpoint: &str) -> Answer {
    ok(
        json!({"issuer": "https://as.test", "jwks_uri": "https://as.test/jwks",
              "introspection_endpoint": endpoint})
        .to_string()
        .into_bytes(),
    )
}

#[test]
fn the_document_is_read_once_then_tokens_are_asked_about_where_it_says() {
    let p = discovered_policy();
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    for ctx in [1, 2] {
        assert!(waits_for_introspection(&send(
            &mut w,
            &p,
            &mut host,
            ctx,
            TOKEN,
            &[]
        )));
    }
    assert_eq!(host.sent.len(), 1, "one document call");
    assert_eq!(
        (host.sent[0].method, host.sent[0].path.as_str()),
        ("GET", DOC_PATH)
    );
    answer(
        &mut w,
        &mut host,
        0,
        document("https://as.test/oauth2/introspect"),
    );
    assert_eq!(host.sent.len(), 2, "then one introspection");
    assert_eq!(
        (host.sent[1].method, host.sent[1].path.as_str()),
        ("POST", "/oauth2/introspect")
    );
    answer(&mut w, &mut host, 1, active(json!({})));
    let resumed = resume(&mut w, &p, &mut host, TOKEN);
    assert_eq!(resumed.len(), 2);
    assert!(
        resumed.iter().all(|(_, d)| matches!(d, Decision::Allow)),
        "{resumed:?}"
    );
    // Another token: straight to the endpoint.
    send(&mut w, &p, &mut host, 3, "other-token", &[]);
    assert_eq!(host.sent.len(), 3);
    assert_eq!(host.sent[2].method, "POST");
}

#[test]
fn a_document_without_the_endpoint_ends_the_wait_as_unavailable() {
    let p = discovered_policy();
    for doc in [
        ok(
            json!({"issuer": "https://as.test", "jwks_uri": "https://as.test/j"})
                .to_string()
                .into_bytes(),
        ),
        ok(
            json!({"issuer": "https://evil.test", "introspection_endpoint": "https://as.test/i"})
                .to_string()
                .into_bytes(),
        ),
        status(500),
    ] {
        let mut w = worker(&p);
        let mut host = FakeHost::new(None);
        send(&mut w, &p, &mut host, 1, TOKEN, &[]);
        answer(&mut w, &mut host, 0, doc);
        assert_eq!(host.sent.len(), 1, "no introspection without an endpoint");
        let (_, d) = &resume(&mut w, &p, &mut host, TOKEN)[0];
        assert!(is(d, &denied(Status::IntrospectionUnavailable)), "{d:?}");
        assert_eq!(host.logged("discovery failed"), 1);
    }
}

#[test]
fn another_worker_takes_the_discovered_endpoint_from_shared_data() {
    let p = discovered_policy();
    let ((mut a, mut ha), (mut b, mut hb)) = pair(&p);
    send(&mut a, &p, &mut ha, 1, TOKEN, &[]);
    answer(
        &mut a,
        &mut ha,
        0,
        document("https://as.test/oauth2/introspect"),
    );
    send(&mut b, &p, &mut hb, 2, "b-token", &[]);
    assert_eq!(hb.sent.len(), 1);
    assert_eq!(
        (hb.sent[0].method, hb.sent[0].path.as_str()),
        ("POST", "/oauth2/introspect"),
        "b reads no document"
    );
}

#[test]
fn where_requests_make_their_own_calls_the_document_then_the_introspection() {
    let p = discovered_policy();
    let mut w = worker(&p);
    let mut host = FakeHost::new(None);
    let callouts = callouts_of(&mut w, &p, &mut host, TOKEN);
    let now = host.now();
    assert_eq!(w.wait_own(&mut host, 7, &callouts, now), 1);
    assert_eq!(host.sent[0].method, "GET");
    answer(
        &mut w,
        &mut host,
        0,
        document("https://as.test/oauth2/introspect"),
    );
    assert_eq!(w.own_calls(7), 1, "still waiting: on its introspection now");
    assert_eq!(host.sent[1].method, "POST");
    answer(&mut w, &mut host, 1, active(json!({})));
    assert_eq!(w.own_calls(7), 0);
    assert!(matches!(
        send(&mut w, &p, &mut host, 7, TOKEN, &callouts),
        Decision::Allow
    ));
}
