//! A decided request as metrics and the decision log name it: allowed, or
//! denied for one [`Reason`], a coarse and stable grouping of the
//! [`Status`]es (which stay exact in replies). Names are `snake_case`, fit
//! a metric name as they are, and never change once released: dashboards
//! and alerts are built on them.

use crate::error::{Fault, Status};
use crate::rules::Denial;

/// Why a request was refused, as a metric or log line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No token where the requirement looks.
    Missing,
    /// Not a well-formed JWT (segments, base64url, JSON, claim types).
    Malformed,
    /// `exp` passed, beyond the skew.
    Expired,
    /// `nbf` still ahead, beyond the skew.
    NotYetValid,
    /// The signature did not verify.
    BadSignature,
    /// No key has the token's `kid` and `alg`.
    UnknownKey,
    /// The issuer is not one this location or provider accepts.
    Issuer,
    /// No audience of the token is allowed.
    Audience,
    /// `sub` is not one of the provider's `subjects`.
    Subject,
    /// `exp` is further away than `max_lifetime`.
    Lifetime,
    /// A provider's `hardening` check (`alg` allow-list, `typ`, `crit`,
    /// required claims, `auth_time`).
    Hardening,
    /// The rule's `authorize` conditions (scopes, claims), or an Istio
    /// `AuthorizationPolicy`, refused a valid token: a 403.
    Forbidden,
    /// The keys could not be fetched, or hold no usable key.
    KeysUnavailable,
    /// The introspection endpoint said the token is not active.
    Inactive,
    /// The introspection answer names a refresh or ID token.
    NotAccessToken,
    /// The introspection endpoint could not answer.
    IntrospectionUnavailable,
    /// A DPoP proof is missing or fails a check (RFC 9449 §4.3).
    DpopInvalid,
    /// A DPoP proof needs a (new) server nonce.
    DpopNonce,
    /// A DPoP proof was used before.
    DpopReplay,
    /// The token was sent with the wrong scheme for its binding (a bound
    /// token as Bearer, a Bearer token where DPoP is required, two tokens).
    DpopScheme,
    /// The DPoP replay store had no room (503).
    DpopStoreFull,
    /// The module's own failure (no clock, unreadable headers, ...).
    Fault,
}

impl Reason {
    /// Every reason, in the order metrics are defined.
    pub const ALL: [Reason; 22] = [
        Reason::Missing,
        Reason::Malformed,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::BadSignature,
        Reason::UnknownKey,
        Reason::Issuer,
        Reason::Audience,
        Reason::Subject,
        Reason::Lifetime,
        Reason::Hardening,
        Reason::Forbidden,
        Reason::KeysUnavailable,
        Reason::Inactive,
        Reason::NotAccessToken,
        Reason::IntrospectionUnavailable,
        Reason::DpopInvalid,
        Reason::DpopNonce,
        Reason::DpopReplay,
        Reason::DpopScheme,
        Reason::DpopStoreFull,
        Reason::Fault,
    ];

    /// The name in metric names and log lines.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Malformed => "malformed",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::BadSignature => "bad_signature",
            Reason::UnknownKey => "unknown_key",
            Reason::Issuer => "issuer",
            Reason::Audience => "audience",
            Reason::Subject => "subject",
            Reason::Lifetime => "lifetime",
            Reason::Hardening => "hardening",
            Reason::Forbidden => "forbidden",
            Reason::KeysUnavailable => "keys_unavailable",
            Reason::Inactive => "inactive",
            Reason::NotAccessToken => "not_access_token",
            Reason::IntrospectionUnavailable => "introspection_unavailable",
            Reason::DpopInvalid => "dpop_invalid",
            Reason::DpopNonce => "dpop_nonce",
            Reason::DpopReplay => "dpop_replay",
            Reason::DpopScheme => "dpop_scheme",
            Reason::DpopStoreFull => "dpop_store_full",
            Reason::Fault => "fault",
        }
    }

    /// The reason's position in [`Reason::ALL`] (declaration order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The reason a denial gives.
    pub fn of_denial(denial: &Denial<'_>) -> Reason {
        match denial {
            Denial::Authn(status) | Denial::Dpop { status, .. } => Reason::from(*status),
            Denial::Authz(..) | Denial::Rbac => Reason::Forbidden,
            Denial::Fault(_) => Reason::Fault,
        }
    }
}

impl From<Status> for Reason {
    fn from(status: Status) -> Reason {
        use Status::*;
        match status {
            JwtMissed => Reason::Missing,
            JwtBadFormat
            | JwtHeaderBadBase64
            | JwtHeaderBadJson
            | JwtHeaderBadAlg
            | JwtHeaderNotImplementedAlg
            | JwtHeaderBadKid
            | JwtPayloadBadBase64
            | JwtPayloadBadJson
            | JwtPayloadIssNotString
            | JwtPayloadSubNotString
            | JwtPayloadIatNotInteger
            | JwtPayloadIatOutOfRange
            | JwtPayloadNbfNotInteger
            | JwtPayloadNbfOutOfRange
            | JwtPayloadExpNotInteger
            | JwtPayloadExpOutOfRange
            | JwtPayloadJtiNotString
            | JwtPayloadAudNotString
            | JwtSignatureBadBase64 => Reason::Malformed,
            JwtExpired => Reason::Expired,
            JwtNotYetValid => Reason::NotYetValid,
            JwtVerificationFail | JwtEd25519SignatureWrongLength => Reason::BadSignature,
            JwksKidAlgMismatch => Reason::UnknownKey,
            JwtUnknownIssuer => Reason::Issuer,
            JwtAudienceNotAllowed => Reason::Audience,
            JwtSubjectNotAllowed => Reason::Subject,
            JwtLifetimeTooLong => Reason::Lifetime,
            JwtHeaderAlgNotAllowed
            | JwtHeaderTypNotRequired
            | JwtHeaderCritUnsupported
            | JwtPayloadRequiredClaimMissing
            | JwtPayloadAuthTimeMissing
            | JwtAuthTimeTooOld => Reason::Hardening,
            JwksNoValidKeys | JwksFetchFail => Reason::KeysUnavailable,
            TokenInactive => Reason::Inactive,
            TokenNotAccessToken => Reason::NotAccessToken,
            IntrospectionUnavailable => Reason::IntrospectionUnavailable,
            DpopProofMissing
            | DpopProofRepeated
            | DpopProofMalformed
            | DpopProofBadTyp
            | DpopProofBadAlg
            | DpopProofNoKey
            | DpopProofPrivateKey
            | DpopProofUnusableKey
            | DpopProofBadSignature
            | DpopProofBadJti
            | DpopProofBadHtm
            | DpopProofBadHtu
            | DpopProofBadIat
            | DpopProofBadAth
            | DpopKeyMismatch => Reason::DpopInvalid,
            DpopNonceRequired => Reason::DpopNonce,
            DpopProofReplayed => Reason::DpopReplay,
            DpopTokenNotBound | DpopTokenBound | DpopRequired | DpopSchemesMixed => {
                Reason::DpopScheme
            }
            DpopReplayStoreFull => Reason::DpopStoreFull,
        }
    }
}

impl From<&Fault> for Reason {
    fn from(_: &Fault) -> Reason {
        Reason::Fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_reason_and_names_are_distinct_metric_words() {
        for s in Status::ALL {
            let _ = Reason::from(s);
        }
        let mut names: Vec<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
        for n in &names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
    }

    #[test]
    fn index_is_the_position_in_all() {
        for (i, r) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
        }
    }

    #[test]
    fn the_envoy_verification_failure_splits_by_what_failed() {
        assert_eq!(
            Reason::from(Status::JwtVerificationFail),
            Reason::BadSignature
        );
        assert_eq!(Reason::from(Status::JwtSubjectNotAllowed), Reason::Subject);
        assert_eq!(Reason::from(Status::JwtLifetimeTooLong), Reason::Lifetime);
        assert_eq!(Reason::from(Status::JwksKidAlgMismatch), Reason::UnknownKey);
    }
}
