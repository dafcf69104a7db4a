//! A provider's `introspection` as the filter runs it: where to ask, how the
//! gateway authenticates itself, and how long answers are kept. Built once
//! by `config`; secrets are held ready to send and never printed.

use crate::discovery::Target;
use sha2::Sha256;
use std::fmt;

/// How the gateway authenticates to the introspection endpoint (RFC 7662
/// §2.1 requires some client authentication).
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic` (RFC 6749 §2.3.1): the `Authorization` value,
    /// id and secret form-encoded, then base64.
    Basic { authorization: String },
    /// `client_secret_post`: `client_id` and `client_secret` form fields.
    Post { client_id: String, secret: String },
    /// `bearer`: a static `Authorization: Bearer …` value.
    Bearer { authorization: String },
}

impl ClientAuth {
    /// The `Authorization` header the call carries, if any.
    pub fn authorization(&self) -> Option<&str> {
        match self {
            ClientAuth::Basic { authorization } | ClientAuth::Bearer { authorization } => {
                Some(authorization)
            }
            ClientAuth::Post { .. } => None,
        }
    }

    /// Form fields the body carries beyond the token.
    pub fn form_fields(&self) -> Vec<(&str, &str)> {
        match self {
            ClientAuth::Post { client_id, secret } => {
                vec![("client_id", client_id), ("client_secret", secret)]
            }
            _ => Vec::new(),
        }
    }

    pub fn method_name(&self) -> &'static str {
        match self {
            ClientAuth::Basic { .. } => "client_secret_basic",
            ClientAuth::Post { .. } => "client_secret_post",
            ClientAuth::Bearer { .. } => "bearer",
        }
    }
}

/// Never the secret: a config dump, a log line or a test failure shows the
/// method only.
impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientAuth({}, secret redacted)", self.method_name())
    }
}

/// What a request gets when the endpoint cannot answer (5xx, timeout,
/// connection failure, an unreadable answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureMode {
    /// Refuse the request (503): nothing unverified passes.
    Deny,
    /// Keep using a remembered active answer past `max_ttl`, never past the
    /// token's `exp`; refuse when there is none.
    ServeStale,
}

/// Which tokens of the provider are introspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtTokens {
    /// Only opaque ones: a JWT-shaped token is verified with the provider's
    /// keys, and fails here when it has none (another provider of a
    /// `requires_any` may take it), costing the endpoint nothing.
    VerifyLocally,
    /// Every token, JWT-shaped or not: the endpoint also sees JWTs, so a
    /// revoked one is refused.
    Introspect,
}

/// Where the introspection endpoint is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `http_uri`: from the configuration.
    Fixed(Target),
    /// The `introspection_endpoint` of the provider's discovery document
    /// (RFC 8414 §2), which must name `issuer`: read once per process.
    Discovered { document: Target, issuer: String },
}

/// A compiled `introspection` block.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Dispatch target: an Envoy cluster name, or `host:port` on Kong.
    pub cluster: String,
    pub endpoint: Endpoint,
    pub timeout_ms: u64,
    pub client: ClientAuth,
    /// `token_type_hint`; `None`: not sent.
    pub token_type_hint: Option<String>,
    /// Per-worker and shared answer slots; 0: nothing is remembered.
    pub max_entries: usize,
    pub max_ttl_ms: u64,
    pub negative_ttl_ms: u64,
    pub failure_mode: FailureMode,
    pub jwt_tokens: JwtTokens,
    /// Mixed into every cache key: the provider, endpoint and client, so
    /// answers are never taken for another provider's or another client's.
    pub scope: String,
    /// Shared-data key prefix of this provider's answers.
    pub shared_prefix: String,
    /// [`super::key_hasher`] of `scope`.
    pub hasher: Sha256,
}

impl Settings {
    /// The form body for `token`.
    pub fn body(&self, token: &str) -> String {
        super::request_body(
            token,
            self.token_type_hint.as_deref(),
            &self.client.form_fields(),
        )
    }

    /// A token's cache key ([`super::cache_key`] with this scope).
    pub fn key(&self, token: &str) -> [u8; 32] {
        super::key_of(&self.hasher, token)
    }
}
