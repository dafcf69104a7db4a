//! `AuthorizationPolicy` specs → one `authorize` condition, with Istio's
//! semantics: DENY policies are checked first (any rule matching denies),
//! then, if there is any ALLOW policy, some rule of one must match. A rule
//! matches when its `from` (any entry), its `to` (any entry) and every
//! `when` condition match.

use super::super::json::{err, join, Obj, Result};
use crate::authz::{
    ClaimPath, ClaimTest, Condition, PrincipalPattern, RequestField, RequestTest, StringsTest,
    Wildcard,
};
use serde_json::Value;

const CLAIMS: &str = "request.auth.claims";
const HEADERS: &str = "request.headers";

/// `Not`, with the path its messages name.
fn not(inner: Condition, path: &str) -> Condition {
    Condition::Not {
        inner: Box::new(inner),
        path: path.to_owned(),
    }
}

fn any(children: Vec<Condition>, path: &str) -> Condition {
    Condition::Any {
        children,
        path: path.to_owned(),
    }
}

fn principal(values: &[String]) -> Condition {
    Condition::Principal(values.iter().map(|v| PrincipalPattern::istio(v)).collect())
}

fn claim(keys: Vec<String>, display: &str, values: &[String], words: bool) -> Condition {
    Condition::Claim {
        path: ClaimPath {
            keys,
            display: display.to_owned(),
        },
        test: ClaimTest::Strings(StringsTest {
            patterns: values.iter().map(|v| Wildcard::istio(v)).collect(),
            words,
        }),
    }
}

/// `values` and `not_values` of one attribute: the first must match one,
/// the second none (so a request without the attribute passes `not_values`,
/// as in Istio).
fn both(
    o: &mut Obj<'_>,
    values: &str,
    not_values: &str,
    make: &dyn Fn(&[String]) -> Condition,
    out: &mut Vec<Condition>,
) -> Result<()> {
    let yes = o.strings(values)?;
    if !yes.is_empty() {
        out.push(make(&yes));
    }
    let no = o.strings(not_values)?;
    if !no.is_empty() {
        out.push(not(make(&no), &join(&o.path, not_values)));
    }
    Ok(())
}

/// `request.auth.claims[a][b]` → `["a", "b"]` (for `prefix`
/// `request.auth.claims`); each name verbatim.
fn claim_keys(key: &str, prefix: &str) -> Option<Vec<String>> {
    let mut rest = key.strip_prefix(prefix)?;
    let mut keys = Vec::new();
    while !rest.is_empty() {
        let (name, after) = rest.strip_prefix('[')?.split_once(']')?;
        if name.is_empty() {
            return None;
        }
        keys.push(name.to_owned());
        rest = after;
    }
    (!keys.is_empty()).then_some(keys)
}

/// What a `when` key names.
enum Attribute {
    Principal,
    Header(String),
    Claim {
        keys: Vec<String>,
        display: String,
        words: bool,
    },
}

impl Attribute {
    fn parse(key: &str, words: &[String]) -> Option<Attribute> {
        let claim = |name: &str| Attribute::Claim {
            keys: vec![name.to_owned()],
            display: name.to_owned(),
            words: false,
        };
        match key {
            "request.auth.principal" => Some(Attribute::Principal),
            "request.auth.audiences" => Some(claim("aud")),
            "request.auth.presenter" => Some(claim("azp")),
            k if k.starts_with(HEADERS) => match claim_keys(k, HEADERS)?.as_slice() {
                [name] => Some(Attribute::Header(name.to_ascii_lowercase())),
                _ => None,
            },
            k => {
                let keys = claim_keys(k, CLAIMS)?;
                let words = matches!(keys.as_slice(), [one] if words.contains(one));
                Some(Attribute::Claim {
                    keys,
                    display: k.to_owned(),
                    words,
                })
            }
        }
    }

    fn condition(&self, values: &[String]) -> Condition {
        match self {
            Attribute::Principal => principal(values),
            Attribute::Header(name) => Condition::Request(RequestTest::istio(
                RequestField::Header(name.clone()),
                values,
            )),
            Attribute::Claim {
                keys,
                display,
                words,
            } => claim(keys.clone(), display, values, *words),
        }
    }
}

/// One `when` entry.
fn when(v: &Value, path: &str, words: &[String]) -> Result<Vec<Condition>> {
    let mut o = Obj::new(v, path)?;
    let key = o.string("key")?.unwrap_or_default();
    let kpath = join(path, "key");
    let attribute = match Attribute::parse(&key, words) {
        Some(a) => a,
        None if key.is_empty() => return err(&kpath, "is required"),
        None if key.starts_with(CLAIMS) => {
            return err(
                &kpath,
                format!("\"{key}\": expected {CLAIMS}[name] or {CLAIMS}[outer][inner]"),
            )
        }
        None if key.starts_with(HEADERS) => {
            return err(&kpath, format!("\"{key}\": expected {HEADERS}[name]"))
        }
        None => {
            return err(
                &kpath,
                format!(
                    "\"{key}\" is not supported: the module sees the token and the request's \
                     headers (request.auth.principal, request.auth.audiences, \
                     request.auth.presenter, {CLAIMS}[...], {HEADERS}[...]), not peers or \
                     connections; keep this condition in an AuthorizationPolicy Istio enforces"
                ),
            )
        }
    };
    let mut out = Vec::new();
    both(
        &mut o,
        "values",
        "not_values",
        &|v| attribute.condition(v),
        &mut out,
    )?;
    o.finish()?;
    if out.is_empty() {
        return err(path, "needs values or not_values (as in Istio)");
    }
    Ok(out)
}

/// One `from` entry: its `source`, of which only the request principal is
/// the token's.
fn from(v: &Value, path: &str) -> Result<Condition> {
    let mut o = Obj::new(v, path)?;
    let mut out = Vec::new();
    if let Some(mut s) = o.object("source")? {
        for field in [
            "principals",
            "not_principals",
            "namespaces",
            "not_namespaces",
            "service_accounts",
            "not_service_accounts",
            "ip_blocks",
            "not_ip_blocks",
            "remote_ip_blocks",
            "not_remote_ip_blocks",
        ] {
            if s.has(field) {
                return err(
                    &join(&s.path, field),
                    "is not supported: jwt-guard's Istio dialect decides on the token \
                     (request_principals, not_request_principals); put peer and address \
                     conditions in a separate AuthorizationPolicy enforced by Istio",
                );
            }
        }
        both(
            &mut s,
            "request_principals",
            "not_request_principals",
            &principal,
            &mut out,
        )?;
        s.finish()?;
    }
    o.finish()?;
    Ok(Condition::All(out))
}

/// One `to` entry: its `operation`'s methods, paths and hosts.
fn to(v: &Value, path: &str) -> Result<Condition> {
    let mut o = Obj::new(v, path)?;
    let mut out = Vec::new();
    if let Some(mut op) = o.object("operation")? {
        for field in ["ports", "not_ports"] {
            if op.has(field) {
                return err(
                    &join(&op.path, field),
                    "is not supported: the module does not see the destination port; keep it \
                     in an AuthorizationPolicy Istio enforces",
                );
            }
        }
        for field in ["paths", "not_paths"] {
            let (items, ipath) = (op.strings(field)?, join(&op.path, field));
            if let Some(i) = items
                .iter()
                .position(|p| p.contains("{*}") || p.contains("{**}"))
            {
                return err(
                    &format!("{ipath}[{i}]"),
                    "path templates ({*}, {**}) are not supported: use a prefix* or *suffix",
                );
            }
        }
        for (field, values, not_values) in [
            (RequestField::Method, "methods", "not_methods"),
            (RequestField::Path, "paths", "not_paths"),
            (RequestField::Host, "hosts", "not_hosts"),
        ] {
            let make = |v: &[String]| Condition::Request(RequestTest::istio(field.clone(), v));
            both(&mut op, values, not_values, &make, &mut out)?;
        }
        op.finish()?;
    }
    o.finish()?;
    Ok(Condition::All(out))
}

/// One rule: `from` (any entry), `to` (any entry) and every `when`.
fn rule(v: &Value, path: &str, words: &[String]) -> Result<Condition> {
    let mut o = Obj::new(v, path)?;
    let mut parts = Vec::new();
    let sources = o.list("from")?;
    if !sources.is_empty() {
        let children = sources.into_iter().map(|(s, p)| from(s, &p));
        parts.push(any(children.collect::<Result<_>>()?, &join(path, "from")));
    }
    let targets = o.list("to")?;
    if !targets.is_empty() {
        let children = targets.into_iter().map(|(t, p)| to(t, &p));
        parts.push(any(children.collect::<Result<_>>()?, &join(path, "to")));
    }
    for (w, p) in o.list("when")? {
        parts.extend(when(w, &p, words)?);
    }
    o.finish()?;
    Ok(Condition::All(parts))
}

/// One policy: whether it denies, and when it matches.
fn policy(v: &Value, path: &str, words: &[String]) -> Result<(bool, Condition)> {
    let mut o = Obj::new(v, path)?;
    super::refuse_outside_spec(&o)?;
    let deny = match o.string("action")?.as_deref() {
        None | Some("ALLOW") => false,
        Some("DENY") => true,
        Some(a @ ("AUDIT" | "CUSTOM")) => {
            return err(
                &join(path, "action"),
                format!("{a} policies are not supported: only ALLOW and DENY"),
            )
        }
        Some(a) => {
            return err(
                &join(path, "action"),
                format!("unknown action \"{a}\": expected ALLOW or DENY"),
            )
        }
    };
    if o.has("provider") {
        return err(
            &join(path, "provider"),
            "belongs to CUSTOM policies, which are not supported",
        );
    }
    let rpath = join(path, "rules");
    let rules = o
        .list("rules")?
        .into_iter()
        .map(|(r, p)| rule(r, &p, words));
    // No rules: an ALLOW policy allows nothing, a DENY policy denies nothing.
    let matched = any(rules.collect::<Result<_>>()?, &rpath);
    o.finish()?;
    Ok((deny, matched))
}

/// Compiles the `authorization_policy` specs; `None` when there are none.
pub fn compile(
    specs: &[(&Value, String)],
    words: &[String],
    path: &str,
) -> Result<Option<Condition>> {
    let (mut deny, mut allow) = (Vec::new(), Vec::new());
    for (v, p) in specs {
        let (is_deny, matched) = policy(v, p, words)?;
        if is_deny {
            deny.push(matched);
        } else {
            allow.push(matched);
        }
    }
    let ppath = join(path, "authorization_policy");
    let mut parts = Vec::new();
    if !deny.is_empty() {
        parts.push(not(any(deny, &ppath), &ppath));
    }
    if !allow.is_empty() {
        parts.push(any(allow, &ppath));
    }
    Ok((!parts.is_empty()).then_some(Condition::All(parts)))
}
