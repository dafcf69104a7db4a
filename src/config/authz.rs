//! JSON → compiled `authorize` conditions (jwt-guard's extension on a rule).
//! Regexes are compiled here; empty lists, conditions on nothing and an
//! ambiguous provider are configuration errors.

use super::json::{err, Obj, Result};
use crate::authn::Provider;
use crate::authz::{
    Authorize, Bounds, ClaimPath, ClaimTest, Condition, Literal, PrincipalPattern, Reads,
};
use crate::matcher::full_match_regex;
use crate::rules::Verifier;
use serde_json::Value;

const KINDS: [&str; 7] = [
    "all",
    "any",
    "not",
    "scopes",
    "claim",
    "claim_difference",
    "principal",
];

fn literal(v: &Value, path: &str) -> Result<Literal> {
    match v {
        Value::String(s) => Ok(Literal::Str(s.clone())),
        Value::Bool(b) => Ok(Literal::Bool(*b)),
        Value::Number(n) => n
            .as_f64()
            .map(Literal::Num)
            .map_or_else(|| err(path, "number out of range"), Ok),
        _ => err(path, "expected a string, number or boolean"),
    }
}

fn literals(o: &mut Obj<'_>, name: &str) -> Result<Vec<Literal>> {
    let items = o.list(name)?;
    if items.is_empty() {
        return err(&format!("{}.{name}", o.path), "must not be empty");
    }
    items.into_iter().map(|(v, p)| literal(v, &p)).collect()
}

fn claim_path(v: &Value, path: &str) -> Result<ClaimPath> {
    let keys: Vec<String> = match v {
        Value::String(s) => s.split('.').map(str::to_owned).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                Value::String(s) => Ok(s.clone()),
                _ => err(&format!("{path}[{i}]"), "expected a string"),
            })
            .collect::<Result<_>>()?,
        _ => return err(path, "expected a claim name or a list of keys"),
    };
    if keys.is_empty() || keys.iter().any(String::is_empty) {
        return err(path, "claim name parts must not be empty");
    }
    let display = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(ClaimPath { keys, display })
}

/// Reads `gt`/`gte`/`lt`/`lte`; `None` when none is set.
fn bounds(o: &mut Obj<'_>) -> Result<Option<Bounds>> {
    let mut b = Bounds::default();
    let mut any = false;
    for (name, slot) in [
        ("gt", &mut b.gt),
        ("gte", &mut b.gte),
        ("lt", &mut b.lt),
        ("lte", &mut b.lte),
    ] {
        if let Some((v, p)) = o.field(name)? {
            *slot = Some(
                v.as_f64()
                    .map_or_else(|| err(&p, "expected a number"), Ok)?,
            );
            any = true;
        }
    }
    Ok(any.then_some(b))
}

fn claim_test(o: &mut Obj<'_>) -> Result<ClaimTest> {
    let ops = [
        "present",
        "equals",
        "one_of",
        "none_of",
        "contains_any",
        "contains_all",
        "matches",
    ];
    let set: Vec<&str> = ops.iter().copied().filter(|k| o.has(k)).collect();
    let numeric = ["gt", "gte", "lt", "lte"].iter().any(|k| o.has(k));
    match (set.as_slice(), numeric) {
        ([], false) => err(
            &o.path,
            format!(
                "needs an operator: one of {}, gt, gte, lt, lte",
                ops.join(", ")
            ),
        ),
        ([], true) => Ok(ClaimTest::Numeric(bounds(o)?.unwrap_or_default())),
        ([op], false) => match *op {
            "present" => Ok(ClaimTest::Present(o.bool("present")?)),
            "equals" => {
                let (v, p) = o.require("equals")?;
                Ok(ClaimTest::Equals(literal(v, &p)?))
            }
            "one_of" => Ok(ClaimTest::OneOf(literals(o, "one_of")?)),
            "none_of" => Ok(ClaimTest::NoneOf(literals(o, "none_of")?)),
            "contains_any" => Ok(ClaimTest::ContainsAny(literals(o, "contains_any")?)),
            "contains_all" => Ok(ClaimTest::ContainsAll(literals(o, "contains_all")?)),
            _ => {
                let pattern = o.string("matches")?.unwrap_or_default();
                full_match_regex(&pattern)
                    .map(ClaimTest::Matches)
                    .or_else(|e| {
                        err(
                            &format!("{}.matches", o.path),
                            format!("invalid regex: {e}"),
                        )
                    })
            }
        },
        (many, _) => err(
            &o.path,
            format!("only one operator may be set, found {}", many.join(", ")),
        ),
    }
}

fn children(o: &mut Obj<'_>, name: &str) -> Result<Vec<Condition>> {
    let items = o.list(name)?;
    if items.is_empty() {
        return err(&format!("{}.{name}", o.path), "must not be empty");
    }
    items
        .into_iter()
        .map(|(v, p)| condition_in(v, &p, false))
        .collect()
}

fn scopes(o: &mut Obj<'_>) -> Result<Condition> {
    let mut s = o.require_object("scopes")?;
    let all = match (s.has("all_of"), s.has("any_of")) {
        (true, false) => true,
        (false, true) => false,
        _ => return err(&s.path, "exactly one of all_of, any_of is required"),
    };
    let field = if all { "all_of" } else { "any_of" };
    let needed = s.strings(field)?;
    let fpath = format!("{}.{field}", s.path);
    if needed.is_empty() {
        return err(&fpath, "must not be empty");
    }
    if let Some(bad) = needed
        .iter()
        .find(|x| x.is_empty() || x.contains(char::is_whitespace))
    {
        return err(
            &fpath,
            format!("\"{bad}\" is not a scope: scopes are non-empty and have no spaces"),
        );
    }
    s.finish()?;
    let joined = needed.join(" ");
    Ok(Condition::Scopes {
        needed,
        all,
        joined,
    })
}

/// Compiles one condition object; `top` allows the `provider` member.
fn condition_in(v: &Value, path: &str, top: bool) -> Result<Condition> {
    let mut o = Obj::new(v, path)?;
    if top {
        o.string("provider")?;
    }
    let Some(kind) = o.oneof(&KINDS)? else {
        return err(
            path,
            format!("a condition needs one of {}", KINDS.join(", ")),
        );
    };
    let c = match kind {
        "all" => Condition::All(children(&mut o, "all")?),
        "any" => Condition::Any {
            children: children(&mut o, "any")?,
            path: format!("{path}.any"),
        },
        "not" => {
            let (nv, np) = o.require("not")?;
            Condition::Not {
                inner: Box::new(condition_in(nv, &np, false)?),
                path: np,
            }
        }
        "scopes" => scopes(&mut o)?,
        "principal" => {
            let ppath = format!("{path}.principal");
            let values = o.strings("principal")?;
            if values.is_empty() {
                return err(&ppath, "must not be empty");
            }
            Condition::Principal(values.iter().map(|v| PrincipalPattern::istio(v)).collect())
        }
        "claim" => {
            let (cv, cp) = o.require("claim")?;
            let path = claim_path(cv, &cp)?;
            Condition::Claim {
                path,
                test: claim_test(&mut o)?,
            }
        }
        _ => {
            let (dv, dp) = o.require("claim_difference")?;
            let (a, b) = match dv.as_array().map(Vec::as_slice) {
                Some([a, b]) => (
                    claim_path(a, &format!("{dp}[0]"))?,
                    claim_path(b, &format!("{dp}[1]"))?,
                ),
                _ => return err(&dp, "expected a list of two claims"),
            };
            let Some(bounds) = bounds(&mut o)? else {
                return err(path, "claim_difference needs gt, gte, lt or lte");
            };
            Condition::Difference { a, b, bounds }
        }
    };
    o.finish()?;
    Ok(c)
}

/// The providers whose tokens a requirement can verify.
fn reachable(v: &Verifier, n_providers: usize, out: &mut Vec<usize>) {
    match v {
        Verifier::Provider { provider, .. } => out.push(*provider),
        Verifier::AllowMissing { .. } | Verifier::AllowFailed { .. } => out.extend(0..n_providers),
        Verifier::Any { children, .. } | Verifier::All(children) => {
            for c in children {
                reachable(c, n_providers, out);
            }
        }
        Verifier::AllowAll => {}
    }
}

/// Compiles `rules[i].authorize` for a rule whose requirement is `verifier`.
pub fn authorize(
    v: &Value,
    path: &str,
    providers: &[Provider],
    verifier: &Verifier,
) -> Result<Authorize> {
    let mut reach = Vec::new();
    reachable(verifier, providers.len(), &mut reach);
    reach.sort_unstable();
    reach.dedup();
    if reach.is_empty() {
        return err(
            path,
            "authorize needs a rule whose requires verifies a token",
        );
    }
    let named = Obj::new(v, path)?.string("provider")?;
    let provider = match named {
        Some(name) => {
            let ppath = format!("{path}.provider");
            let Some(idx) = providers.iter().position(|p| p.name == name) else {
                return err(
                    &ppath,
                    format!("Required provider ['{name}'] is not configured."),
                );
            };
            if !reach.contains(&idx) {
                return err(
                    &ppath,
                    format!("the rule's requires never verifies a token of provider '{name}'"),
                );
            }
            idx
        }
        None => match reach.as_slice() {
            [only] => *only,
            _ => {
                let names: Vec<&str> = reach
                    .iter()
                    .filter_map(|i| providers.get(*i).map(|p| p.name.as_str()))
                    .collect();
                return err(
                    path,
                    format!(
                        "provider is required: the rule can verify tokens of {}",
                        names.join(", ")
                    ),
                );
            }
        },
    };
    Ok(Authorize {
        reads: Reads::Provider(provider),
        condition: condition_in(v, path, true)?,
    })
}
