//! The one place a verification outcome becomes what goes on the wire:
//! status, body and `WWW-Authenticate`, as Envoy's `jwt_authn` answers.

use crate::error::Status;
use crate::request::Headers;
use crate::rules::Denied;

/// Envoy caps the path it echoes in the realm.
const MAX_REALM_PATH: usize = 256;

/// A local reply that ends the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub status: u32,
    pub body: String,
    /// `None`: the host's default (`text/plain` for Envoy's local replies).
    pub content_type: Option<&'static str>,
    /// `None` for Istio's RBAC denial, which sends no challenge.
    pub www_authenticate: Option<String>,
}

/// The body of Envoy's RBAC filter's 403, which Istio's
/// `AuthorizationPolicy` answers with.
pub const RBAC_DENIED: &str = "RBAC: access denied";

/// The realm of a future denial: the request URI as it arrived, captured
/// before verification changes the path (a removed `access_token`).
pub fn realm(headers: &Headers) -> String {
    let scheme = headers.get("x-forwarded-proto").unwrap_or("");
    let host = headers.get(":authority").unwrap_or("");
    let path = headers
        .get("x-envoy-original-path")
        .unwrap_or_else(|| headers.path());
    let mut end = path.len().min(MAX_REALM_PATH);
    while !path.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let path = path.get(..end).unwrap_or("");
    format!("{scheme}://{host}{path}")
}

/// RFC 6750 §3: a missing token gets a bare challenge; a bad token
/// `error="invalid_token"` (401, or 403 for a disallowed audience, as Envoy);
/// a valid token that fails `authorize` 403 `error="insufficient_scope"`,
/// with the needed `scope` when a scope condition failed. A policy read the
/// Istio way is refused as Envoy's RBAC filter refuses: 403, `RBAC: access
/// denied`, no challenge.
pub fn denial(denied: &Denied<'_>, realm: &str, problem_details: bool) -> Denial {
    let (status, error, scope, body) = match denied {
        Denied::Authn(s) => {
            let status = if *s == Status::JwtAudienceNotAllowed {
                403
            } else {
                401
            };
            let error = (*s != Status::JwtMissed).then_some("invalid_token");
            (status, error, None, s.message().to_owned())
        }
        Denied::Authz(f) => (
            403,
            Some("insufficient_scope"),
            f.scope(),
            format!("Jwt is not authorized: {}", f.describe()),
        ),
        Denied::Rbac => (403, None, None, RBAC_DENIED.to_owned()),
    };
    let mut www_authenticate = format!("Bearer realm=\"{realm}\"");
    if let Some(e) = error {
        www_authenticate.push_str(&format!(", error=\"{e}\""));
    }
    if let Some(s) = scope {
        www_authenticate.push_str(&format!(", scope=\"{s}\""));
    }
    // Envoy's RBAC filter sends no challenge.
    let www_authenticate = (!matches!(denied, Denied::Rbac)).then_some(www_authenticate);
    if !problem_details {
        return Denial {
            status,
            body,
            content_type: None,
            www_authenticate,
        };
    }
    Denial {
        status,
        body: problem_json(status, &body, error, scope),
        content_type: Some("application/problem+json"),
        www_authenticate,
    }
}

/// RFC 9457 problem details, members in a fixed order.
fn problem_json(status: u32, detail: &str, error: Option<&str>, scope: Option<&str>) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let title = if status == 403 {
        "Forbidden"
    } else {
        "Unauthorized"
    };
    let mut out = format!(
        "{{\"type\":\"about:blank\",\"title\":\"{title}\",\"status\":{status},\"detail\":{}",
        quote(detail)
    );
    if let Some(e) = error {
        out.push_str(&format!(",\"error\":{}", quote(e)));
    }
    if let Some(s) = scope {
        out.push_str(&format!(",\"scope\":{}", quote(s)));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str) -> Headers {
        Headers::new(vec![
            (":path".into(), path.into()),
            (":authority".into(), "api.example.com".into()),
            ("x-forwarded-proto".into(), "http".into()),
        ])
    }

    #[test]
    fn missing_token_is_401_without_error_attribute() {
        let d = denial(
            &Denied::Authn(Status::JwtMissed),
            &realm(&req("/a?b=c")),
            false,
        );
        assert_eq!(d.status, 401);
        assert_eq!(d.body, "Jwt is missing");
        assert_eq!(
            d.www_authenticate.as_deref(),
            Some("Bearer realm=\"http://api.example.com/a?b=c\"")
        );
    }

    #[test]
    fn audience_is_403_and_other_failures_say_invalid_token() {
        let d = denial(
            &Denied::Authn(Status::JwtAudienceNotAllowed),
            &realm(&req("/")),
            false,
        );
        assert_eq!(d.status, 403);
        assert!(d
            .www_authenticate
            .is_some_and(|w| w.ends_with(", error=\"invalid_token\"")));
        assert_eq!(
            denial(&Denied::Authn(Status::JwtExpired), &realm(&req("/")), false).status,
            401
        );
    }

    #[test]
    fn rbac_denial_is_envoys_rbac_reply_without_a_challenge() {
        let d = denial(&Denied::Rbac, &realm(&req("/")), false);
        assert_eq!(
            (
                d.status,
                d.body.as_str(),
                d.content_type,
                d.www_authenticate
            ),
            (403, "RBAC: access denied", None, None)
        );
        let d = denial(&Denied::Rbac, &realm(&req("/")), true);
        assert_eq!(d.www_authenticate, None);
        assert_eq!(d.content_type, Some("application/problem+json"));
        assert_eq!(
            d.body,
            r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"RBAC: access denied"}"#
        );
    }

    #[test]
    fn realm_path_is_capped() {
        let long = format!("/{}", "a".repeat(400));
        let d = denial(
            &Denied::Authn(Status::JwtMissed),
            &realm(&req(&long)),
            false,
        );
        assert_eq!(
            d.www_authenticate,
            Some(format!(
                "Bearer realm=\"http://api.example.com{}\"",
                &long[..256]
            ))
        );
    }
}
