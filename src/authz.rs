//! jwt-guard's authorization extension: conditions on the claims of a
//! verified token (scopes, claim values, numeric bounds, the `iss/sub`
//! principal), composed with all / any / not. Compiled by `config` (also
//! from the Istio dialect's `AuthorizationPolicy`); evaluation reads claims
//! in place and allocates nothing.

mod istio;

pub use istio::{PrincipalPattern, RequestField, RequestTest, StringsTest, Wildcard};

use crate::authn::Verified;
use crate::claims::Object;
use crate::request::Headers;
use regex_lite::Regex;
use serde_json::Value;

/// A rule's `authorize`: whose token, and what it must satisfy.
#[derive(Clone, Debug)]
pub struct Authorize {
    pub reads: Reads,
    pub condition: Condition,
}

/// Whose claims a rule's `authorize` reads, and how it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Every verified token of this provider (index into
    /// `Config::providers`) must satisfy the condition; with none, the
    /// answer is a 401 for a missing token; a failure is a 403
    /// `insufficient_scope` naming the condition.
    Provider(usize),
    /// As Istio's RBAC filter reads an `AuthorizationPolicy`: the request's
    /// token is the verified one of the first provider (Istio orders them by
    /// issuer), and a request without one is evaluated with no claims at all
    /// (no principal, every claim missing) rather than refused. A failure is
    /// Istio's 403 `RBAC: access denied`.
    Request,
}

/// A claim name path: each element one object key, taken verbatim (so keys
/// holding dots or URLs work), plus how the config wrote it, for messages.
#[derive(Clone, Debug)]
pub struct ClaimPath {
    pub keys: Vec<String>,
    pub display: String,
}

impl ClaimPath {
    fn lookup<'a>(&self, claims: &'a Object) -> Option<&'a Value> {
        let mut keys = self.keys.iter();
        let mut current = claims.get(keys.next()?)?;
        for k in keys {
            current = current.as_object()?.get(k)?;
        }
        (!current.is_null()).then_some(current)
    }
}

/// A configured value to compare a claim with.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Literal {
    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Literal::Str(a), Value::String(b)) => a == b,
            (Literal::Num(a), Value::Number(b)) => b.as_f64() == Some(*a),
            (Literal::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        }
    }
}

/// Numeric bounds; any combination of the four.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounds {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
}

impl Bounds {
    /// The first bound `x` violates, by its config name.
    fn violated(&self, x: f64) -> Option<&'static str> {
        let checks = [
            ("gt", self.gt.map(|b| x > b)),
            ("gte", self.gte.map(|b| x >= b)),
            ("lt", self.lt.map(|b| x < b)),
            ("lte", self.lte.map(|b| x <= b)),
        ];
        checks
            .into_iter()
            .find(|(_, ok)| *ok == Some(false))
            .map(|(name, _)| name)
    }

    /// The first configured bound (what a non-numeric claim fails).
    fn first(&self) -> &'static str {
        [
            ("gt", self.gt),
            ("gte", self.gte),
            ("lt", self.lt),
            ("lte", self.lte),
        ]
        .into_iter()
        .find(|(_, b)| b.is_some())
        .map_or("gt", |(name, _)| name)
    }
}

/// What a claim condition tests.
#[derive(Clone, Debug)]
pub enum ClaimTest {
    /// true: present and not null; false: absent or null.
    Present(bool),
    Equals(Literal),
    OneOf(Vec<Literal>),
    /// Fails on a missing claim (closed), unlike Istio's `notValues`.
    NoneOf(Vec<Literal>),
    ContainsAny(Vec<Literal>),
    ContainsAll(Vec<Literal>),
    Matches(Regex),
    Numeric(Bounds),
    /// Istio's `values` on a claim: a string element (or word, see
    /// [`StringsTest`]) matching one of the patterns.
    Strings(StringsTest),
}

/// A compiled condition. `path` fields hold the JSON path, for messages.
#[derive(Clone, Debug)]
pub enum Condition {
    All(Vec<Condition>),
    Any {
        children: Vec<Condition>,
        path: String,
    },
    Not {
        inner: Box<Condition>,
        path: String,
    },
    Scopes {
        needed: Vec<String>,
        all: bool,
        /// `needed` joined with spaces: the RFC 6750 `scope` attribute.
        joined: String,
    },
    Claim {
        path: ClaimPath,
        test: ClaimTest,
    },
    Difference {
        a: ClaimPath,
        b: ClaimPath,
        bounds: Bounds,
    },
    /// The token's `iss` and `sub` match one of the patterns (Istio's
    /// `requestPrincipals`, `iss/sub` with `*` wildcards).
    Principal(Vec<PrincipalPattern>),
    /// The request's method, path, host or a header (Istio's
    /// `to.operation` and `request.headers[...]`; the dialect only).
    Request(RequestTest),
}

/// The condition that failed, and which operator, for the answer.
#[derive(Clone, Copy, Debug)]
pub struct Failure<'c> {
    pub condition: &'c Condition,
    pub op: &'static str,
}

impl Failure<'_> {
    /// The RFC 6750 `scope` attribute, for scope failures.
    pub fn scope(&self) -> Option<&str> {
        match self.condition {
            Condition::Scopes { joined, .. } => Some(joined),
            _ => None,
        }
    }

    /// Names the failed condition, never the token's claim values.
    pub fn describe(&self) -> String {
        match self.condition {
            Condition::Scopes { all, joined, .. } => format!(
                "token lacks required scope (needs {}: {joined})",
                if *all { "all of" } else { "one of" }
            ),
            Condition::Claim { path, .. } => {
                format!("claim {} fails \"{}\"", path.display, self.op)
            }
            Condition::Difference { a, b, .. } => {
                format!("claims {} - {} fail \"{}\"", a.display, b.display, self.op)
            }
            Condition::Principal(_) => "the token's principal (iss/sub) is not allowed".to_owned(),
            Condition::Request(t) => format!("the request's {} is not allowed", t.field),
            Condition::Any { path, .. } => format!("none of the alternatives at {path} is met"),
            Condition::Not { path, .. } => format!("the excluded condition at {path} is met"),
            Condition::All(_) => "a required condition is not met".to_owned(),
        }
    }
}

/// Token scopes: `scope` (space-delimited) and `scp` (list, or space-delimited).
/// RFC 6749 §3.3 delimits scopes by the space character only: a tab, newline
/// or other Unicode space is part of a word (`"openid\torders:read"` grants
/// neither scope). Runs of spaces are allowed.
fn has_scope(claims: &Object, wanted: &str) -> bool {
    let in_str = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|x| !x.is_empty() && x == wanted))
    };
    if in_str(claims.get("scope")) || in_str(claims.get("scp")) {
        return true;
    }
    claims
        .get("scp")
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().any(|i| i.as_str() == Some(wanted)))
}

/// A list claim's elements, or a scalar as a one-element list.
fn elements(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

fn claim_holds(test: &ClaimTest, value: Option<&Value>) -> Result<(), &'static str> {
    let ok = |cond: bool, op: &'static str| if cond { Ok(()) } else { Err(op) };
    match test {
        ClaimTest::Present(true) => ok(value.is_some(), "present"),
        ClaimTest::Present(false) => ok(value.is_none(), "absent"),
        ClaimTest::Equals(l) => ok(
            value.is_some_and(|v| elements(v).iter().any(|e| l.matches(e))),
            "equals",
        ),
        ClaimTest::OneOf(ls) => ok(
            value.is_some_and(|v| elements(v).iter().any(|e| ls.iter().any(|l| l.matches(e)))),
            "one_of",
        ),
        ClaimTest::NoneOf(ls) => ok(
            value.is_some_and(|v| !elements(v).iter().any(|e| ls.iter().any(|l| l.matches(e)))),
            "none_of",
        ),
        ClaimTest::ContainsAny(ls) => ok(
            value.is_some_and(|v| ls.iter().any(|l| elements(v).iter().any(|e| l.matches(e)))),
            "contains_any",
        ),
        ClaimTest::ContainsAll(ls) => ok(
            value.is_some_and(|v| ls.iter().all(|l| elements(v).iter().any(|e| l.matches(e)))),
            "contains_all",
        ),
        ClaimTest::Matches(re) => ok(
            value.is_some_and(|v| {
                elements(v)
                    .iter()
                    .any(|e| e.as_str().is_some_and(|s| re.is_match(s)))
            }),
            "matches",
        ),
        ClaimTest::Numeric(b) => match value.and_then(number) {
            Some(x) => b.violated(x).map_or(Ok(()), Err),
            None => Err(b.first()),
        },
        ClaimTest::Strings(t) => ok(value.is_some_and(|v| t.holds(v)), "values"),
    }
}

impl Condition {
    /// Checks the condition against one token's claims and the request.
    pub fn check<'c>(&'c self, claims: &Object, request: &Headers) -> Result<(), Failure<'c>> {
        let fail = |op| {
            Err(Failure {
                condition: self,
                op,
            })
        };
        match self {
            Condition::All(children) => children.iter().try_for_each(|c| c.check(claims, request)),
            Condition::Any { children, .. } => {
                if children.iter().any(|c| c.check(claims, request).is_ok()) {
                    Ok(())
                } else {
                    fail("any")
                }
            }
            Condition::Not { inner, .. } => {
                if inner.check(claims, request).is_ok() {
                    fail("not")
                } else {
                    Ok(())
                }
            }
            Condition::Scopes { needed, all, .. } => {
                let met = if *all {
                    needed.iter().all(|s| has_scope(claims, s))
                } else {
                    needed.iter().any(|s| has_scope(claims, s))
                };
                if met {
                    Ok(())
                } else {
                    fail("scopes")
                }
            }
            Condition::Claim { path, test } => claim_holds(test, path.lookup(claims)).or_else(fail),
            Condition::Difference { a, b, bounds } => {
                let x = a.lookup(claims).and_then(Value::as_f64);
                let y = b.lookup(claims).and_then(Value::as_f64);
                match (x, y) {
                    (Some(x), Some(y)) => bounds.violated(x - y).map_or(Ok(()), fail),
                    _ => fail(bounds.first()),
                }
            }
            Condition::Principal(patterns) => {
                let claim = |name| claims.get(name).and_then(Value::as_str);
                match (claim("iss"), claim("sub")) {
                    (Some(iss), Some(sub)) if patterns.iter().any(|p| p.matches(iss, sub)) => {
                        Ok(())
                    }
                    _ => fail("principal"),
                }
            }
            Condition::Request(t) => {
                if t.holds(request) {
                    Ok(())
                } else {
                    fail("request")
                }
            }
        }
    }
}

/// Why a rule's `authorize` denied the request.
#[derive(Clone, Copy, Debug)]
pub enum Refusal<'c> {
    /// No token of the named provider verified: answered as a missing token.
    NoToken,
    /// A verified token does not satisfy the condition.
    Failed(Failure<'c>),
    /// [`Reads::Request`]: the request does not satisfy the condition.
    Rbac,
}

impl Authorize {
    /// See [`Reads`] for whose claims must satisfy the condition.
    pub fn check<'c>(
        &'c self,
        verified: &[Verified],
        request: &Headers,
    ) -> Result<(), Refusal<'c>> {
        let Reads::Provider(provider) = self.reads else {
            let token = verified.iter().min_by_key(|v| v.provider);
            // An empty map allocates nothing.
            let none = Object::new();
            let claims = token.map_or(&none, |v| &*v.claims);
            return self
                .condition
                .check(claims, request)
                .map_err(|_| Refusal::Rbac);
        };
        let mut any = false;
        for v in verified.iter().filter(|v| v.provider == provider) {
            any = true;
            self.condition
                .check(&v.claims, request)
                .map_err(Refusal::Failed)?;
        }
        if any {
            Ok(())
        } else {
            Err(Refusal::NoToken)
        }
    }
}

#[cfg(test)]
mod tests;
