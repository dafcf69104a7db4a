//! A rule's `authorize`, condition by condition: each node of the tree is
//! checked with the core's own [`Condition::check`] on the verified
//! claims, so what `explain` prints is what the module decides. Claims are
//! named by path; their values only when asked (`--show-claims`).

use super::offline::Verified;
use crate::authn::Provider;
use crate::authz::{Authorize, ClaimPath, ClaimTest, Condition, Reads};
use crate::claims::Object;
use crate::request::Headers;
use serde_json::Value;
use std::rc::Rc;

/// One condition checked.
#[derive(Clone, Debug)]
pub struct Checked {
    pub depth: usize,
    pub condition: String,
    pub passed: bool,
    /// The operator that failed, as the 403 body names it.
    pub op: Option<&'static str>,
    /// The claim values the condition read (`--show-claims` only).
    pub values: Vec<(String, Value)>,
}

/// The conditions checked on one token's claims.
#[derive(Clone, Debug)]
pub struct TokenChecks {
    /// Whose claims: the provider's name, or none (a request without a
    /// token, read the Istio way).
    pub provider: Option<String>,
    pub conditions: Vec<Checked>,
}

/// Walks `authorize` for every token it reads, as `Authorize::check` does.
pub fn walk(
    authorize: &Authorize,
    verified: &[Verified],
    providers: &[Provider],
    headers: &Headers,
    show_claims: bool,
) -> Vec<TokenChecks> {
    let name = |p: usize| providers.get(p).map(|p| p.name.clone());
    let tokens: Vec<(Option<String>, Rc<Object>)> = match authorize.reads {
        Reads::Provider(p) => verified
            .iter()
            .filter(|v| v.provider == p)
            .map(|v| (name(p), Rc::clone(&v.claims)))
            .collect(),
        Reads::Request => {
            let first = verified.iter().min_by_key(|v| v.provider);
            vec![match first {
                Some(v) => (name(v.provider), Rc::clone(&v.claims)),
                None => (None, Rc::new(Object::new())),
            }]
        }
    };
    tokens
        .into_iter()
        .map(|(provider, claims)| {
            let mut conditions = Vec::new();
            node(
                &authorize.condition,
                &claims,
                headers,
                0,
                show_claims,
                &mut conditions,
            );
            TokenChecks {
                provider,
                conditions,
            }
        })
        .collect()
}

fn node(
    c: &Condition,
    claims: &Object,
    headers: &Headers,
    depth: usize,
    show: bool,
    out: &mut Vec<Checked>,
) {
    let result = c.check(claims, headers);
    let values = if show { values(c, claims) } else { Vec::new() };
    out.push(Checked {
        depth,
        condition: label(c),
        passed: result.is_ok(),
        op: result.err().map(|f| f.op),
        values,
    });
    let deeper = depth.saturating_add(1);
    match c {
        Condition::All(children) | Condition::Any { children, .. } => {
            for child in children {
                node(child, claims, headers, deeper, show, out);
            }
        }
        Condition::Not { inner, .. } => node(inner, claims, headers, deeper, show, out),
        _ => {}
    }
}

fn label(c: &Condition) -> String {
    match c {
        Condition::All(children) => format!("all of {} conditions", children.len()),
        Condition::Any { path, .. } => format!("any of ({path})"),
        Condition::Not { path, .. } => format!("not ({path})"),
        Condition::Scopes { all, joined, .. } => {
            format!(
                "scopes {}: {joined}",
                if *all { "all_of" } else { "any_of" }
            )
        }
        Condition::Claim { path, test } => format!("claim {} {}", path.display, test_name(test)),
        Condition::Difference { a, b, .. } => {
            format!("claims {} - {} within bounds", a.display, b.display)
        }
        Condition::Principal(_) => "principal (iss/sub) allowed".to_owned(),
        Condition::Request(t) => format!("request {} allowed", t.field),
    }
}

/// The config's name for a claim test.
fn test_name(test: &ClaimTest) -> &'static str {
    match test {
        ClaimTest::Present(true) => "present",
        ClaimTest::Present(false) => "absent",
        ClaimTest::Equals(_) => "equals",
        ClaimTest::OneOf(_) => "one_of",
        ClaimTest::NoneOf(_) => "none_of",
        ClaimTest::ContainsAny(_) => "contains_any",
        ClaimTest::ContainsAll(_) => "contains_all",
        ClaimTest::Matches(_) => "matches",
        ClaimTest::Numeric(_) => "numeric bounds",
        ClaimTest::Strings(_) => "values",
    }
}

/// The claims a leaf condition reads, for `--show-claims`.
fn values(c: &Condition, claims: &Object) -> Vec<(String, Value)> {
    let at = |p: &ClaimPath| (p.display.clone(), lookup(p, claims));
    match c {
        Condition::Scopes { .. } => ["scope", "scp"]
            .iter()
            .filter_map(|k| claims.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect(),
        Condition::Claim { path, .. } => vec![at(path)],
        Condition::Difference { a, b, .. } => vec![at(a), at(b)],
        Condition::Principal(_) => ["iss", "sub"]
            .iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    claims.get(*k).cloned().unwrap_or(Value::Null),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A claim's value for display (null when absent).
fn lookup(path: &ClaimPath, claims: &Object) -> Value {
    let mut keys = path.keys.iter();
    let mut current = keys.next().and_then(|k| claims.get(k));
    for k in keys {
        current = current.and_then(|v| v.get(k));
    }
    current.cloned().unwrap_or(Value::Null)
}
