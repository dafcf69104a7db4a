use super::*;

/// Exhaustive on purpose: a new variant fails to compile here until it
/// is also added to `Status::ALL`.
fn position(s: Status) -> usize {
    match s {
        Status::JwtMissed => 0,
        Status::JwtNotYetValid => 1,
        Status::JwtExpired => 2,
        Status::JwtBadFormat => 3,
        Status::JwtHeaderBadBase64 => 4,
        Status::JwtHeaderBadJson => 5,
        Status::JwtHeaderBadAlg => 6,
        Status::JwtHeaderNotImplementedAlg => 7,
        Status::JwtHeaderBadKid => 8,
        Status::JwtPayloadBadBase64 => 9,
        Status::JwtPayloadBadJson => 10,
        Status::JwtPayloadIssNotString => 11,
        Status::JwtPayloadSubNotString => 12,
        Status::JwtPayloadIatNotInteger => 13,
        Status::JwtPayloadIatOutOfRange => 14,
        Status::JwtPayloadNbfNotInteger => 15,
        Status::JwtPayloadNbfOutOfRange => 16,
        Status::JwtPayloadExpNotInteger => 17,
        Status::JwtPayloadExpOutOfRange => 18,
        Status::JwtPayloadJtiNotString => 19,
        Status::JwtPayloadAudNotString => 20,
        Status::JwtSignatureBadBase64 => 21,
        Status::JwtUnknownIssuer => 22,
        Status::JwtAudienceNotAllowed => 23,
        Status::JwtVerificationFail => 24,
        Status::JwtEd25519SignatureWrongLength => 25,
        Status::JwksKidAlgMismatch => 26,
        Status::JwksNoValidKeys => 27,
        Status::JwksFetchFail => 28,
        Status::JwtHeaderAlgNotAllowed => 29,
        Status::JwtHeaderTypNotRequired => 30,
        Status::JwtHeaderCritUnsupported => 31,
        Status::JwtPayloadRequiredClaimMissing => 32,
        Status::JwtPayloadAuthTimeMissing => 33,
        Status::JwtAuthTimeTooOld => 34,
        Status::TokenInactive => 35,
        Status::TokenNotAccessToken => 36,
        Status::IntrospectionUnavailable => 37,
        Status::DpopProofMissing => 38,
        Status::DpopProofRepeated => 39,
        Status::DpopProofMalformed => 40,
        Status::DpopProofBadTyp => 41,
        Status::DpopProofBadAlg => 42,
        Status::DpopProofNoKey => 43,
        Status::DpopProofPrivateKey => 44,
        Status::DpopProofUnusableKey => 45,
        Status::DpopProofBadSignature => 46,
        Status::DpopProofBadJti => 47,
        Status::DpopProofBadHtm => 48,
        Status::DpopProofBadHtu => 49,
        Status::DpopProofBadIat => 50,
        Status::DpopProofBadAth => 51,
        Status::DpopNonceRequired => 52,
        Status::DpopKeyMismatch => 53,
        Status::DpopProofReplayed => 54,
        Status::DpopTokenNotBound => 55,
        Status::DpopTokenBound => 56,
        Status::DpopRequired => 57,
        Status::DpopSchemesMixed => 58,
        Status::DpopReplayStoreFull => 59,
    }
}

#[test]
fn all_lists_every_status_once_in_order() {
    for (i, s) in Status::ALL.into_iter().enumerate() {
        assert_eq!(position(s), i, "{s:?}");
    }
}

#[test]
fn sentences_match_envoy_for_the_common_outcomes() {
    assert_eq!(Status::JwtMissed.to_string(), "Jwt is missing");
    assert_eq!(Status::JwtExpired.message(), "Jwt is expired");
    assert_eq!(
        Status::JwtAudienceNotAllowed.message(),
        "Audiences in Jwt are not allowed"
    );
    assert_eq!(
        Status::JwksKidAlgMismatch.message(),
        "Jwks doesn't have key to match kid or alg from Jwt"
    );
}

#[test]
fn hardening_sentences_are_the_contracts() {
    for (status, sentence) in [
        (
            Status::JwtHeaderAlgNotAllowed,
            "Jwt header [alg] is not allowed for this provider",
        ),
        (
            Status::JwtHeaderTypNotRequired,
            "Jwt header [typ] is not the required type",
        ),
        (
            Status::JwtHeaderCritUnsupported,
            "Jwt header [crit] names an unsupported extension",
        ),
        (
            Status::JwtPayloadRequiredClaimMissing,
            "Jwt payload is missing a required claim",
        ),
        (
            Status::JwtPayloadAuthTimeMissing,
            "Jwt payload [auth_time] field is missing or not a number",
        ),
        (Status::JwtAuthTimeTooOld, "Jwt auth_time is too old"),
    ] {
        assert_eq!(status.message(), sentence);
    }
}
