//! The one place a verification outcome becomes what goes on the wire:
//! status, body and `WWW-Authenticate`, as Envoy's `jwt_authn` answers.

use crate::error::Status;
use crate::request::Headers;

/// Envoy caps the path it echoes in the realm.
const MAX_REALM_PATH: usize = 256;

/// A local reply that ends the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub status: u32,
    pub body: &'static str,
    pub www_authenticate: String,
}

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
        end -= 1;
    }
    let path = path.get(..end).unwrap_or("");
    format!("{scheme}://{host}{path}")
}

/// RFC 6750 §3: every failure except a missing token adds
/// `error="invalid_token"`. A disallowed audience is the only 403.
pub fn denial(status: Status, realm: &str) -> Denial {
    let code = if status == Status::JwtAudienceNotAllowed {
        403
    } else {
        401
    };
    let mut www_authenticate = format!("Bearer realm=\"{realm}\"");
    if status != Status::JwtMissed {
        www_authenticate.push_str(", error=\"invalid_token\"");
    }
    Denial {
        status: code,
        body: status.message(),
        www_authenticate,
    }
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
        let d = denial(Status::JwtMissed, &realm(&req("/a?b=c")));
        assert_eq!(d.status, 401);
        assert_eq!(d.body, "Jwt is missing");
        assert_eq!(
            d.www_authenticate,
            "Bearer realm=\"http://api.example.com/a?b=c\""
        );
    }

    #[test]
    fn audience_is_403_and_other_failures_say_invalid_token() {
        let d = denial(Status::JwtAudienceNotAllowed, &realm(&req("/")));
        assert_eq!(d.status, 403);
        assert!(d.www_authenticate.ends_with(", error=\"invalid_token\""));
        assert_eq!(denial(Status::JwtExpired, &realm(&req("/"))).status, 401);
    }

    #[test]
    fn realm_path_is_capped() {
        let long = format!("/{}", "a".repeat(400));
        let d = denial(Status::JwtMissed, &realm(&req(&long)));
        assert_eq!(
            d.www_authenticate,
            format!("Bearer realm=\"http://api.example.com{}\"", &long[..256])
        );
    }
}
