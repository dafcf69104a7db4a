//! The Istio dialect compiled: providers, requirement and condition as
//! istiod would generate them, and configuration errors naming the fields
//! the user wrote. Decisions on whole requests: `decisions`.

mod decisions;

use crate::authn::Keys;
use crate::authz::{Condition, Reads};
use crate::config::Compiled;
use crate::fixtures;
use crate::rules::{Policy, Verifier};
use serde_json::{json, Value};

pub(super) const JWKS: &str =
    r#"{"keys":[{"kty":"oct","kid":"k","k":"YS10ZXN0LXNlY3JldC1vZi10aGlydHktdHdvLWJ5dGU"}]}"#;
const RA: &str = "istio.request_authentication";

fn compiled(istio: Value) -> Result<Compiled, String> {
    fixtures::compile(&json!({ "istio": istio })).map_err(|e| e.to_string())
}

fn compile(istio: Value) -> Result<Policy, String> {
    compiled(istio).map(|c| c.policy)
}

fn rules(jwt_rules: Value) -> Result<Policy, String> {
    compile(json!({"requestAuthentication": {"jwtRules": jwt_rules}}))
}

fn provider_ids(v: &Verifier) -> Vec<usize> {
    match v {
        Verifier::Provider { provider, .. } => vec![*provider],
        _ => Vec::new(),
    }
}

#[test]
fn one_jwt_rule_is_one_provider_whose_token_is_optional() {
    let c = rules(json!([{"issuer": "https://idp.example.com", "jwks": JWKS}])).unwrap();
    let p = &c.providers[0];
    assert_eq!(
        (p.name.as_str(), p.issuer.as_str()),
        ("origins-0", "https://idp.example.com")
    );
    // Istio's default: the token is removed before the request goes on.
    assert!(!p.forward);
    assert_eq!(
        p.locations.headers,
        [("authorization".to_owned(), "Bearer ".to_owned())]
    );
    assert_eq!(p.locations.params, ["access_token"]);
    assert_eq!(c.rules.len(), 1);
    assert!(c.rules[0].authorize.is_none());
    let Verifier::Any {
        children,
        allow_missing: true,
        allow_missing_or_failed: false,
    } = &c.rules[0].verifier
    else {
        panic!(
            "expected requires_any [origins-0, allow_missing]: {:?}",
            c.rules[0].verifier
        );
    };
    assert_eq!(
        children.iter().flat_map(provider_ids).collect::<Vec<_>>(),
        [0]
    );
}

#[test]
fn several_rules_are_sorted_by_issuer_any_or_each_optional() {
    let c = compile(json!({"request_authentication": [
        {"jwtRules": [{"issuer": "https://z.example.com", "jwks": JWKS}]},
        {"jwtRules": [{"issuer": "https://a.example.com", "jwks": JWKS}]}
    ]}))
    .unwrap();
    let issuers: Vec<&str> = c.providers.iter().map(|p| p.issuer.as_str()).collect();
    assert_eq!(issuers, ["https://a.example.com", "https://z.example.com"]);
    let Verifier::Any {
        children,
        allow_missing: false,
        ..
    } = &c.rules[0].verifier
    else {
        panic!("expected requires_any: {:?}", c.rules[0].verifier);
    };
    assert_eq!(children.len(), 3);
    assert_eq!(
        children[..2]
            .iter()
            .flat_map(provider_ids)
            .collect::<Vec<_>>(),
        [0, 1]
    );
    let Verifier::All(each) = &children[2] else {
        panic!("expected requires_all last: {:?}", children[2]);
    };
    for (i, e) in each.iter().enumerate() {
        let Verifier::Any {
            children,
            allow_missing: true,
            ..
        } = e
        else {
            panic!("expected [origins-{i}, allow_missing]: {e:?}");
        };
        assert_eq!(
            children.iter().flat_map(provider_ids).collect::<Vec<_>>(),
            [i]
        );
    }
}

fn remote(jwt_rule: Value) -> (String, String, u64, u64, bool) {
    let c = rules(json!([jwt_rule])).unwrap();
    let Keys::Remote { remote, .. } = &c.providers[0].keys else {
        panic!("expected remote keys");
    };
    let t = &remote.target;
    let uri = format!("{}://{}{}", t.scheme, t.authority, t.path);
    (
        remote.cluster.clone(),
        uri,
        remote.policy.timeout_ms,
        remote.policy.cache_duration_ms,
        remote.discovery,
    )
}

#[test]
fn jwks_uri_is_fetched_through_the_cluster_istiod_names() {
    let iss = "https://idp.example.com";
    let (cluster, uri, timeout, cache, discovery) =
        remote(json!({"issuer": iss, "jwksUri": "https://idp.example.com/keys"}));
    assert_eq!(cluster, "outbound|443||idp.example.com");
    assert_eq!(uri, "https://idp.example.com/keys");
    // Istio's defaults: 5 s timeout, cached 5 minutes.
    assert_eq!((timeout, cache, discovery), (5_000, 300_000, false));
    let (cluster, ..) = remote(json!({"issuer": iss, "jwksUri": "http://keys.internal/jwks"}));
    assert_eq!(cluster, "outbound|80||keys.internal");
    let (cluster, _, timeout, ..) =
        remote(json!({"issuer": iss, "jwks_uri": "http://127.0.0.1:8080/k", "timeout": "2s"}));
    assert_eq!(
        (cluster.as_str(), timeout),
        ("outbound|8080||127.0.0.1", 2_000)
    );
    let (cluster, ..) = remote(json!({"issuer": iss, "jwksUri": "https://[::1]:9443/k"}));
    assert_eq!(cluster, "outbound|9443||::1");
}

#[test]
fn without_keys_the_issuer_is_discovered() {
    let (cluster, uri, _, _, discovery) =
        remote(json!({"issuer": "https://login.example.com/t1/"}));
    assert_eq!(cluster, "outbound|443||login.example.com");
    assert_eq!(
        uri,
        "https://login.example.com/t1/.well-known/openid-configuration"
    );
    assert!(discovery);
}

#[test]
fn locations_outputs_and_forwarding_map_to_envoys_fields() {
    let c = rules(json!([{
        "issuer": "https://idp.example.com", "jwks": JWKS, "audiences": ["orders"],
        "fromHeaders": [{"name": "X-Jwt", "prefix": "Token "}, {"name": "x-raw"}],
        "fromParams": ["t"], "fromCookies": ["session"],
        "outputPayloadToHeader": "x-payload",
        "outputClaimToHeaders": [{"header": "X-Tenant", "claim": "org.tenant"}],
        "forwardOriginalToken": true
    }]))
    .unwrap();
    let p = &c.providers[0];
    assert_eq!(
        p.locations.headers,
        [
            ("x-jwt".to_owned(), "Token ".to_owned()),
            ("x-raw".to_owned(), String::new())
        ]
    );
    assert_eq!(
        (
            p.locations.params.as_slice(),
            p.locations.cookies.as_slice()
        ),
        (&["t".to_owned()][..], &["session".to_owned()][..])
    );
    assert!(p.audiences.allows(&["orders".to_owned()]));
    assert!(!p.audiences.allows(&["other".to_owned()]));
    assert_eq!(p.forward_payload_header.as_deref(), Some("x-payload"));
    assert_eq!(
        (
            p.claim_to_headers[0].header.as_str(),
            p.claim_to_headers[0].claim.as_str()
        ),
        ("x-tenant", "org.tenant")
    );
    assert!(p.forward);
    // Headers the providers set are stripped from every request first.
    assert_eq!(c.sanitize, ["x-payload", "x-tenant"]);
}

#[test]
fn a_policy_becomes_the_rules_authorize_read_the_istio_way() {
    let c = compile(json!({"authorizationPolicy": {"action": "ALLOW", "rules": [
        {"from": [{"source": {"requestPrincipals": ["*"]}}]}
    ]}}))
    .unwrap();
    assert!(c.providers.is_empty());
    let a = c.rules[0].authorize.as_ref().unwrap();
    assert_eq!(a.reads, Reads::Request);
    assert!(matches!(&a.condition, Condition::All(parts) if parts.len() == 1));
    assert!(matches!(c.rules[0].verifier, Verifier::AllowAll));
}

#[test]
fn weak_key_warnings_name_the_jwks_field() {
    let short = r#"{"keys":[{"kty":"oct","kid":"k","k":"c2hvcnQ"}]}"#;
    let c = compiled(json!({"requestAuthentication": {"jwtRules": [
        {"issuer": "https://idp.example.com", "jwks": short}
    ]}}))
    .unwrap();
    assert_eq!(c.warnings.len(), 1);
    let w = c.warnings[0].to_string();
    assert!(w.starts_with(&format!("{RA}.jwt_rules[0].jwks: ")), "{w}");
}

fn error(istio: Value) -> String {
    compile(istio).unwrap_err()
}

fn rule_error(jwt_rule: Value) -> String {
    rules(json!([jwt_rule])).unwrap_err()
}

#[test]
fn errors_name_the_fields_the_user_wrote() {
    let iss = "https://idp.example.com";
    let r0 = format!("{RA}.jwt_rules[0]");
    let cases = [
        (
            json!({"issuer": iss, "jwks": "{\"keys\": 7}"}),
            format!("{r0}.jwks: "),
        ),
        (
            json!({"issuer": iss, "jwks": 7}),
            format!("{r0}.jwks: expected a string"),
        ),
        (
            json!({"issuer": iss, "jwksUri": "ftp://x/k"}),
            format!("{r0}.jwks_uri: "),
        ),
        (
            json!({"issuer": iss, "jwksUri": "https://x/k", "timeout": "5m"}),
            format!("{r0}.timeout: invalid duration"),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "fromHeaders": [{"name": "x", "prefix": 1}]}),
            format!("{r0}.from_headers[0].prefix: expected a string"),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "fromHeaders": [{"name": "a b"}]}),
            format!("{r0}.from_headers[0].name: \"a b\" is not a valid header name"),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "outputClaimToHeaders": [{"header": "a b", "claim": "c"}]}),
            format!("{r0}.output_claim_to_headers[0].header: \"a b\""),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "outputClaimToHeaders": [{"header": "x"}]}),
            format!("{r0}.output_claim_to_headers[0].claim: must not be empty"),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "outputPayloadToHeader": "a b"}),
            format!("{r0}.output_payload_to_header: "),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "forwardOriginalToken": "yes"}),
            format!("{r0}.forward_original_token: expected a boolean"),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "audience": ["a"]}),
            format!("{r0}.audience: unknown field"),
        ),
        (
            json!({"issuer": iss, "jwks": JWKS, "jwksUri": "https://x/k"}),
            format!("{r0}: only one of jwks, jwks_uri"),
        ),
        (json!({"jwks": JWKS}), format!("{r0}.issuer: is required")),
        (
            json!({"issuer": "not-a-url"}),
            format!("{r0}: needs jwks or jwks_uri"),
        ),
    ];
    for (rule, want) in cases {
        let e = rule_error(rule.clone());
        assert!(
            e.starts_with(&want),
            "{rule}\n  got:  {e}\n  want: {want}..."
        );
    }
}

#[test]
fn resource_wrappers_and_workload_selection_are_refused_with_the_fix() {
    let e = error(json!({"requestAuthentication": {"kind": "RequestAuthentication", "spec": {}}}));
    assert!(
        e.starts_with(&format!("{RA}.kind: paste the resource's spec")),
        "{e}"
    );
    let e = error(json!({"authorizationPolicy": {"selector": {"matchLabels": {}}, "rules": [{}]}}));
    assert!(
        e.starts_with("istio.authorization_policy.selector: chooses workloads"),
        "{e}"
    );
    let e = error(json!({"requestAuthentication": [{}, {"targetRefs": []}]}));
    assert!(
        e.starts_with(&format!("{RA}[1].target_refs: chooses workloads")),
        "{e}"
    );
    assert!(
        error(json!({})).starts_with("istio: needs request_authentication or authorization_policy")
    );
    let e = crate::config::compile(r#"{"istio": {"authorizationPolicy": {}}, "rules": []}"#)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "istio: cannot be combined with rules: it brings its own providers and rule"
    );
}

#[test]
fn policy_errors_name_their_path() {
    let ap = "istio.authorization_policy";
    let policy = |p: Value| error(json!({"authorizationPolicy": p}));
    let cases = [
        (
            json!({"action": "AUDIT"}),
            format!("{ap}.action: AUDIT policies are not supported"),
        ),
        (
            json!({"action": "allow"}),
            format!("{ap}.action: unknown action \"allow\""),
        ),
        (
            json!({"action": "CUSTOM", "provider": {"name": "x"}}),
            format!("{ap}.action: CUSTOM"),
        ),
        (
            json!({"rules": [{"to": [{"operation": {"ports": ["8080"]}}]}]}),
            format!("{ap}.rules[0].to[0].operation.ports: is not supported"),
        ),
        (
            json!({"rules": [{"to": [{"operation": {"paths": ["/a", "/b/{*}"]}}]}]}),
            format!("{ap}.rules[0].to[0].operation.paths[1]: path templates"),
        ),
        (
            json!({"rules": [{"to": [{"operation": {"method": ["GET"]}}]}]}),
            format!("{ap}.rules[0].to[0].operation.method: unknown field"),
        ),
        (
            json!({"rules": [{"when": [{"key": "request.headers[a][b]", "values": ["x"]}]}]}),
            format!("{ap}.rules[0].when[0].key: \"request.headers[a][b]\": expected"),
        ),
        (
            json!({"rules": [{"from": [{"source": {"namespaces": ["a"]}}]}]}),
            format!("{ap}.rules[0].from[0].source.namespaces: is not supported"),
        ),
        (
            json!({"rules": [{"from": [{"source": {"requestPrincipal": ["*"]}}]}]}),
            format!("{ap}.rules[0].from[0].source.requestPrincipal: unknown field"),
        ),
        (
            json!({"rules": [{"when": [{"key": "source.ip", "values": ["1.2.3.4"]}]}]}),
            format!("{ap}.rules[0].when[0].key: \"source.ip\" is not supported"),
        ),
        (
            json!({"rules": [{"when": [{"key": "request.auth.claims[a]b", "values": ["x"]}]}]}),
            format!("{ap}.rules[0].when[0].key: \"request.auth.claims[a]b\": expected"),
        ),
        (
            json!({"rules": [{"when": [{"key": "request.auth.claims[]", "values": ["x"]}]}]}),
            format!("{ap}.rules[0].when[0].key: "),
        ),
        (
            json!({"rules": [{"when": [{"key": "request.auth.claims[a]"}]}]}),
            format!("{ap}.rules[0].when[0]: needs values or not_values"),
        ),
        (
            json!({"rules": [{"when": [{"values": ["x"]}]}]}),
            format!("{ap}.rules[0].when[0].key: is required"),
        ),
        (
            json!({"rules": [{"when": [{"key": "request.auth.principal", "values": [1]}]}]}),
            format!("{ap}.rules[0].when[0].values[0]: expected a string"),
        ),
    ];
    for (p, want) in cases {
        let e = policy(p.clone());
        assert!(e.starts_with(&want), "{p}\n  got:  {e}\n  want: {want}...");
    }
}
