//! The one place a refusal becomes what goes on the wire: status, body,
//! content type and `WWW-Authenticate`, as Envoy's `jwt_authn` (or Istio's
//! RBAC filter) answers, and the module's own faults.

use crate::error::Status;
use crate::request::Headers;
use crate::rules::Denial;

/// Envoy caps the path it echoes in the realm.
const MAX_REALM_PATH: usize = 256;

/// A local reply that ends the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub body: String,
    /// `None`: the host's default (`text/plain` for Envoy's local replies).
    pub content_type: Option<&'static str>,
    /// `None` for Istio's RBAC denial and the module's faults, which send
    /// no challenge.
    pub www_authenticate: Option<String>,
}

/// The body of Envoy's RBAC filter's 403, which Istio's
/// `AuthorizationPolicy` answers with.
pub const RBAC_DENIED: &str = "RBAC: access denied";

/// The realm of a future denial: the request URI as it arrived, captured
/// before verification changes the path (a removed `access_token`).
///
/// Envoy's connection manager sets `x-forwarded-proto`, and its `:authority`
/// is the client's `Host`. Kong's host (ngx_wasm_module) has neither: its
/// `:authority` is the server's own name and port, and there the client's
/// `Host` is a plain `host` header. So: the first non-empty of
/// `x-forwarded-proto`, `:scheme`, else `http`; of `host`, `:authority`.
pub fn realm(headers: &Headers) -> String {
    let first = |names: [&str; 2]| {
        names
            .iter()
            .filter_map(|n| headers.get(n))
            .find(|v| !v.is_empty())
    };
    let scheme = first(["x-forwarded-proto", ":scheme"]).unwrap_or("http");
    let host = first(["host", ":authority"]).unwrap_or("");
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

/// Every reply the module sends. RFC 6750 §3: a missing token gets a bare
/// challenge; a bad token `error="invalid_token"` (401, or 403 for a
/// disallowed audience, as Envoy); a valid token that fails `authorize` 403
/// `error="insufficient_scope"`, with the needed `scope` when a scope
/// condition failed. A policy read the Istio way is refused as Envoy's RBAC
/// filter refuses: 403, `RBAC: access denied`, no challenge. The module's
/// own faults are a plain 500/503 with no challenge, whatever
/// `problem_details` says (they are not about the client's credentials).
/// An introspection endpoint that cannot answer is a 503 without a
/// challenge (the token is not known bad).
pub fn reply(denial: &Denial<'_>, realm: &str, problem_details: bool) -> Reply {
    let (status, error, scope, body) = match denial {
        // The token is not known bad: no challenge, and a status clients
        // and load balancers retry, rather than one that makes a client
        // drop a good token and log in again while the endpoint is down.
        Denial::Authn(Status::IntrospectionUnavailable) => {
            let body = Status::IntrospectionUnavailable.message();
            return Reply {
                status: 503,
                body: match problem_details {
                    true => problem_json(503, body, None, None),
                    false => body.to_owned(),
                },
                content_type: problem_details.then_some("application/problem+json"),
                www_authenticate: None,
            };
        }
        Denial::Authn(s) => {
            let status = if *s == Status::JwtAudienceNotAllowed {
                403
            } else {
                401
            };
            let error = (*s != Status::JwtMissed).then_some("invalid_token");
            (status, error, None, s.message().to_owned())
        }
        Denial::Authz(f) => (
            403,
            Some("insufficient_scope"),
            f.scope(),
            format!("Jwt is not authorized: {}", f.describe()),
        ),
        Denial::Rbac => (403, None, None, RBAC_DENIED.to_owned()),
        Denial::Fault(fault) => {
            return Reply {
                status: fault.status(),
                body: fault.to_string(),
                content_type: None,
                www_authenticate: None,
            }
        }
    };
    let mut www_authenticate = format!("Bearer realm=\"{realm}\"");
    if let Some(e) = error {
        www_authenticate.push_str(&format!(", error=\"{e}\""));
    }
    if let Some(s) = scope {
        www_authenticate.push_str(&format!(", scope=\"{s}\""));
    }
    // Envoy's RBAC filter sends no challenge.
    let www_authenticate = (!matches!(denial, Denial::Rbac)).then_some(www_authenticate);
    if !problem_details {
        return Reply {
            status,
            body,
            content_type: None,
            www_authenticate,
        };
    }
    Reply {
        status,
        body: problem_json(status, &body, error, scope),
        content_type: Some("application/problem+json"),
        www_authenticate,
    }
}

/// RFC 9457 problem details, members in a fixed order.
fn problem_json(status: u32, detail: &str, error: Option<&str>, scope: Option<&str>) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let title = match status {
        403 => "Forbidden",
        503 => "Service Unavailable",
        _ => "Unauthorized",
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
mod tests;
