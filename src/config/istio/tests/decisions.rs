//! Whole decisions under the dialect, with Istio's documented answers:
//! RequestAuthentication lets requests without a token through and refuses
//! bad tokens (401); AuthorizationPolicy decides with 403 `RBAC: access
//! denied`, a request without a token having no principal and no claims.

use super::JWKS;
use crate::error::Status;
use crate::fixtures::{self, NOW};
use crate::request::Headers;
use crate::rules::{evaluate, Decision, Denial, Policy};
use serde_json::{json, Value};

const ISS: &str = "https://idp.example.com";

/// An HS256 token (kid "k", the fixture secret) whose payload is
/// `{"iss": ISS, "sub": "alice", "exp": NOW + 600}` with `extra` claims
/// added or replaced (null drops one).
fn token(extra: Value) -> String {
    let mut claims = json!({"iss": ISS, "sub": "alice", "exp": NOW + 600});
    if let (Some(c), Value::Object(e)) = (claims.as_object_mut(), extra) {
        for (k, v) in e {
            if v.is_null() {
                c.remove(&k);
            } else {
                c.insert(k, v);
            }
        }
    }
    fixtures::hs256(json!({"kid": "k"}), claims)
}

fn dialect(istio: Value) -> Policy {
    fixtures::policy(json!({ "istio": istio }))
}

/// One jwtRule for ISS, plus a policy (if not null).
fn with_policy(policy: Value) -> Policy {
    let mut istio = json!({"requestAuthentication": {"jwtRules": [
        {"issuer": ISS, "jwks": JWKS, "outputClaimToHeaders": [{"header": "x-sub", "claim": "sub"}]}
    ]}});
    if !policy.is_null() {
        istio["authorizationPolicy"] = policy;
    }
    dialect(istio)
}

#[derive(Debug, PartialEq)]
enum Answer {
    Allowed,
    Unauthorized(Status),
    Forbidden,
}

fn send(c: &Policy, token: Option<&str>) -> (Answer, Headers) {
    send_to(c, token, "GET", "/api", &[])
}

/// A request with `method` and `path` to `authority` (default
/// `api.example.com`), plus `extra` headers.
fn send_to(
    c: &Policy,
    token: Option<&str>,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> (Answer, Headers) {
    let mut h = vec![
        (":method".to_owned(), method.to_owned()),
        (":path".to_owned(), path.to_owned()),
    ];
    if !extra.iter().any(|(k, _)| *k == ":authority") {
        h.push((":authority".to_owned(), "api.example.com".to_owned()));
    }
    h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    if let Some(t) = token {
        h.push(("authorization".to_owned(), format!("Bearer {t}")));
    }
    let mut h = Headers::new(h);
    let answer = match evaluate(c, &mut h, NOW, &crate::authn::LocalKeysOnly) {
        Decision::Allow => Answer::Allowed,
        Decision::Deny(Denial::Authn(s)) => Answer::Unauthorized(s),
        Decision::Deny(Denial::Rbac) => Answer::Forbidden,
        Decision::Deny(Denial::Authz(f, _)) => panic!("a plain authorize answer: {}", f.describe()),
        other => panic!("not a decision the dialect makes with local keys: {other:?}"),
    };
    (answer, h)
}

fn answer(c: &Policy, token: Option<&str>) -> Answer {
    send(c, token).0
}

#[test]
fn without_a_policy_a_missing_token_passes_and_a_bad_one_is_401() {
    let c = with_policy(Value::Null);
    assert_eq!(answer(&c, None), Answer::Allowed);
    let (a, h) = send(&c, Some(&token(json!({}))));
    assert_eq!(a, Answer::Allowed);
    // forwardOriginalToken defaults to false: the token is removed.
    assert_eq!(h.get("authorization"), None);
    assert_eq!(h.get("x-sub"), Some("alice"));
    let expired = token(json!({"exp": NOW - 3600}));
    assert_eq!(
        answer(&c, Some(&expired)),
        Answer::Unauthorized(Status::JwtExpired)
    );
    let other = token(json!({"iss": "https://other.example.com"}));
    assert_eq!(
        answer(&c, Some(&other)),
        Answer::Unauthorized(Status::JwtUnknownIssuer)
    );
    assert_eq!(
        answer(&c, Some("garbage")),
        Answer::Unauthorized(Status::JwtBadFormat)
    );
}

#[test]
fn any_request_principal_refuses_a_request_without_token_with_403() {
    let c = with_policy(json!({"rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]}));
    assert_eq!(answer(&c, None), Answer::Forbidden);
    assert_eq!(answer(&c, Some(&token(json!({})))), Answer::Allowed);
    // No sub: no principal.
    assert_eq!(
        answer(&c, Some(&token(json!({"sub": null})))),
        Answer::Forbidden
    );
    // A bad token is still authentication's 401, before any policy.
    let expired = token(json!({"exp": NOW - 3600}));
    assert_eq!(
        answer(&c, Some(&expired)),
        Answer::Unauthorized(Status::JwtExpired)
    );
}

#[test]
fn request_principals_match_iss_slash_sub_with_wildcards() {
    let only = |p: &str| {
        with_policy(json!({"rules": [{"from": [{"source": {"requestPrincipals": [p]}}]}]}))
    };
    let alice = token(json!({}));
    for (pattern, allowed) in [
        ("https://idp.example.com/alice", true),
        ("https://idp.example.com/bob", false),
        ("https://idp.example.com/*", true),
        ("https://idp.example.com/al*", true),
        ("*/alice", true),
        ("*.example.com/alice", true),
        ("*.example.org/alice", false),
        ("*lice", true),
    ] {
        let want = if allowed {
            Answer::Allowed
        } else {
            Answer::Forbidden
        };
        assert_eq!(answer(&only(pattern), Some(&alice)), want, "{pattern}");
    }
    let c = with_policy(
        json!({"rules": [{"when": [{"key": "request.auth.principal", "notValues": ["*/alice"]}]}]}),
    );
    assert_eq!(answer(&c, Some(&alice)), Answer::Forbidden);
    assert_eq!(
        answer(&c, Some(&token(json!({"sub": "bob"})))),
        Answer::Allowed
    );
}

#[test]
fn claim_values_and_not_values() {
    let c = with_policy(json!({"action": "ALLOW", "rules": [{"when": [
        {"key": "request.auth.claims[groups]", "values": ["admin", "ops-*"]},
        {"key": "request.auth.claims[org][tier]", "notValues": ["free"]}
    ]}]}));
    let t = |claims: Value| answer(&c, Some(&token(claims)));
    assert_eq!(t(json!({"groups": ["dev", "admin"]})), Answer::Allowed);
    assert_eq!(t(json!({"groups": "ops-eu"})), Answer::Allowed);
    assert_eq!(t(json!({"groups": ["dev"]})), Answer::Forbidden);
    assert_eq!(
        t(json!({"groups": "admin", "org": {"tier": "free"}})),
        Answer::Forbidden
    );
    // notValues on a missing claim holds, as in Istio.
    assert_eq!(
        t(json!({"groups": "admin", "org": {"tier": "gold"}})),
        Answer::Allowed
    );
    assert_eq!(t(json!({"groups": "admin"})), Answer::Allowed);
    assert_eq!(t(json!({})), Answer::Forbidden);
    assert_eq!(answer(&c, None), Answer::Forbidden);
}

#[test]
fn scope_and_space_delimited_claims_are_read_as_lists() {
    let c = dialect(json!({
        "requestAuthentication": {"jwtRules": [{"issuer": ISS, "jwks": JWKS, "spaceDelimitedClaims": ["roles"]}]},
        "authorizationPolicy": {"rules": [{"when": [
            {"key": "request.auth.claims[scope]", "values": ["orders:read"]},
            {"key": "request.auth.claims[roles]", "values": ["buyer"]},
            {"key": "request.auth.claims[team]", "values": ["a"]}
        ]}]}
    }));
    let t = |claims: Value| answer(&c, Some(&token(claims)));
    assert_eq!(
        t(json!({"scope": "openid orders:read", "roles": "x buyer", "team": "a"})),
        Answer::Allowed
    );
    assert_eq!(
        t(json!({"scope": "openid", "roles": "buyer", "team": "a"})),
        Answer::Forbidden
    );
    // Other claims are compared whole.
    assert_eq!(
        t(json!({"scope": "orders:read", "roles": "buyer", "team": "a b"})),
        Answer::Forbidden
    );
}

#[test]
fn audiences_and_presenter() {
    let c = with_policy(json!({"rules": [{"when": [
        {"key": "request.auth.audiences", "values": ["orders"]},
        {"key": "request.auth.presenter", "values": ["web-*"]}
    ]}]}));
    let t = |claims: Value| answer(&c, Some(&token(claims)));
    assert_eq!(
        t(json!({"aud": ["x", "orders"], "azp": "web-app"})),
        Answer::Allowed
    );
    assert_eq!(t(json!({"aud": "orders", "azp": "cli"})), Answer::Forbidden);
    assert_eq!(
        t(json!({"aud": "billing", "azp": "web-app"})),
        Answer::Forbidden
    );
}

#[test]
fn deny_policies_win_and_allow_policies_need_one_match() {
    let deny_banned = json!({"action": "DENY", "rules": [{"when": [{"key": "request.auth.claims[status]", "values": ["banned"]}]}]});
    let c = with_policy(deny_banned.clone());
    assert_eq!(answer(&c, None), Answer::Allowed);
    assert_eq!(answer(&c, Some(&token(json!({})))), Answer::Allowed);
    assert_eq!(
        answer(&c, Some(&token(json!({"status": "banned"})))),
        Answer::Forbidden
    );
    let allow_admin =
        json!({"rules": [{"when": [{"key": "request.auth.claims[role]", "values": ["admin"]}]}]});
    let both = with_policy(json!([allow_admin, deny_banned]));
    assert_eq!(
        answer(&both, Some(&token(json!({"role": "admin"})))),
        Answer::Allowed
    );
    assert_eq!(
        answer(
            &both,
            Some(&token(json!({"role": "admin", "status": "banned"})))
        ),
        Answer::Forbidden
    );
    assert_eq!(
        answer(&both, Some(&token(json!({"role": "user"})))),
        Answer::Forbidden
    );
}

#[test]
fn deny_requests_without_a_principal() {
    let c = with_policy(
        json!({"action": "DENY", "rules": [{"from": [{"source": {"notRequestPrincipals": ["*"]}}]}]}),
    );
    assert_eq!(answer(&c, None), Answer::Forbidden);
    assert_eq!(answer(&c, Some(&token(json!({})))), Answer::Allowed);
}

#[test]
fn empty_policies_allow_nothing_or_deny_nothing() {
    let t = token(json!({}));
    assert_eq!(answer(&with_policy(json!({})), Some(&t)), Answer::Forbidden);
    assert_eq!(
        answer(&with_policy(json!({"rules": [{}]})), None),
        Answer::Allowed
    );
    assert_eq!(
        answer(&with_policy(json!({"action": "DENY"})), None),
        Answer::Allowed
    );
    // A rule matches when any `from` entry does.
    let either = with_policy(json!({"rules": [{"from": [
        {"source": {"requestPrincipals": ["*/bob"]}},
        {"source": {"requestPrincipals": ["*/alice"]}}
    ]}]}));
    assert_eq!(answer(&either, Some(&t)), Answer::Allowed);
}

#[test]
fn a_policy_without_request_authentication_sees_no_token() {
    let c = dialect(
        json!({"authorizationPolicy": {"rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]}}),
    );
    assert_eq!(answer(&c, None), Answer::Forbidden);
    // Nothing verifies it, so even a good token is no principal.
    assert_eq!(answer(&c, Some(&token(json!({})))), Answer::Forbidden);
}

#[test]
fn of_several_tokens_the_first_providers_is_the_principal() {
    let other = "https://a-first.example.com";
    let c = dialect(json!({
        "requestAuthentication": {"jwtRules": [
            {"issuer": ISS, "jwks": JWKS},
            {"issuer": other, "jwks": JWKS, "fromHeaders": [{"name": "x-other"}]}
        ]},
        "authorizationPolicy": {"rules": [{"from": [{"source": {"requestPrincipals": [format!("{other}/*")]}}]}]}
    }));
    let mut h = Headers::new(vec![
        (":path".to_owned(), "/".to_owned()),
        ("x-other".to_owned(), token(json!({"iss": other}))),
        (
            "authorization".to_owned(),
            format!("Bearer {}", token(json!({}))),
        ),
    ]);
    assert!(matches!(
        evaluate(&c, &mut h, NOW, &crate::authn::LocalKeysOnly),
        Decision::Allow
    ));
    assert_eq!(answer(&c, Some(&token(json!({})))), Answer::Forbidden);
}

#[test]
fn operations_match_methods_paths_and_hosts() {
    let c = with_policy(json!({"rules": [
        {"to": [{"operation": {"methods": ["GET", "HEAD"], "paths": ["/orders*"], "notPaths": ["*/internal"]}}]},
        {"to": [{"operation": {"methods": ["POST"], "paths": ["/orders"], "hosts": ["API.example.com"]}}],
         "from": [{"source": {"requestPrincipals": ["*"]}}]}
    ]}));
    let t = token(json!({}));
    let at =
        |token: Option<&str>, method: &str, path: &str| send_to(&c, token, method, path, &[]).0;
    assert_eq!(at(None, "GET", "/orders/7?x=1"), Answer::Allowed);
    assert_eq!(at(None, "HEAD", "/orders"), Answer::Allowed);
    assert_eq!(at(None, "GET", "/orders/internal"), Answer::Forbidden);
    // The query is not part of the path Istio matches.
    assert_eq!(at(None, "GET", "/other?p=/orders"), Answer::Forbidden);
    assert_eq!(at(None, "DELETE", "/orders/7"), Answer::Forbidden);
    // POST needs a principal; the host compares ignoring case.
    assert_eq!(at(None, "POST", "/orders"), Answer::Forbidden);
    assert_eq!(at(Some(&t), "POST", "/orders"), Answer::Allowed);
    assert_eq!(at(Some(&t), "POST", "/orders/7"), Answer::Forbidden);
    let other_host = send_to(
        &c,
        Some(&t),
        "POST",
        "/orders",
        &[(":authority", "x.example.com")],
    )
    .0;
    assert_eq!(other_host, Answer::Forbidden);
}

#[test]
fn request_headers_match_with_wildcards() {
    let c = with_policy(json!({"action": "DENY", "rules": [{"when": [
        {"key": "request.headers[X-Tenant]", "values": ["blocked-*"]},
        {"key": "request.headers[x-debug]", "values": ["*"]}
    ]}]}));
    let at = |extra: &[(&str, &str)]| send_to(&c, None, "GET", "/", extra).0;
    assert_eq!(
        at(&[("x-tenant", "blocked-1"), ("x-debug", "")]),
        Answer::Forbidden
    );
    assert_eq!(at(&[("x-tenant", "blocked-1")]), Answer::Allowed);
    assert_eq!(at(&[("x-tenant", "ok"), ("x-debug", "1")]), Answer::Allowed);
}
