//! Verification outcomes, one variant per reason, each with the exact sentence
//! Envoy's `jwt_authn` sends as its local-reply body (from jwt_verify_lib), so
//! clients and dashboards see the same text whichever filter answered.

use std::fmt;

/// Why a token (or its absence) did not authenticate a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// No token in any location the requirement looks at.
    JwtMissed,
    /// `nbf` is later than now plus the allowed skew.
    JwtNotYetValid,
    /// `exp` is earlier than now minus the allowed skew.
    JwtExpired,
    /// Not exactly two dots, or an empty segment.
    JwtBadFormat,
    /// Header segment is not base64url.
    JwtHeaderBadBase64,
    /// Header is not a JSON object (or has duplicate members).
    JwtHeaderBadJson,
    /// `alg` absent or not a string.
    JwtHeaderBadAlg,
    /// `alg` is a string we do not implement (`none`, `rs256`, ...).
    JwtHeaderNotImplementedAlg,
    /// `kid` present but not a string.
    JwtHeaderBadKid,
    /// Payload segment is not base64url.
    JwtPayloadBadBase64,
    /// Payload is not a JSON object (or has duplicate members).
    JwtPayloadBadJson,
    /// `iss` present but not a string.
    JwtPayloadIssNotString,
    /// `sub` present but not a string.
    JwtPayloadSubNotString,
    /// `iat` present but not a number.
    JwtPayloadIatNotInteger,
    /// `iat` negative or beyond 64 bits.
    JwtPayloadIatOutOfRange,
    /// `nbf` present but not a number.
    JwtPayloadNbfNotInteger,
    /// `nbf` negative or beyond 64 bits.
    JwtPayloadNbfOutOfRange,
    /// `exp` present but not a number.
    JwtPayloadExpNotInteger,
    /// `exp` negative or beyond 64 bits.
    JwtPayloadExpOutOfRange,
    /// `jti` present but not a string.
    JwtPayloadJtiNotString,
    /// `aud` neither a string nor a list of strings.
    JwtPayloadAudNotString,
    /// Signature segment is not base64url.
    JwtSignatureBadBase64,
    /// The token's issuer is not one the location or provider accepts.
    JwtUnknownIssuer,
    /// None of the token's audiences is allowed (the only 403).
    JwtAudienceNotAllowed,
    /// Signature, subject, lifetime or expiration requirement failed.
    JwtVerificationFail,
    /// An Ed25519 key met a signature that is not 64 bytes.
    JwtEd25519SignatureWrongLength,
    /// No key in the JWKS has the token's kid and alg.
    JwksKidAlgMismatch,
    /// The provider has no usable key at all.
    JwksNoValidKeys,
    /// Remote keys could not be fetched (and none are cached).
    JwksFetchFail,
    /// Remote keys are being fetched: the request waits and is evaluated
    /// again when the fetch ends. Never sent: the glue pauses instead.
    JwksPending,
    // jwt-guard's provider hardening (all 401 `invalid_token`); Envoy has no
    // such checks, so the sentences follow its style instead of copying it.
    /// `alg` is not in the provider's `allowed_algorithms`.
    JwtHeaderAlgNotAllowed,
    /// `typ` is missing or not the provider's `required_typ`.
    JwtHeaderTypNotRequired,
    /// The header has `crit` and the provider sets `reject_unknown_crit`.
    JwtHeaderCritUnsupported,
    /// A claim of the provider's `required_claims` is absent or null.
    JwtPayloadRequiredClaimMissing,
    /// `max_auth_age` is set and `auth_time` is absent or not a number.
    JwtPayloadAuthTimeMissing,
    /// `auth_time` is older than `max_auth_age` (plus the clock skew).
    JwtAuthTimeTooOld,
}

impl Status {
    /// The sentence Envoy sends as the body of its 401/403.
    pub fn message(self) -> &'static str {
        match self {
            Status::JwtMissed => "Jwt is missing",
            Status::JwtNotYetValid => "Jwt not yet valid",
            Status::JwtExpired => "Jwt is expired",
            Status::JwtBadFormat => {
                "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
            }
            Status::JwtHeaderBadBase64 => "Jwt header is an invalid Base64url encoded",
            Status::JwtHeaderBadJson => "Jwt header is an invalid JSON",
            Status::JwtHeaderBadAlg => "Jwt header [alg] field is required and must be a string",
            Status::JwtHeaderNotImplementedAlg => "Jwt header [alg] is not supported",
            Status::JwtHeaderBadKid => "Jwt header [kid] field is not a string",
            Status::JwtPayloadBadBase64 => "Jwt payload is an invalid Base64url encoded",
            Status::JwtPayloadBadJson => "Jwt payload is an invalid JSON",
            Status::JwtPayloadIssNotString => "Jwt payload [iss] field is not a string",
            Status::JwtPayloadSubNotString => "Jwt payload [sub] field is not a string",
            Status::JwtPayloadIatNotInteger => "Jwt payload [iat] field is not an integer",
            Status::JwtPayloadIatOutOfRange => {
                "Jwt payload [iat] field is not a positive 64 bit integer"
            }
            Status::JwtPayloadNbfNotInteger => "Jwt payload [nbf] field is not an integer",
            Status::JwtPayloadNbfOutOfRange => {
                "Jwt payload [nbf] field is not a positive 64 bit integer"
            }
            Status::JwtPayloadExpNotInteger => "Jwt payload [exp] field is not an integer",
            Status::JwtPayloadExpOutOfRange => {
                "Jwt payload [exp] field is not a positive 64 bit integer"
            }
            Status::JwtPayloadJtiNotString => "Jwt payload [jti] field is not a string",
            Status::JwtPayloadAudNotString => {
                "Jwt payload [aud] field is not a string or string list"
            }
            Status::JwtSignatureBadBase64 => "Jwt signature is an invalid Base64url encoded",
            Status::JwtUnknownIssuer => "Jwt issuer is not configured",
            Status::JwtAudienceNotAllowed => "Audiences in Jwt are not allowed",
            Status::JwtVerificationFail => "Jwt verification fails",
            Status::JwtEd25519SignatureWrongLength => "Jwt ED25519 signature is wrong length",
            Status::JwksKidAlgMismatch => "Jwks doesn't have key to match kid or alg from Jwt",
            Status::JwksNoValidKeys => "Jwks doesn't have any valid public key",
            Status::JwksFetchFail => "Jwks remote fetch is failed",
            Status::JwksPending => "Jwks is being fetched",
            Status::JwtHeaderAlgNotAllowed => "Jwt header [alg] is not allowed for this provider",
            Status::JwtHeaderTypNotRequired => "Jwt header [typ] is not the required type",
            Status::JwtHeaderCritUnsupported => "Jwt header [crit] names an unsupported extension",
            Status::JwtPayloadRequiredClaimMissing => "Jwt payload is missing a required claim",
            Status::JwtPayloadAuthTimeMissing => {
                "Jwt payload [auth_time] field is missing or not a number"
            }
            Status::JwtAuthTimeTooOld => "Jwt auth_time is too old",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
