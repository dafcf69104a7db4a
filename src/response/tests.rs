//! Every reply the module sends: a table of each denial (status, body,
//! challenge), problem details, and the realm.

use super::*;
use crate::authz::{Condition, Failure};
use crate::error::Fault;
use crate::fixtures;

pub(super) const REALM: &str = "http://api.example.com/a?b=c";

/// `(status, body, error attribute)` of each authentication failure, as
/// Envoy's jwt_authn answers (our hardening statuses in its style).
const AUTHN: [(Status, u32, &str, Option<&str>); 40] = [
    (Status::JwtMissed, 401, "Jwt is missing", None),
    (
        Status::JwtNotYetValid,
        401,
        "Jwt not yet valid",
        Some("invalid_token"),
    ),
    (
        Status::JwtExpired,
        401,
        "Jwt is expired",
        Some("invalid_token"),
    ),
    (
        Status::JwtBadFormat,
        401,
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderBadBase64,
        401,
        "Jwt header is an invalid Base64url encoded",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderBadJson,
        401,
        "Jwt header is an invalid JSON",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderBadAlg,
        401,
        "Jwt header [alg] field is required and must be a string",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderNotImplementedAlg,
        401,
        "Jwt header [alg] is not supported",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderBadKid,
        401,
        "Jwt header [kid] field is not a string",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadBadBase64,
        401,
        "Jwt payload is an invalid Base64url encoded",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadBadJson,
        401,
        "Jwt payload is an invalid JSON",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadIssNotString,
        401,
        "Jwt payload [iss] field is not a string",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadSubNotString,
        401,
        "Jwt payload [sub] field is not a string",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadIatNotInteger,
        401,
        "Jwt payload [iat] field is not an integer",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadIatOutOfRange,
        401,
        "Jwt payload [iat] field is not a positive 64 bit integer",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadNbfNotInteger,
        401,
        "Jwt payload [nbf] field is not an integer",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadNbfOutOfRange,
        401,
        "Jwt payload [nbf] field is not a positive 64 bit integer",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadExpNotInteger,
        401,
        "Jwt payload [exp] field is not an integer",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadExpOutOfRange,
        401,
        "Jwt payload [exp] field is not a positive 64 bit integer",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadJtiNotString,
        401,
        "Jwt payload [jti] field is not a string",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadAudNotString,
        401,
        "Jwt payload [aud] field is not a string or string list",
        Some("invalid_token"),
    ),
    (
        Status::JwtSignatureBadBase64,
        401,
        "Jwt signature is an invalid Base64url encoded",
        Some("invalid_token"),
    ),
    (
        Status::JwtUnknownIssuer,
        401,
        "Jwt issuer is not configured",
        Some("invalid_token"),
    ),
    (
        Status::JwtAudienceNotAllowed,
        403,
        "Audiences in Jwt are not allowed",
        Some("invalid_token"),
    ),
    (
        Status::JwtVerificationFail,
        401,
        "Jwt verification fails",
        Some("invalid_token"),
    ),
    (
        Status::JwtSubjectNotAllowed,
        401,
        "Jwt verification fails",
        Some("invalid_token"),
    ),
    (
        Status::JwtLifetimeTooLong,
        401,
        "Jwt verification fails",
        Some("invalid_token"),
    ),
    (
        Status::JwtEd25519SignatureWrongLength,
        401,
        "Jwt ED25519 signature is wrong length",
        Some("invalid_token"),
    ),
    (
        Status::JwksKidAlgMismatch,
        401,
        "Jwks doesn't have key to match kid or alg from Jwt",
        Some("invalid_token"),
    ),
    (
        Status::JwksNoValidKeys,
        401,
        "Jwks doesn't have any valid public key",
        Some("invalid_token"),
    ),
    (
        Status::JwksFetchFail,
        401,
        "Jwks remote fetch is failed",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderAlgNotAllowed,
        401,
        "Jwt header [alg] is not allowed for this provider",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderTypNotRequired,
        401,
        "Jwt header [typ] is not the required type",
        Some("invalid_token"),
    ),
    (
        Status::JwtHeaderCritUnsupported,
        401,
        "Jwt header [crit] names an unsupported extension",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadRequiredClaimMissing,
        401,
        "Jwt payload is missing a required claim",
        Some("invalid_token"),
    ),
    (
        Status::JwtPayloadAuthTimeMissing,
        401,
        "Jwt payload [auth_time] field is missing or not a number",
        Some("invalid_token"),
    ),
    (
        Status::JwtAuthTimeTooOld,
        401,
        "Jwt auth_time is too old",
        Some("invalid_token"),
    ),
    (
        Status::TokenInactive,
        401,
        "Token is not active",
        Some("invalid_token"),
    ),
    (
        Status::TokenNotAccessToken,
        401,
        "Token is not an access token",
        Some("invalid_token"),
    ),
    // Not the client's fault: 503 and no challenge at all.
    (
        Status::IntrospectionUnavailable,
        503,
        "Token introspection is unavailable",
        None,
    ),
];

/// The module's faults: `(fault, status, body)`.
fn faults() -> [(Fault, u32, &'static str); 7] {
    [
        (Fault::NotConfigured, 500, "jwt-guard is not configured"),
        (
            Fault::HeadersUnreadable,
            500,
            "jwt-guard cannot read the request",
        ),
        (
            Fault::HeadersNotUpdated,
            500,
            "jwt-guard cannot update the request",
        ),
        (Fault::Busy, 503, "jwt-guard is busy"),
        (Fault::NoClock, 500, "jwt-guard cannot read the clock"),
        (
            Fault::InvalidHeaderValue("x-sub".into()),
            503,
            "invalid header value for: x-sub",
        ),
        (
            Fault::RepeatedHeader("x-org".into()),
            400,
            "jwt-guard cannot rewrite header x-org: it appears more than once",
        ),
    ]
}

pub(super) fn challenge(error: Option<&str>, scope: Option<&str>) -> String {
    let mut c = format!("Bearer realm=\"{REALM}\"");
    if let Some(e) = error {
        c += &format!(", error=\"{e}\"");
    }
    if let Some(s) = scope {
        c += &format!(", scope=\"{s}\"");
    }
    c
}

pub(super) fn scopes() -> Condition {
    Condition::Scopes {
        needed: vec!["orders:read".into(), "orders:write".into()],
        all: true,
        joined: "orders:read orders:write".into(),
    }
}

fn claim_test() -> Condition {
    Condition::Not {
        inner: Box::new(Condition::All(Vec::new())),
        path: "rules[0].authorize.not".into(),
    }
}

#[test]
fn every_denial_has_its_status_body_and_challenge() {
    let covered: Vec<Status> = AUTHN
        .iter()
        .chain(super::dpop_tests::DPOP.iter())
        .map(|(s, ..)| *s)
        .collect();
    assert_eq!(
        covered,
        Status::ALL,
        "the table lists every status in order"
    );
    for (status, code, body, error) in AUTHN.into_iter().chain(super::dpop_tests::DPOP) {
        let r = reply(&Denial::Authn(status), REALM, false);
        let want = Reply {
            status: code,
            body: body.to_owned(),
            content_type: None,
            www_authenticate: (code != 503).then(|| challenge(error, None)),
            dpop_nonce: None,
        };
        assert_eq!(r, want, "{status:?}");
    }
    let (s, o) = (scopes(), claim_test());
    let authz = [
        (Failure { condition: &s, op: "scopes" },
         "Jwt is not authorized: token lacks required scope (needs all of: orders:read orders:write)",
         Some("orders:read orders:write")),
        (Failure { condition: &o, op: "not" },
         "Jwt is not authorized: the excluded condition at rules[0].authorize.not is met",
         None),
    ];
    for (failure, body, scope) in authz {
        let r = reply(&Denial::Authz(failure, None), REALM, false);
        assert_eq!(
            (r.status, r.body.as_str(), r.content_type),
            (403, body, None)
        );
        assert_eq!(
            r.www_authenticate,
            Some(challenge(Some("insufficient_scope"), scope))
        );
    }
    let r = reply(&Denial::Rbac, REALM, false);
    assert_eq!(
        (
            r.status,
            r.body.as_str(),
            r.content_type,
            r.www_authenticate
        ),
        (403, "RBAC: access denied", None, None)
    );
    for (fault, code, body) in faults() {
        for problem_details in [false, true] {
            let r = reply(&Denial::Fault(fault.clone()), REALM, problem_details);
            let want = Reply {
                status: code,
                body: body.to_owned(),
                content_type: None,
                www_authenticate: None,
                dpop_nonce: None,
            };
            assert_eq!(r, want, "{fault:?}");
        }
    }
}

#[test]
fn problem_details_carry_the_same_answer_as_json() {
    let r = reply(&Denial::Authn(Status::JwtExpired), REALM, true);
    assert_eq!(r.content_type, Some("application/problem+json"));
    assert_eq!(
        r.www_authenticate,
        Some(challenge(Some("invalid_token"), None))
    );
    assert_eq!(
        r.body,
        r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"Jwt is expired","error":"invalid_token"}"#
    );
    let s = scopes();
    let f = Failure {
        condition: &s,
        op: "scopes",
    };
    let r = reply(&Denial::Authz(f, None), REALM, true);
    assert_eq!(
        r.body,
        r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"Jwt is not authorized: token lacks required scope (needs all of: orders:read orders:write)","error":"insufficient_scope","scope":"orders:read orders:write"}"#
    );
    let r = reply(&Denial::Rbac, REALM, true);
    assert_eq!(r.www_authenticate, None);
    assert_eq!(
        r.body,
        r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"RBAC: access denied"}"#
    );
    let r = reply(
        &Denial::Authn(Status::IntrospectionUnavailable),
        REALM,
        true,
    );
    assert_eq!(
        (r.status, r.www_authenticate, r.content_type),
        (503, None, Some("application/problem+json"))
    );
    assert_eq!(
        r.body,
        r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"Token introspection is unavailable"}"#
    );
}

#[test]
fn realm_is_the_uri_as_it_arrived_capped_at_256_path_characters() {
    let req = |path: &str| {
        fixtures::headers(&[
            (":path", path),
            (":authority", "api.example.com"),
            ("x-forwarded-proto", "http"),
        ])
    };
    assert_eq!(realm(&req("/a?b=c")), REALM);
    let long = format!("/{}", "a".repeat(400));
    assert_eq!(
        realm(&req(&long)),
        format!("http://api.example.com{}", &long[..256])
    );
    let rewritten = fixtures::headers(&[
        (":path", "/internal"),
        (":authority", "api.example.com"),
        ("x-forwarded-proto", "http"),
        ("x-envoy-original-path", "/a?b=c"),
    ]);
    assert_eq!(realm(&rewritten), REALM);
}

#[test]
fn realm_is_the_uri_as_it_arrived_after_verification_changed_the_request() {
    let mut h = fixtures::headers(&[
        (":path", "/a?b=c&access_token=t"),
        (":authority", "api.example.com"),
        ("x-forwarded-proto", "http"),
    ]);
    let arrived = realm(&h);
    h.set(":path", "/a?b=c".into());
    h.remove("x-forwarded-proto");
    h.add("x-envoy-original-path", "/elsewhere".into());
    h.set(":authority", "spoofed.example.com".into());
    assert_eq!(realm(&h), arrived);
    assert_eq!(arrived, "http://api.example.com/a?b=c&access_token=t");
}

#[test]
fn realm_falls_back_to_the_host_header_and_http_where_envoy_headers_are_missing() {
    // Kong's host: no x-forwarded-proto, `:authority` is the server's name.
    let kong = fixtures::headers(&[
        (":path", "/a?b=c"),
        (":authority", "gateway.internal:8000"),
        ("host", "api.example.com"),
    ]);
    assert_eq!(realm(&kong), REALM);
    let https = fixtures::headers(&[
        (":path", "/a?b=c"),
        (":scheme", "https"),
        (":authority", "api.example.com"),
        ("x-forwarded-proto", ""),
    ]);
    assert_eq!(realm(&https), "https://api.example.com/a?b=c");
    let bare = fixtures::headers(&[(":path", "/a")]);
    assert_eq!(realm(&bare), "http:///a");
}
