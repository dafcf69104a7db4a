//! The Istio dialect (a jwt-guard extension): the top-level `istio` member
//! holds the specs of `RequestAuthentication` and `AuthorizationPolicy`
//! resources as Istio users write them, and compiles into what a plain
//! config compiles into, the way istiod compiles them for Envoy: one provider
//! per `jwtRules` entry (`origins-<i>`, in issuer order), one rule on `/`
//! with Istio's requirement (a token, if present, must verify; none is fine),
//! and the policies as that rule's `authorize`, read as Istio's RBAC filter
//! reads them (`authz::Reads::Request`). No second engine: the providers and
//! the requirement go through the plain compiler, from the JSON istiod would
//! have generated.

mod authn;
mod authz;

use super::json::{err, join, Obj, Result};
use crate::authn::Provider;
use crate::authz::{Authorize, Reads};
use crate::rules::Rule;
use serde_json::{json, Value};

/// A compiled `istio` member.
pub struct Dialect {
    pub providers: Vec<Provider>,
    /// Per provider, the JSON path its weak-key warnings name.
    pub key_paths: Vec<String>,
    pub rule: Rule,
}

/// One spec, or a list of them (several resources for one workload, as
/// Istio merges them): each with its path.
fn specs<'a>(o: &mut Obj<'a>, name: &str) -> Result<Vec<(&'a Value, String)>> {
    Ok(match o.field(name)? {
        None => Vec::new(),
        Some((Value::Array(items), p)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (v, format!("{p}[{i}]")))
            .collect(),
        Some((v, p)) => vec![(v, p)],
    })
}

/// Fields of the resource around a spec, and fields choosing workloads:
/// refused with what to do instead.
fn refuse_outside_spec(o: &Obj<'_>) -> Result<()> {
    for field in ["api_version", "kind", "metadata", "spec"] {
        if o.has(field) {
            return err(
                &join(&o.path, field),
                "paste the resource's spec (its content), not the whole resource",
            );
        }
    }
    for field in ["selector", "target_ref", "target_refs"] {
        if o.has(field) {
            return err(
                &join(&o.path, field),
                "chooses workloads, which the WasmPlugin's own selector or targetRefs does: \
                 remove it here",
            );
        }
    }
    Ok(())
}

/// Runs the plain compiler on JSON the dialect generated. In test builds the
/// schema test's field recorder (`asked`) skips it: those are istiod's
/// fields, not the user's.
fn generated<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(test)]
    return super::asked::unrecorded(f);
    #[cfg(not(test))]
    f()
}

/// Compiles the `istio` member at `path`.
pub fn compile(v: &Value, path: &str) -> Result<Dialect> {
    let mut o = Obj::new(v, path)?;
    let authentication = specs(&mut o, "request_authentication")?;
    let policies = specs(&mut o, "authorization_policy")?;
    o.finish()?;
    if authentication.is_empty() && policies.is_empty() {
        return err(
            path,
            "needs request_authentication or authorization_policy (or both)",
        );
    }
    let authn = authn::compile(&authentication, path)?;
    let condition = authz::compile(&policies, &authn.words, path)?;
    let matcher = generated(|| super::matchers::route_match(&json!({"prefix": "/"}), path))?;
    let offer = crate::rules::offer(&authn.verifier, &authn.providers);
    Ok(Dialect {
        providers: authn.providers,
        key_paths: authn.key_paths,
        rule: Rule {
            matcher,
            offer,
            verifier: authn.verifier,
            authorize: condition.map(|condition| Authorize {
                reads: Reads::Request,
                condition,
            }),
        },
    })
}

#[cfg(test)]
mod tests;
