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
        Status::JwtSubjectNotAllowed => 25,
        Status::JwtLifetimeTooLong => 26,
        Status::JwtEd25519SignatureWrongLength => 27,
        Status::JwksKidAlgMismatch => 28,
        Status::JwksNoValidKeys => 29,
        Status::JwksFetchFail => 30,
        Status::JwtHeaderAlgNotAllowed => 31,
        Status::JwtHeaderTypNotRequired => 32,
        Status::JwtHeaderCritUnsupported => 33,
        Status::JwtPayloadRequiredClaimMissing => 34,
        Status::JwtPayloadAuthTimeMissing => 35,
        Status::JwtAuthTimeTooOld => 36,
        Status::TokenInactive => 37,
        Status::TokenNotAccessToken => 38,
        Status::IntrospectionUnavailable => 39,
        Status::DpopProofMissing => 40,
        Status::DpopProofRepeated => 41,
        Status::DpopProofMalformed => 42,
        Status::DpopProofBadTyp => 43,
        Status::DpopProofBadAlg => 44,
        Status::DpopProofNoKey => 45,
        Status::DpopProofPrivateKey => 46,
        Status::DpopProofUnusableKey => 47,
        Status::DpopProofBadSignature => 48,
        Status::DpopProofBadJti => 49,
        Status::DpopProofBadHtm => 50,
        Status::DpopProofBadHtu => 51,
        Status::DpopProofBadIat => 52,
        Status::DpopProofBadAth => 53,
        Status::DpopNonceRequired => 54,
        Status::DpopKeyMismatch => 55,
        Status::DpopProofReplayed => 56,
        Status::DpopTokenNotBound => 57,
        Status::DpopTokenBound => 58,
        Status::DpopRequired => 59,
        Status::DpopSchemesMixed => 60,
        Status::DpopReplayStoreFull => 61,
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
