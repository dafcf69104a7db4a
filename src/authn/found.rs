//! What one evaluation's leaves found: the tokens that verified (for the
//! rule's `authorize`) and the checks that failed (whom a denial is about,
//! for metrics and the decision log).

use super::dpop;
use crate::claims;
use crate::error::Status;
use crate::jwt::Jwt;
use std::rc::Rc;

/// A token that verified: its provider (index into [`super::Providers`])
/// and its claims, kept for the rule's `authorize` conditions.
#[derive(Debug)]
pub struct Verified {
    pub provider: usize,
    pub claims: Rc<claims::Object>,
    /// Its DPoP proof, to record once the request is decided.
    pub proof: Option<dpop::Pending>,
    /// The JWT, when it was one (its `kid` names it in the decision log).
    pub jwt: Option<Rc<Jwt>>,
}

/// A token (or a missing one) that failed a leaf.
#[derive(Debug)]
pub struct Failed {
    pub status: Status,
    /// The provider whose check failed, when one was reached.
    pub provider: Option<usize>,
    /// The JWT, when it decoded.
    pub jwt: Option<Rc<Jwt>>,
}

/// Everything the leaves of one evaluation found. Failures only grow (a
/// branch that fails stays on record; a denial is about the last failure
/// with its status); verified tokens of a failed leaf are taken back out.
#[derive(Debug, Default)]
pub struct Found {
    pub verified: Vec<Verified>,
    pub failed: Vec<Failed>,
}

impl Found {
    /// Whom a denial for `status` is about: the provider of the failures
    /// with that status when they all name the same one (`None` when they
    /// name several, as a token missing where any of several providers
    /// would do), and the token of the last of them.
    pub fn blame(&self, status: Status) -> Option<(Option<usize>, Option<&Jwt>)> {
        let mut failed = self.failed.iter().rev().filter(|f| f.status == status);
        let last = failed.next()?;
        let provider = match failed.all(|f| f.provider == last.provider) {
            true => last.provider,
            false => None,
        };
        Some((provider, last.jwt.as_deref()))
    }
}

/// What a token's check learned before it ended, for its failure record.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub provider: Option<usize>,
    pub jwt: Option<Rc<Jwt>>,
}
