//! What an evaluation reports as it goes ([`crate::authn::Runtime::observe`]):
//! the rule it chose, each requirement node, each token and every check
//! that token passed, and finally the decision. The module counts metrics
//! and writes its decision log from [`Event::Decided`]; the `jwt-guard
//! explain` command prints every event. Events borrow what evaluation
//! already holds: reporting costs a call, not an allocation, and carries
//! no token text.

use crate::authn::Verified;
use crate::error::Status;
use crate::extract::Token;
use crate::jwt::Jwt;
use crate::outcome::Reason;
use crate::rules::Verifier;

/// One step of an evaluation, in the order the filter takes them.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A CORS preflight, let through without credentials.
    CorsPreflight,
    /// The first rule whose `match` fits (index into `rules`), or `None`:
    /// no rule matches and nothing is required.
    Rule(Option<usize>),
    /// A requirement node starts.
    Enter(&'a Verifier),
    /// It ended: `Ok`, failed with a status, or undecided (waiting, no
    /// clock) when `None`.
    Leave(&'a Verifier, Option<Result<(), Status>>),
    /// A leaf found no token where its providers look.
    NoToken,
    /// A leaf found this token (its value is never reported).
    Token(&'a Token),
    /// The token was verified before: its decoded form comes from the
    /// verified-token cache.
    Cached(&'a Jwt),
    /// The token decoded: header and payload parsed.
    Decoded(&'a Jwt),
    /// The provider (index) checking the token.
    Provider(usize),
    /// A check the token passed.
    Passed(Check),
    /// The token's checks ended at this provider (if one was found).
    Checked {
        provider: Option<usize>,
        result: Result<(), Status>,
    },
    /// The request is decided (never reported for a request that waits).
    Decided(&'a Decided<'a>),
}

/// A check a token passes on its way, named as `explain` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The issuer is one this location and provider accept.
    Issuer,
    /// The provider's header hardening (`alg` allow-list, `typ`, `crit`).
    Header,
    /// `exp` and `nbf` at `now` (seconds) with `skew` seconds.
    Time { now: u64, skew: u64 },
    /// An allowed audience.
    Audience,
    /// `sub` against `subjects`.
    Subject,
    /// `exp` within `max_lifetime`.
    Lifetime,
    /// The provider's claim hardening (required claims, `auth_time`).
    Claims,
    /// Keys to verify with: this many, local or remote.
    Keys { count: usize, remote: bool },
    /// The signature verified.
    Signature,
    /// The signature verified before, with these same keys.
    SignatureCached,
    /// The introspection endpoint said the token is active.
    Introspected,
    /// The DPoP proof and the token's binding.
    Dpop,
}

/// A decided request: the rule, the outcome, and whom it is about.
#[derive(Clone, Copy, Debug)]
pub struct Decided<'a> {
    /// The rule that decided (`None`: no rule matched, or a CORS preflight).
    pub rule: Option<usize>,
    /// A CORS preflight let through without credentials.
    pub cors_preflight: bool,
    /// `None`: allowed; else why it was denied.
    pub denied: Option<Reason>,
    /// For a denial, the provider whose check decided it, when one was
    /// reached (an unknown issuer, a missing token at a node of several
    /// providers, a fault reach none).
    pub provider: Option<usize>,
    /// The `kid` of the token the denial is about, if it had one.
    pub kid: Option<&'a str>,
    /// The tokens that verified (for an allowed request, whom it is
    /// about; for an `authorize` refusal, whose claims were refused).
    pub verified: &'a [Verified],
}
