//! The one place a refusal becomes what goes on the wire: status, body,
//! content type and `WWW-Authenticate`, as Envoy's `jwt_authn` (or Istio's
//! RBAC filter) answers, and the module's own faults.

use crate::dpop::settings::Offer;
use crate::error::Status;
use crate::outcome::Reason;
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
    /// `DPoP-Nonce`: the nonce a `use_dpop_nonce` reply hands the client.
    pub dpop_nonce: Option<String>,
}

/// The body of Envoy's RBAC filter's 403, which Istio's
/// `AuthorizationPolicy` answers with.
pub const RBAC_DENIED: &str = "RBAC: access denied";

/// The realm of a denial: the request URI as it arrived, before
/// verification changed the path (a removed `access_token`): from the
/// headers' original values, so it is only built for a request refused.
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
            .filter_map(|n| headers.original(n))
            .find(|v| !v.is_empty())
    };
    let scheme = first(["x-forwarded-proto", ":scheme"]).unwrap_or("http");
    let host = first(["host", ":authority"]).unwrap_or("");
    let path = headers
        .original("x-envoy-original-path")
        .or_else(|| headers.original(":path"))
        .unwrap_or("");
    let mut end = path.len().min(MAX_REALM_PATH);
    while !path.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let path = path.get(..end).unwrap_or("");
    // Not `format!`: its machinery costs more than the copy, on every request.
    [scheme, "://", host, path].concat()
}

/// The status and `error` of an authentication failure. RFC 6750 §3: a
/// missing token gets a bare challenge, a bad one `invalid_token` (401, or
/// 403 for a disallowed audience, as Envoy). RFC 9449 §7.1: a bad proof
/// `invalid_dpop_proof`, a missing nonce `use_dpop_nonce`; two tokens are
/// a 400 `invalid_request`. `None` status: a 503 without a challenge (the
/// token is not known bad: an introspection endpoint that cannot answer,
/// a full replay store; clients and load balancers retry a 503, where a
/// 401 makes a client drop a good token and log in again).
fn authn_outcome(s: Status) -> Option<(u32, Option<&'static str>)> {
    use Status::*;
    Some(match s {
        IntrospectionUnavailable | DpopReplayStoreFull => return None,
        JwtMissed => (401, None),
        JwtAudienceNotAllowed => (403, Some("invalid_token")),
        DpopSchemesMixed => (400, Some("invalid_request")),
        DpopNonceRequired => (401, Some("use_dpop_nonce")),
        s if bad_proof(s) => (401, Some("invalid_dpop_proof")),
        _ => (401, Some("invalid_token")),
    })
}

/// Whether a status refuses the DPoP proof (`invalid_dpop_proof`): it
/// failed a check of RFC 9449 §4.3, or was used before.
fn bad_proof(s: Status) -> bool {
    matches!(Reason::from(s), Reason::DpopInvalid | Reason::DpopReplay)
}

/// Whether a status is about a DPoP request itself (its error then always
/// goes on the DPoP challenge). A bound token sent as Bearer, or a Bearer
/// token where DPoP is required, is refused as the Bearer token it came as
/// (RFC 9449 §7.2): that error goes on Bearer where Bearer is offered.
fn about_dpop(s: Status) -> bool {
    use Status::*;
    bad_proof(s)
        || matches!(
            s,
            DpopNonceRequired | DpopTokenNotBound | DpopSchemesMixed | DpopReplayStoreFull
        )
}

/// A rule's DPoP challenge for one denial.
struct Dpop<'a> {
    offer: &'a Offer,
    used_dpop: bool,
}

/// `WWW-Authenticate`: Bearer (unless the rule only takes DPoP), then DPoP
/// with its algorithms when the rule takes it. The `error` (and `scope`)
/// go on the scheme the request used, or on DPoP when `about_dpop`.
fn challenge(
    realm: &str,
    dpop: Option<&Dpop<'_>>,
    about_dpop: bool,
    error: Option<&str>,
    scope: Option<&str>,
) -> String {
    let params = |error: Option<&str>| {
        let mut out = String::new();
        if let Some(e) = error {
            out.push_str(&format!(", error=\"{e}\""));
            if let Some(s) = scope {
                out.push_str(&format!(", scope=\"{s}\""));
            }
        }
        out
    };
    let Some(d) = dpop else {
        return format!("Bearer realm=\"{realm}\"{}", params(error));
    };
    let on_dpop = about_dpop || d.used_dpop || !d.offer.bearer;
    let mut out = String::new();
    if d.offer.bearer {
        let e = if on_dpop { None } else { error };
        out.push_str(&format!("Bearer realm=\"{realm}\"{}, ", params(e)));
    }
    let e = if on_dpop { error } else { None };
    let algs = &d.offer.algs;
    out.push_str(&format!(
        "DPoP realm=\"{realm}\", algs=\"{algs}\"{}",
        params(e)
    ));
    out
}

/// The reply to an authentication failure (with the rule's DPoP offer).
fn authn_reply(
    status: Status,
    realm: &str,
    dpop: Option<Dpop<'_>>,
    nonce: Option<&str>,
    problem_details: bool,
) -> Reply {
    let body = status.message();
    let Some((code, error)) = authn_outcome(status) else {
        return Reply {
            status: 503,
            body: match problem_details {
                true => problem_json(503, body, None, None),
                false => body.to_owned(),
            },
            content_type: problem_details.then_some("application/problem+json"),
            www_authenticate: None,
            dpop_nonce: None,
        };
    };
    Reply {
        status: code,
        body: match problem_details {
            true => problem_json(code, body, error, None),
            false => body.to_owned(),
        },
        content_type: problem_details.then_some("application/problem+json"),
        www_authenticate: Some(challenge(
            realm,
            dpop.as_ref(),
            about_dpop(status),
            error,
            None,
        )),
        dpop_nonce: nonce.map(str::to_owned),
    }
}

/// Every reply the module sends. Authentication failures as
/// [`authn_outcome`] says, challenging as [`challenge`] says; a valid token
/// that fails `authorize` 403 `error="insufficient_scope"`, with the
/// needed `scope` when a scope condition failed. A policy read the Istio
/// way is refused as Envoy's RBAC filter refuses: 403, `RBAC: access
/// denied`, no challenge. The module's own faults are a plain 500/503 with
/// no challenge, whatever `problem_details` says (they are not about the
/// client's credentials).
pub fn reply(denial: &Denial<'_>, realm: &str, problem_details: bool) -> Reply {
    let (status, body, scope) = match denial {
        Denial::Authn(s) => return authn_reply(*s, realm, None, None, problem_details),
        Denial::Dpop {
            status,
            offer,
            used_dpop,
            nonce,
        } => {
            let dpop = Dpop {
                offer,
                used_dpop: *used_dpop,
            };
            return authn_reply(
                *status,
                realm,
                Some(dpop),
                nonce.as_deref(),
                problem_details,
            );
        }
        Denial::Authz(f, _) => (
            403,
            format!("Jwt is not authorized: {}", f.describe()),
            f.scope(),
        ),
        Denial::Rbac => (403, RBAC_DENIED.to_owned(), None),
        Denial::Fault(fault) => {
            return Reply {
                status: fault.status(),
                body: fault.to_string(),
                content_type: None,
                www_authenticate: None,
                dpop_nonce: None,
            }
        }
    };
    // Envoy's RBAC filter sends no challenge.
    let error = (!matches!(denial, Denial::Rbac)).then_some("insufficient_scope");
    let dpop = match denial {
        Denial::Authz(_, Some((offer, used_dpop))) => Some(Dpop {
            offer,
            used_dpop: *used_dpop,
        }),
        _ => None,
    };
    let www_authenticate = error.map(|e| challenge(realm, dpop.as_ref(), false, Some(e), scope));
    Reply {
        status,
        body: match problem_details {
            true => problem_json(status, &body, error, scope),
            false => body,
        },
        content_type: problem_details.then_some("application/problem+json"),
        www_authenticate,
        dpop_nonce: None,
    }
}

/// RFC 9457 problem details, members in a fixed order.
fn problem_json(status: u32, detail: &str, error: Option<&str>, scope: Option<&str>) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let title = match status {
        400 => "Bad Request",
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
mod dpop_tests;
#[cfg(test)]
mod tests;
