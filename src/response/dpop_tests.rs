//! DPoP's replies (RFC 9449 §7.1): each status's code, body and error,
//! the challenges a rule that takes DPoP sends, and the nonce header.

use super::tests::{challenge, scopes, REALM};
use super::*;
use crate::authz::Failure;
use crate::dpop::Nonces;

/// `(status, code, body, error)` of each DPoP failure.
#[rustfmt::skip]
pub(super) const DPOP: [(Status, u32, &str, Option<&str>); 22] = [
    (Status::DpopProofMissing, 401, "DPoP proof is missing", Some("invalid_dpop_proof")),
    (Status::DpopProofRepeated, 401, "DPoP proof header appears more than once", Some("invalid_dpop_proof")),
    (Status::DpopProofMalformed, 401, "DPoP proof is not a compact JWS", Some("invalid_dpop_proof")),
    (Status::DpopProofBadTyp, 401, "DPoP proof [typ] is not dpop+jwt", Some("invalid_dpop_proof")),
    (Status::DpopProofBadAlg, 401, "DPoP proof [alg] is not allowed", Some("invalid_dpop_proof")),
    (Status::DpopProofNoKey, 401, "DPoP proof has no [jwk]", Some("invalid_dpop_proof")),
    (Status::DpopProofPrivateKey, 401, "DPoP proof [jwk] holds a private key", Some("invalid_dpop_proof")),
    (Status::DpopProofUnusableKey, 401, "DPoP proof [jwk] is not a usable public key for its [alg]", Some("invalid_dpop_proof")),
    (Status::DpopProofBadSignature, 401, "DPoP proof signature does not verify", Some("invalid_dpop_proof")),
    (Status::DpopProofBadJti, 401, "DPoP proof [jti] is missing or too long", Some("invalid_dpop_proof")),
    (Status::DpopProofBadHtm, 401, "DPoP proof [htm] is not the request method", Some("invalid_dpop_proof")),
    (Status::DpopProofBadHtu, 401, "DPoP proof [htu] is not the request URI", Some("invalid_dpop_proof")),
    (Status::DpopProofBadIat, 401, "DPoP proof [iat] is outside the allowed window", Some("invalid_dpop_proof")),
    (Status::DpopProofBadAth, 401, "DPoP proof [ath] is not the access token's hash", Some("invalid_dpop_proof")),
    (Status::DpopNonceRequired, 401, "DPoP proof needs a valid server nonce", Some("use_dpop_nonce")),
    (Status::DpopKeyMismatch, 401, "DPoP proof key is not the key the token is bound to", Some("invalid_dpop_proof")),
    (Status::DpopProofReplayed, 401, "DPoP proof was already used", Some("invalid_dpop_proof")),
    (Status::DpopTokenNotBound, 401, "Token is not bound to a DPoP key", Some("invalid_token")),
    (Status::DpopTokenBound, 401, "DPoP-bound token sent without DPoP", Some("invalid_token")),
    (Status::DpopRequired, 401, "Token must be sent with the DPoP scheme", Some("invalid_token")),
    (Status::DpopSchemesMixed, 400, "Request sends more than one access token", Some("invalid_request")),
    (Status::DpopReplayStoreFull, 503, "DPoP replay cache is full", None),
];

fn offer(bearer: bool, nonces: Option<Nonces>) -> Offer {
    Offer {
        bearer,
        algs: "ES256 EdDSA".into(),
        nonces,
    }
}

fn dpop_reply(status: Status, offer: &Offer, used_dpop: bool, nonce: Option<&str>) -> Reply {
    let denial = Denial::Dpop {
        status,
        offer,
        used_dpop,
        nonce: nonce.map(str::to_owned),
    };
    reply(&denial, REALM, false)
}

const BEARER: &str = "Bearer realm=\"http://api.example.com/a?b=c\"";
const DPOP_ONLY: &str = "DPoP realm=\"http://api.example.com/a?b=c\", algs=\"ES256 EdDSA\"";

#[test]
fn without_credentials_both_schemes_are_offered_bare() {
    let r = dpop_reply(Status::JwtMissed, &offer(true, None), false, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.www_authenticate, Some(format!("{BEARER}, {DPOP_ONLY}")));
    let r = dpop_reply(Status::JwtMissed, &offer(false, None), false, None);
    assert_eq!(r.www_authenticate.as_deref(), Some(DPOP_ONLY));
}

#[test]
fn the_error_goes_on_the_scheme_the_request_used_or_on_dpop() {
    let both = offer(true, None);
    // A Bearer token that failed on its own: the error is Bearer's.
    let r = dpop_reply(Status::JwtExpired, &both, false, None);
    let want = format!("{BEARER}, error=\"invalid_token\", {DPOP_ONLY}");
    assert_eq!(r.www_authenticate, Some(want));
    // The same failure of a DPoP-scheme token: DPoP's.
    let r = dpop_reply(Status::JwtExpired, &both, true, None);
    let want = format!("{BEARER}, {DPOP_ONLY}, error=\"invalid_token\"");
    assert_eq!(r.www_authenticate, Some(want));
    // A failure about DPoP itself is always DPoP's, as are all errors
    // when only DPoP is offered.
    for (status, error) in [
        (Status::DpopProofBadSignature, "invalid_dpop_proof"),
        (Status::DpopSchemesMixed, "invalid_request"),
    ] {
        let r = dpop_reply(status, &both, false, None);
        let want = format!("{BEARER}, {DPOP_ONLY}, error=\"{error}\"");
        assert_eq!(r.www_authenticate, Some(want), "{status:?}");
    }
    let r = dpop_reply(Status::JwtExpired, &offer(false, None), false, None);
    let want = format!("{DPOP_ONLY}, error=\"invalid_token\"");
    assert_eq!(r.www_authenticate, Some(want));
    // A bound token sent as Bearer is refused as the Bearer token it came
    // as (RFC 9449 §7.2); where only DPoP is offered, on DPoP.
    let r = dpop_reply(Status::DpopTokenBound, &both, false, None);
    let want = format!("{BEARER}, error=\"invalid_token\", {DPOP_ONLY}");
    assert_eq!(r.www_authenticate, Some(want));
    let r = dpop_reply(Status::DpopRequired, &offer(false, None), false, None);
    let want = format!("{DPOP_ONLY}, error=\"invalid_token\"");
    assert_eq!(r.www_authenticate, Some(want));
}

#[test]
fn a_nonce_reply_carries_the_nonce_and_a_full_store_no_challenge() {
    let r = dpop_reply(
        Status::DpopNonceRequired,
        &offer(false, None),
        true,
        Some("n0nce"),
    );
    assert_eq!((r.status, r.dpop_nonce.as_deref()), (401, Some("n0nce")));
    let want = format!("{DPOP_ONLY}, error=\"use_dpop_nonce\"");
    assert_eq!(r.www_authenticate, Some(want));
    let r = dpop_reply(Status::DpopReplayStoreFull, &offer(true, None), true, None);
    assert_eq!(
        (r.status, r.www_authenticate, r.dpop_nonce),
        (503, None, None)
    );
}

#[test]
fn problem_details_name_a_bad_request() {
    let denial = Denial::Dpop {
        status: Status::DpopSchemesMixed,
        offer: &offer(true, None),
        used_dpop: true,
        nonce: None,
    };
    let r = reply(&denial, REALM, true);
    assert_eq!(
        r.body,
        r#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"Request sends more than one access token","error":"invalid_request"}"#
    );
    // The table's challenge helper stays the plain Bearer one.
    assert_eq!(challenge(None, None), BEARER);
}

#[test]
fn an_authorize_refusal_challenges_on_the_scheme_the_request_used() {
    let condition = scopes();
    let failure = || Failure {
        condition: &condition,
        op: "scopes",
    };
    let scope = "error=\"insufficient_scope\", scope=\"orders:read orders:write\"";
    let both = offer(true, None);
    let r = reply(&Denial::Authz(failure(), Some((&both, true))), REALM, false);
    assert_eq!(r.status, 403);
    let want = format!("{BEARER}, {DPOP_ONLY}, {scope}");
    assert_eq!(r.www_authenticate, Some(want));
    let r = reply(
        &Denial::Authz(failure(), Some((&both, false))),
        REALM,
        false,
    );
    let want = format!("{BEARER}, {scope}, {DPOP_ONLY}");
    assert_eq!(r.www_authenticate, Some(want));
    let only = offer(false, None);
    let r = reply(&Denial::Authz(failure(), Some((&only, true))), REALM, false);
    assert_eq!(r.www_authenticate, Some(format!("{DPOP_ONLY}, {scope}")));
}
