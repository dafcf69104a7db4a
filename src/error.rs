//! Why a request is refused, one variant per reason, each with one sentence:
//! [`Status`], why a token (or its absence) did not authenticate, with the
//! exact sentence Envoy's `jwt_authn` sends as its local-reply body (from
//! jwt_verify_lib), so clients and dashboards see the same text whichever
//! filter answered; and [`Fault`], the module's own failures, which refuse
//! the request rather than let it through.

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
    /// The signature did not verify (or no key can verify this token).
    JwtVerificationFail,
    /// `sub` is not one the provider's `subjects` allows. Envoy reports
    /// it as a failed verification, and so does the reply.
    JwtSubjectNotAllowed,
    /// `exp` is further away than the provider's `max_lifetime` (or
    /// absent where one is set). Envoy reports it as a failed verification,
    /// and so does the reply.
    JwtLifetimeTooLong,
    /// An Ed25519 key met a signature that is not 64 bytes.
    JwtEd25519SignatureWrongLength,
    /// No key in the JWKS has the token's kid and alg.
    JwksKidAlgMismatch,
    /// The provider has no usable key at all.
    JwksNoValidKeys,
    /// Remote keys could not be fetched (and none are cached).
    JwksFetchFail,
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
    // Token introspection (RFC 7662, jwt-guard only).
    /// The authorization server says the token is not active: unknown,
    /// expired, revoked, or not for this client.
    TokenInactive,
    /// An active answer's `token_type` names a refresh or ID token.
    TokenNotAccessToken,
    /// The introspection endpoint gave no usable answer (5xx, timeout, no
    /// connection, an unreadable answer, our credentials refused) and
    /// nothing remembered may stand in: 503, the token is not known bad.
    IntrospectionUnavailable,
    // DPoP (RFC 9449, jwt-guard only): a token sent with the `DPoP`
    // scheme must come with a proof of its key; the sentences name the
    // check that failed.
    /// A `DPoP`-scheme token came without a `DPoP` proof header.
    DpopProofMissing,
    /// More than one `DPoP` header (or one holding a list).
    DpopProofRepeated,
    /// The proof is not a compact JWS with a JSON header and payload.
    DpopProofMalformed,
    /// The proof's `typ` is not `dpop+jwt`.
    DpopProofBadTyp,
    /// The proof's `alg` is symmetric, `none`, or not allowed.
    DpopProofBadAlg,
    /// The proof's header has no `jwk` object.
    DpopProofNoKey,
    /// The proof's `jwk` carries private key material.
    DpopProofPrivateKey,
    /// The proof's `jwk` is not a public key usable with its `alg`.
    DpopProofUnusableKey,
    /// The proof's signature does not verify under its `jwk`.
    DpopProofBadSignature,
    /// `jti` missing, not a string, or longer than allowed.
    DpopProofBadJti,
    /// `htm` missing or not the request's method.
    DpopProofBadHtm,
    /// `htu` missing or not the request's URI.
    DpopProofBadHtu,
    /// `iat` missing, older than `max_age` or beyond `future_skew`.
    DpopProofBadIat,
    /// `ath` missing or not the hash of the access token sent.
    DpopProofBadAth,
    /// Nonces are on and the proof's is missing, expired or not ours: the
    /// reply carries a fresh one (`use_dpop_nonce`).
    DpopNonceRequired,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`).
    DpopKeyMismatch,
    /// This `(jkt, jti)` was accepted before, within its window.
    DpopProofReplayed,
    /// A `DPoP`-scheme token without `cnf.jkt` (or an introspected token
    /// whose `token_type` is not `DPoP`).
    DpopTokenNotBound,
    /// A DPoP-bound token sent without DPoP (a downgrade, RFC 9449 §7.2).
    DpopTokenBound,
    /// The provider requires DPoP and the token came as a Bearer token.
    DpopRequired,
    /// A `DPoP`-scheme token and another token in the same request: 400.
    DpopSchemesMixed,
    /// The replay store's slot for this proof is full of live entries:
    /// 503, the proof is not known bad (a new proof lands elsewhere).
    DpopReplayStoreFull,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 62] = [
        Status::JwtMissed,
        Status::JwtNotYetValid,
        Status::JwtExpired,
        Status::JwtBadFormat,
        Status::JwtHeaderBadBase64,
        Status::JwtHeaderBadJson,
        Status::JwtHeaderBadAlg,
        Status::JwtHeaderNotImplementedAlg,
        Status::JwtHeaderBadKid,
        Status::JwtPayloadBadBase64,
        Status::JwtPayloadBadJson,
        Status::JwtPayloadIssNotString,
        Status::JwtPayloadSubNotString,
        Status::JwtPayloadIatNotInteger,
        Status::JwtPayloadIatOutOfRange,
        Status::JwtPayloadNbfNotInteger,
        Status::JwtPayloadNbfOutOfRange,
        Status::JwtPayloadExpNotInteger,
        Status::JwtPayloadExpOutOfRange,
        Status::JwtPayloadJtiNotString,
        Status::JwtPayloadAudNotString,
        Status::JwtSignatureBadBase64,
        Status::JwtUnknownIssuer,
        Status::JwtAudienceNotAllowed,
        Status::JwtVerificationFail,
        Status::JwtSubjectNotAllowed,
        Status::JwtLifetimeTooLong,
        Status::JwtEd25519SignatureWrongLength,
        Status::JwksKidAlgMismatch,
        Status::JwksNoValidKeys,
        Status::JwksFetchFail,
        Status::JwtHeaderAlgNotAllowed,
        Status::JwtHeaderTypNotRequired,
        Status::JwtHeaderCritUnsupported,
        Status::JwtPayloadRequiredClaimMissing,
        Status::JwtPayloadAuthTimeMissing,
        Status::JwtAuthTimeTooOld,
        Status::TokenInactive,
        Status::TokenNotAccessToken,
        Status::IntrospectionUnavailable,
        Status::DpopProofMissing,
        Status::DpopProofRepeated,
        Status::DpopProofMalformed,
        Status::DpopProofBadTyp,
        Status::DpopProofBadAlg,
        Status::DpopProofNoKey,
        Status::DpopProofPrivateKey,
        Status::DpopProofUnusableKey,
        Status::DpopProofBadSignature,
        Status::DpopProofBadJti,
        Status::DpopProofBadHtm,
        Status::DpopProofBadHtu,
        Status::DpopProofBadIat,
        Status::DpopProofBadAth,
        Status::DpopNonceRequired,
        Status::DpopKeyMismatch,
        Status::DpopProofReplayed,
        Status::DpopTokenNotBound,
        Status::DpopTokenBound,
        Status::DpopRequired,
        Status::DpopSchemesMixed,
        Status::DpopReplayStoreFull,
    ];

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
            Status::JwtVerificationFail
            | Status::JwtSubjectNotAllowed
            | Status::JwtLifetimeTooLong => "Jwt verification fails",
            Status::JwtEd25519SignatureWrongLength => "Jwt ED25519 signature is wrong length",
            Status::JwksKidAlgMismatch => "Jwks doesn't have key to match kid or alg from Jwt",
            Status::JwksNoValidKeys => "Jwks doesn't have any valid public key",
            Status::JwksFetchFail => "Jwks remote fetch is failed",
            Status::JwtHeaderAlgNotAllowed => "Jwt header [alg] is not allowed for this provider",
            Status::JwtHeaderTypNotRequired => "Jwt header [typ] is not the required type",
            Status::JwtHeaderCritUnsupported => "Jwt header [crit] names an unsupported extension",
            Status::JwtPayloadRequiredClaimMissing => "Jwt payload is missing a required claim",
            Status::JwtPayloadAuthTimeMissing => {
                "Jwt payload [auth_time] field is missing or not a number"
            }
            Status::JwtAuthTimeTooOld => "Jwt auth_time is too old",
            Status::TokenInactive => "Token is not active",
            Status::TokenNotAccessToken => "Token is not an access token",
            Status::IntrospectionUnavailable => "Token introspection is unavailable",
            Status::DpopProofMissing => "DPoP proof is missing",
            Status::DpopProofRepeated => "DPoP proof header appears more than once",
            Status::DpopProofMalformed => "DPoP proof is not a compact JWS",
            Status::DpopProofBadTyp => "DPoP proof [typ] is not dpop+jwt",
            Status::DpopProofBadAlg => "DPoP proof [alg] is not allowed",
            Status::DpopProofNoKey => "DPoP proof has no [jwk]",
            Status::DpopProofPrivateKey => "DPoP proof [jwk] holds a private key",
            Status::DpopProofUnusableKey => {
                "DPoP proof [jwk] is not a usable public key for its [alg]"
            }
            Status::DpopProofBadSignature => "DPoP proof signature does not verify",
            Status::DpopProofBadJti => "DPoP proof [jti] is missing or too long",
            Status::DpopProofBadHtm => "DPoP proof [htm] is not the request method",
            Status::DpopProofBadHtu => "DPoP proof [htu] is not the request URI",
            Status::DpopProofBadIat => "DPoP proof [iat] is outside the allowed window",
            Status::DpopProofBadAth => "DPoP proof [ath] is not the access token's hash",
            Status::DpopNonceRequired => "DPoP proof needs a valid server nonce",
            Status::DpopKeyMismatch => "DPoP proof key is not the key the token is bound to",
            Status::DpopProofReplayed => "DPoP proof was already used",
            Status::DpopTokenNotBound => "Token is not bound to a DPoP key",
            Status::DpopTokenBound => "DPoP-bound token sent without DPoP",
            Status::DpopRequired => "Token must be sent with the DPoP scheme",
            Status::DpopSchemesMixed => "Request sends more than one access token",
            Status::DpopReplayStoreFull => "DPoP replay cache is full",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// The module's own failures. Each refuses the request (closed on doubt)
/// with a 5xx and a plain-text body, and no `WWW-Authenticate`: the client's
/// credentials are not what failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No configuration was accepted (`on_configure` refused it): 500.
    NotConfigured,
    /// The host would not hand over the request headers: 500.
    HeadersUnreadable,
    /// The host refused a header change the decision needs: 500.
    HeadersNotUpdated,
    /// A host callback re-entered while this worker's state was in use: 503.
    Busy,
    /// Neither the host's clock nor WASI's could be read, so no token's
    /// time can be checked: 500.
    NoClock,
    /// A claim copied to a header holds CR, LF, NUL or DEL. Envoy's codec
    /// refuses such a request with this 503 (`invalid header value for:
    /// <name>`); the module answers the same itself, so header injection
    /// is refused on any host.
    InvalidHeaderValue(String),
    /// A header the decision rewrites (the token's, a claim header) arrived
    /// more than once, on a host where only a header's first value can be
    /// rewritten and removed headers still go upstream (ngx_wasm_module):
    /// 400, rather than forward a client's copy.
    RepeatedHeader(String),
}

impl Fault {
    /// The HTTP status of the reply.
    pub fn status(&self) -> u32 {
        match self {
            Fault::RepeatedHeader(_) => 400,
            Fault::Busy | Fault::InvalidHeaderValue(_) => 503,
            Fault::NotConfigured
            | Fault::HeadersUnreadable
            | Fault::HeadersNotUpdated
            | Fault::NoClock => 500,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::NotConfigured => f.write_str("jwt-guard is not configured"),
            Fault::HeadersUnreadable => f.write_str("jwt-guard cannot read the request"),
            Fault::HeadersNotUpdated => f.write_str("jwt-guard cannot update the request"),
            Fault::Busy => f.write_str("jwt-guard is busy"),
            Fault::NoClock => f.write_str("jwt-guard cannot read the clock"),
            Fault::InvalidHeaderValue(name) => write!(f, "invalid header value for: {name}"),
            Fault::RepeatedHeader(name) => {
                write!(
                    f,
                    "jwt-guard cannot rewrite header {name}: it appears more than once"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
