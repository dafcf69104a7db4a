//! Parsing a compact JWS into its parts, in jwt_verify_lib's order of checks,
//! so the first problem found is the one Envoy reports.

use crate::b64;
use crate::claims::{self, Lookup, Object};
use crate::error::Status;
use crate::jws::Alg;
use std::borrow::Cow;
use std::rc::Rc;

/// A structurally valid token: header and payload decoded, registered claims
/// typed. Nothing here is trusted until the signature has been checked; once
/// it has, the verified-token cache keeps this (`crate::cache`), so a repeated
/// token is not decoded again.
#[derive(Debug)]
pub struct Jwt {
    pub alg: Alg,
    pub kid: Option<String>,
    /// The whole header, for members Envoy ignores but a provider's
    /// hardening may check (`typ`, `crit`); kept as parsed, no copy.
    pub header: Object,
    /// Shared with the rule's `authorize` check (`authn::Verified`).
    pub payload: Rc<Object>,
    /// `iss`, empty when absent.
    pub iss: String,
    /// `sub`, empty when absent.
    pub sub: String,
    /// `nbf`, 0 when absent.
    pub nbf: u64,
    /// `exp`, 0 when absent (and 0 means "no expiry", as in Envoy).
    pub exp: u64,
    pub audiences: Vec<String>,
}

/// What a token's signature covers and the signature itself.
#[derive(Debug)]
pub struct Signed<'a> {
    /// `header.payload`: borrowed from the token unless empty segments had
    /// to be skipped.
    pub signing_input: Cow<'a, str>,
    pub signature: Vec<u8>,
}

/// The three non-empty segments (Envoy skips empty ones: `h..p.s` and
/// `.h.p.s` are accepted, and the signature covers `h.p` rebuilt).
fn segments(token: &str) -> Result<(&str, &str, &str), Status> {
    let mut parts = token.split('.').filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(Status::JwtBadFormat),
    }
}

/// The payload segment as received (base64url), for `forward_payload_header`.
pub fn payload_segment(token: &str) -> &str {
    segments(token).map_or("", |(_, p, _)| p)
}

fn signed<'t>(token: &'t str, h: &str, p: &str, s: &str) -> Result<Signed<'t>, Status> {
    // Usually the token starts `h.p.`: borrow that instead of rebuilding it.
    let canonical = token
        .strip_prefix(h)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|rest| rest.starts_with(p));
    let signing_input = match token.get(..h.len().saturating_add(1).saturating_add(p.len())) {
        Some(prefix) if canonical => Cow::Borrowed(prefix),
        _ => Cow::Owned(format!("{h}.{p}")),
    };
    let signature = b64::decode_url(s.as_bytes()).ok_or(Status::JwtSignatureBadBase64)?;
    Ok(Signed {
        signing_input,
        signature,
    })
}

/// The signed parts of a token already parsed once (a cached token met with
/// other keys than it was verified with).
pub fn signed_parts(token: &str) -> Result<Signed<'_>, Status> {
    let (h, p, s) = segments(token)?;
    signed(token, h, p, s)
}

fn lookup_u64(obj: &Object, name: &str, wrong: Status, range: Status) -> Result<u64, Status> {
    match claims::get_u64(obj, name) {
        Lookup::Found(v) => Ok(v),
        Lookup::Missing => Ok(0),
        Lookup::WrongType => Err(wrong),
        Lookup::OutOfRange => Err(range),
    }
}

fn lookup_string(obj: &Object, name: &str, wrong: Status) -> Result<Option<String>, Status> {
    match claims::get_str(obj, name) {
        Lookup::Found(s) => Ok(Some(s.to_owned())),
        Lookup::Missing => Ok(None),
        _ => Err(wrong),
    }
}

/// The registered claims Envoy reads, typed: `iss`, `sub`, `nbf`, `exp`,
/// `aud` (and `iat`, `jti` checked for type only).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Registered {
    /// `iss`, empty when absent.
    pub iss: String,
    /// `sub`, empty when absent.
    pub sub: String,
    /// `nbf`, 0 when absent.
    pub nbf: u64,
    /// `exp`, 0 when absent.
    pub exp: u64,
    pub audiences: Vec<String>,
}

/// Reads a claim set's registered claims, in jwt_verify_lib's order (a
/// token's payload, or an introspection answer, RFC 7662 §2.2).
pub fn registered(payload: &Object) -> Result<Registered, Status> {
    let iss = lookup_string(payload, "iss", Status::JwtPayloadIssNotString)?.unwrap_or_default();
    let sub = lookup_string(payload, "sub", Status::JwtPayloadSubNotString)?.unwrap_or_default();
    lookup_u64(
        payload,
        "iat",
        Status::JwtPayloadIatNotInteger,
        Status::JwtPayloadIatOutOfRange,
    )?;
    let nbf = lookup_u64(
        payload,
        "nbf",
        Status::JwtPayloadNbfNotInteger,
        Status::JwtPayloadNbfOutOfRange,
    )?;
    let exp = lookup_u64(
        payload,
        "exp",
        Status::JwtPayloadExpNotInteger,
        Status::JwtPayloadExpOutOfRange,
    )?;
    lookup_string(payload, "jti", Status::JwtPayloadJtiNotString)?;
    let audiences = match claims::get_audiences(payload) {
        Lookup::Found(a) => a,
        Lookup::Missing => Vec::new(),
        _ => return Err(Status::JwtPayloadAudNotString),
    };
    Ok(Registered {
        iss,
        sub,
        nbf,
        exp,
        audiences,
    })
}

/// Envoy's time check: not before `nbf - skew`, not after `exp + skew`
/// (an `exp` of 0 means none).
pub fn check_time(nbf: u64, exp: u64, now: u64, skew: u64) -> Result<(), Status> {
    if now.saturating_add(skew) < nbf {
        return Err(Status::JwtNotYetValid);
    }
    if exp != 0 && now > exp.saturating_add(skew) {
        return Err(Status::JwtExpired);
    }
    Ok(())
}

/// Whether a token has a JWT's shape: three segments and a header that is
/// a JSON object. An introspection provider sends only other tokens to the
/// endpoint unless told to send these too.
pub fn looks_like_jwt(token: &str) -> bool {
    segments(token).is_ok_and(|(h, _, _)| {
        b64::decode_url(h.as_bytes())
            .is_some_and(|bytes| claims::parse_token_object(&bytes).is_some())
    })
}

/// Parses `token`. Checks run cheapest first and in Envoy's order.
pub fn parse(token: &str) -> Result<(Jwt, Signed<'_>), Status> {
    let (h, p, s) = segments(token)?;

    let header_bytes = b64::decode_url(h.as_bytes()).ok_or(Status::JwtHeaderBadBase64)?;
    let header = claims::parse_token_object(&header_bytes).ok_or(Status::JwtHeaderBadJson)?;
    let alg = match claims::get_str(&header, "alg") {
        Lookup::Found(name) => Alg::from_name(name).ok_or(Status::JwtHeaderNotImplementedAlg)?,
        _ => return Err(Status::JwtHeaderBadAlg),
    };
    let kid = lookup_string(&header, "kid", Status::JwtHeaderBadKid)?;

    let payload_bytes = b64::decode_url(p.as_bytes()).ok_or(Status::JwtPayloadBadBase64)?;
    let payload = claims::parse_token_object(&payload_bytes).ok_or(Status::JwtPayloadBadJson)?;
    let Registered {
        iss,
        sub,
        nbf,
        exp,
        audiences,
    } = registered(&payload)?;
    let signed = signed(token, h, p, s)?;

    let jwt = Jwt {
        alg,
        kid,
        header,
        payload: Rc::new(payload),
        iss,
        sub,
        nbf,
        exp,
        audiences,
    };
    Ok((jwt, signed))
}

impl Jwt {
    /// The header's `typ` when it is a string (a non-string `typ` is no type).
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(serde_json::Value::as_str)
    }

    /// Whether the header has a `crit` member at all, whatever its value:
    /// any critical extension is one jwt-guard does not understand.
    pub fn has_crit(&self) -> bool {
        self.header.contains_key("crit")
    }

    /// Envoy's time check: not before `nbf - skew`, not after `exp + skew`
    /// (an `exp` of 0 means none).
    pub fn check_time(&self, now: u64, skew: u64) -> Result<(), Status> {
        check_time(self.nbf, self.exp, now, skew)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(json: &str) -> String {
        crate::fixtures::b64url(json.as_bytes())
    }

    fn tok(h: &str, p: &str) -> String {
        format!("{}.{}.c2ln", seg(h), seg(p))
    }

    const H: &str = r#"{"alg":"RS256","kid":"k1"}"#;

    #[test]
    fn well_formed_token_exposes_registered_claims() {
        let t = tok(H, r#"{"iss":"i","sub":"s","aud":["a"],"exp":10,"nbf":5}"#);
        let (jwt, signed) = parse(&t).unwrap();
        assert_eq!(jwt.alg, Alg::RS256);
        assert_eq!(jwt.kid.as_deref(), Some("k1"));
        assert_eq!((jwt.iss.as_str(), jwt.sub.as_str()), ("i", "s"));
        assert_eq!((jwt.nbf, jwt.exp), (5, 10));
        assert_eq!(jwt.audiences, vec!["a".to_owned()]);
        assert_eq!(signed.signature, b"sig");
        assert!(matches!(signed.signing_input, Cow::Borrowed(_)));
        assert_eq!(format!("{}.c2ln", signed.signing_input), t);
        assert_eq!(payload_segment(&t), t.split('.').nth(1).unwrap());
    }

    #[test]
    fn wrong_number_of_segments_or_empty_segment_is_bad_format() {
        for t in ["a.b", "a.b.c.d", "a..b", "a.b.", "..a.b", ""] {
            assert_eq!(parse(t).unwrap_err(), Status::JwtBadFormat, "{t}");
        }
    }

    #[test]
    fn empty_segments_are_skipped_like_envoy() {
        let t = tok(H, "{}");
        let (h, rest) = t.split_once('.').unwrap();
        for shaped in [format!(".{t}"), format!("{h}..{rest}"), format!("{t}.")] {
            let (_, signed) = parse(&shaped).unwrap();
            assert_eq!(signed.signing_input, t.rsplit_once('.').unwrap().0);
            let again = signed_parts(&shaped).unwrap();
            assert_eq!(again.signing_input, signed.signing_input);
            assert_eq!(again.signature, signed.signature);
            assert_eq!(payload_segment(&shaped), payload_segment(&t));
        }
    }

    #[test]
    fn each_malformed_part_reports_its_own_status() {
        let p = seg("{}");
        let cases = [
            (format!("a+b.{p}.c2ln"), Status::JwtHeaderBadBase64),
            (tok("[1]", "{}"), Status::JwtHeaderBadJson),
            (tok("{}", "{}"), Status::JwtHeaderBadAlg),
            (
                tok(r#"{"alg":"none"}"#, "{}"),
                Status::JwtHeaderNotImplementedAlg,
            ),
            (
                tok(r#"{"alg":"rs256"}"#, "{}"),
                Status::JwtHeaderNotImplementedAlg,
            ),
            (
                tok(r#"{"alg":"RS256","kid":1}"#, "{}"),
                Status::JwtHeaderBadKid,
            ),
            (tok(H, r#"{"exp":1,"exp":2}"#), Status::JwtPayloadBadJson),
            (tok(H, r#"{"sub":1}"#), Status::JwtPayloadSubNotString),
            (tok(H, r#"{"exp":"1"}"#), Status::JwtPayloadExpNotInteger),
            (tok(H, r#"{"exp":-1}"#), Status::JwtPayloadExpOutOfRange),
            (tok(H, r#"{"iat":"x"}"#), Status::JwtPayloadIatNotInteger),
            (tok(H, r#"{"aud":{}}"#), Status::JwtPayloadAudNotString),
            (format!("{}.{p}.a,b", seg(H)), Status::JwtSignatureBadBase64),
        ];
        for (token, status) in cases {
            assert_eq!(parse(&token).unwrap_err(), status, "{token}");
        }
    }

    #[test]
    fn a_segment_with_one_equals_sign_where_two_are_needed_is_bad_base64() {
        // Each of these segments ends in a two-character quantum: Envoy takes
        // it bare or with `==`, and refuses a single `=`.
        let h = seg(r#"{"alg":"RS256","kid":"k"}"#);
        let p = seg(r#"{"a":1}"#);
        let s = "c2lnbg"; // "sign"
        assert!([h.len(), p.len(), s.len()].iter().all(|n| n % 4 == 2));
        let cases = [
            (format!("{h}=.{p}.{s}"), Status::JwtHeaderBadBase64),
            (format!("{h}.{p}=.{s}"), Status::JwtPayloadBadBase64),
            (format!("{h}.{p}.{s}="), Status::JwtSignatureBadBase64),
            (format!("{h}.{p}.{s}=."), Status::JwtSignatureBadBase64),
        ];
        for (token, status) in cases {
            assert_eq!(parse(&token).unwrap_err(), status, "{token}");
        }
        for token in [
            format!("{h}==.{p}==.{s}=="),
            format!("{h}.{p}.{s}= ="),
            format!("{h}.{p}.{s}"),
        ] {
            let (_, signed) = parse(&token).unwrap();
            assert_eq!(signed.signature, b"sign", "{token}");
        }
    }

    #[test]
    fn typ_and_crit_are_kept_from_the_header_without_being_checked() {
        let t = tok(r#"{"alg":"RS256","typ":"at+jwt","crit":["b64"]}"#, "{}");
        let (jwt, _) = parse(&t).unwrap();
        assert_eq!(jwt.typ(), Some("at+jwt"));
        assert!(jwt.has_crit());
        let t = tok(r#"{"alg":"RS256","typ":7,"crit":null}"#, "{}");
        let (jwt, _) = parse(&t).unwrap();
        assert_eq!(jwt.typ(), None);
        assert!(jwt.has_crit());
        let t = tok(H, "{}");
        let (jwt, _) = parse(&t).unwrap();
        assert_eq!((jwt.typ(), jwt.has_crit()), (None, false));
    }

    #[test]
    fn time_window_honours_skew_and_zero_exp() {
        let t = tok(H, r#"{"exp":100,"nbf":50}"#);
        let (jwt, _) = parse(&t).unwrap();
        assert_eq!(jwt.check_time(160, 60), Ok(()));
        assert_eq!(jwt.check_time(161, 60), Err(Status::JwtExpired));
        assert_eq!(jwt.check_time(0, 50), Ok(()));
        assert_eq!(jwt.check_time(0, 49), Err(Status::JwtNotYetValid));
        let t = tok(H, r#"{"exp":0}"#);
        assert_eq!(parse(&t).unwrap().0.check_time(u64::MAX, 60), Ok(()));
    }
}
