//! jwt-guard: JWT authentication and claims authorization for proxy-wasm gateways.
//!
//! Everything except `filter` is the pure core: no host calls, time passed
//! in, natively testable with `cargo test`. `config` compiles the plugin
//! configuration into the types the request path runs (`rules::Policy`);
//! `rules` decides a request; `callout` keeps what waits on HTTP calls;
//! `filter`, the only code that talks to the host, glues them to proxy-wasm;
//! `cli` (native only) is the `jwt-guard` command over the same core.

// Overflow on untrusted sizes and numbers must be handled, not wrapped or
// trapped: arithmetic is checked, saturating or explicitly wrapping outside
// tests (the big-number code in `crypto::rsa` and `crypto::ecdsa` is exempt, with
// its bounds argued in place and cross-checked against reference crates).
#![deny(clippy::arithmetic_side_effects)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

pub mod authn;
pub mod authz;
pub mod b64;
pub mod cache;
pub mod callout;
pub mod claims;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod config;
pub mod crypto;
pub mod decision_log;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod extract;
pub mod introspection;
pub mod jwks;
pub mod jws;
pub mod jwt;
pub mod keystore;
pub mod matcher;
pub mod metrics;
pub mod outcome;
pub mod request;
pub mod response;
pub mod rules;
mod small_sort;
pub mod trace;

#[cfg(target_arch = "wasm32")]
mod filter;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod layering;
