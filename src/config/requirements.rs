//! JSON → requirement tree (`JwtRequirement`) and rules. Provider names are
//! resolved here: naming an unknown provider is a configuration error.

use super::json::{err, Obj, Result};
use super::matchers::route_match;
use crate::authn::{Audiences, Provider};
use crate::extract::Extractor;
use crate::rules::{Rule, Verifier};
use serde_json::Value;
use std::collections::BTreeMap;

/// `requirement_map`, compiled: every entry is checked even if no rule uses it.
pub type RequirementMap = BTreeMap<String, Verifier>;

fn extractor_for<'p>(providers: impl Iterator<Item = &'p Provider>) -> Extractor {
    let mut e = Extractor::default();
    for p in providers {
        e.add_provider(&p.issuer, &p.locations, &p.header_names_set());
    }
    e
}

fn provider_index(providers: &[Provider], name: &str, path: &str) -> Result<usize> {
    providers.iter().position(|p| p.name == name).map_or_else(
        || {
            err(
                path,
                format!("Required provider ['{name}'] is not configured."),
            )
        },
        Ok,
    )
}

fn provider_verifier(providers: &[Provider], idx: usize, audiences: Option<Audiences>) -> Verifier {
    Verifier::Provider {
        provider: idx,
        audiences,
        extractor: extractor_for(providers.get(idx).into_iter()),
    }
}

fn group(o: &mut Obj<'_>, field: &str, providers: &[Provider]) -> Result<Vec<Verifier>> {
    let Some(mut list) = o.object(field)? else {
        return err(&o.path, format!("missing {field}"));
    };
    let items = list.list("requirements")?;
    if items.len() < 2 {
        return err(
            &format!("{}.requirements", list.path),
            "needs at least 2 requirements",
        );
    }
    let children = items
        .into_iter()
        .map(|(v, p)| requirement(v, &p, providers))
        .collect::<Result<Vec<_>>>()?;
    list.finish()?;
    Ok(children)
}

fn empty_message(o: &mut Obj<'_>, field: &str) -> Result<()> {
    if let Some(inner) = o.object(field)? {
        inner.finish()?;
    }
    Ok(())
}

/// Compiles a `JwtRequirement`.
pub fn requirement(v: &Value, path: &str, providers: &[Provider]) -> Result<Verifier> {
    let mut o = Obj::new(v, path)?;
    let kinds = [
        "provider_name",
        "provider_and_audiences",
        "requires_any",
        "requires_all",
        "allow_missing_or_failed",
        "allow_missing",
    ];
    let verifier = match o.oneof(&kinds)? {
        None => Verifier::AllowAll,
        Some("provider_name") => {
            let name = o.string("provider_name")?.unwrap_or_default();
            let idx = provider_index(providers, &name, &format!("{path}.provider_name"))?;
            provider_verifier(providers, idx, None)
        }
        Some("provider_and_audiences") => {
            let mut pa = o.require_object("provider_and_audiences")?;
            let name = pa.string("provider_name")?.unwrap_or_default();
            let idx = provider_index(providers, &name, &format!("{}.provider_name", pa.path))?;
            let audiences = pa.strings("audiences")?;
            pa.finish()?;
            let audiences = (!audiences.is_empty()).then(|| Audiences::new(audiences));
            provider_verifier(providers, idx, audiences)
        }
        Some("requires_any") => {
            let children = group(&mut o, "requires_any", providers)?;
            any(children, providers)
        }
        Some("requires_all") => Verifier::All(group(&mut o, "requires_all", providers)?),
        Some("allow_missing_or_failed") => {
            empty_message(&mut o, "allow_missing_or_failed")?;
            Verifier::AllowFailed {
                extractor: extractor_for(providers.iter()),
            }
        }
        Some(_) => {
            empty_message(&mut o, "allow_missing")?;
            Verifier::AllowMissing {
                extractor: extractor_for(providers.iter()),
            }
        }
    };
    o.finish()?;
    Ok(verifier)
}

/// `requires_any`: `allow_missing*` children become flags of the group, as
/// in Envoy; a group of only such children keeps one as its verifier.
fn any(children: Vec<Verifier>, providers: &[Provider]) -> Verifier {
    let mut allow_missing = false;
    let mut allow_missing_or_failed = false;
    let mut rest = Vec::new();
    for c in children {
        match c {
            Verifier::AllowMissing { .. } => allow_missing = true,
            Verifier::AllowFailed { .. } => allow_missing_or_failed = true,
            other => rest.push(other),
        }
    }
    if rest.is_empty() {
        let extractor = extractor_for(providers.iter());
        rest.push(if allow_missing_or_failed {
            Verifier::AllowFailed { extractor }
        } else {
            Verifier::AllowMissing { extractor }
        });
    }
    Verifier::Any {
        children: rest,
        allow_missing,
        allow_missing_or_failed,
    }
}

/// Compiles one `RequirementRule`.
pub fn rule(
    v: &Value,
    path: &str,
    providers: &[Provider],
    requirement_map: &RequirementMap,
) -> Result<Rule> {
    let mut o = Obj::new(v, path)?;
    let (mv, mp) = o.require("match")?;
    let matcher = route_match(mv, &mp)?;
    if o.has("requires") && o.has("requirement_name") {
        return err(path, "only one of requires, requirement_name may be set");
    }
    let verifier = if let Some((rv, rp)) = o.field("requires")? {
        requirement(rv, &rp, providers)?
    } else if let Some(name) = o.string("requirement_name")? {
        let Some(v) = requirement_map.get(name.as_str()) else {
            return err(
                &format!("{path}.requirement_name"),
                format!("\"{name}\" is not in requirement_map"),
            );
        };
        v.clone()
    } else {
        Verifier::AllowAll
    };
    let authorize = match o.field("authorize")? {
        Some((av, ap)) => Some(super::authz::authorize(av, &ap, providers, &verifier)?),
        None => None,
    };
    o.finish()?;
    let offer = crate::rules::offer(&verifier, providers);
    Ok(Rule {
        matcher,
        verifier,
        authorize,
        offer,
    })
}
