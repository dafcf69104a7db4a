//! Istio's ways of matching a request, for conditions compiled from an
//! `AuthorizationPolicy` (and the `principal` condition): values with `*`
//! wildcards, the `iss/sub` request principal, claims Istio's Envoy config
//! treats as space-delimited lists (`scope`, `permission`), and the
//! request's method, path, host and headers.

use crate::request::Headers;
use serde_json::Value;
use std::fmt;

/// A value in Istio's wildcard forms, as Istio turns it into an Envoy
/// `StringMatcher`: `*` alone is any non-empty string, a leading `*` a
/// suffix match, a trailing `*` a prefix match, anything else exact. Case
/// sensitive; a `*` elsewhere is a literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wildcard {
    NonEmpty,
    /// `*` on a header (Istio makes it a presence match): any value.
    Present,
    Suffix(String),
    Prefix(String),
    Exact(String),
}

impl Wildcard {
    pub fn istio(value: &str) -> Wildcard {
        if value == "*" {
            Wildcard::NonEmpty
        } else if let Some(suffix) = value.strip_prefix('*') {
            Wildcard::Suffix(suffix.to_owned())
        } else if let Some(prefix) = value.strip_suffix('*') {
            Wildcard::Prefix(prefix.to_owned())
        } else {
            Wildcard::Exact(value.to_owned())
        }
    }

    /// As [`Wildcard::istio`], but `*` is a presence match, as Istio
    /// matches methods, hosts and headers.
    pub fn istio_header(value: &str) -> Wildcard {
        match Wildcard::istio(value) {
            Wildcard::NonEmpty => Wildcard::Present,
            other => other,
        }
    }

    pub fn matches(&self, s: &str) -> bool {
        self.matches_case(s, false)
    }

    fn matches_case(&self, s: &str, ignore_case: bool) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if ignore_case {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let s = s.as_bytes();
        match self {
            Wildcard::NonEmpty => !s.is_empty(),
            Wildcard::Present => true,
            Wildcard::Suffix(x) => s
                .len()
                .checked_sub(x.len())
                .and_then(|at| s.get(at..))
                .is_some_and(|end| eq(end, x.as_bytes())),
            Wildcard::Prefix(x) => s.get(..x.len()).is_some_and(|head| eq(head, x.as_bytes())),
            Wildcard::Exact(x) => eq(s, x.as_bytes()),
        }
    }
}

/// What part of the request a [`RequestTest`] reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestField {
    /// `:method`.
    Method,
    /// `:path` without its query or fragment (Envoy's RBAC path matcher).
    Path,
    /// `:authority`, as sent (with its port, if any), ignoring ASCII case.
    Host,
    /// A header, by lowercased name; several values joined with `,`.
    Header(String),
}

impl fmt::Display for RequestField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestField::Method => f.write_str("method"),
            RequestField::Path => f.write_str("path"),
            RequestField::Host => f.write_str("host"),
            RequestField::Header(name) => write!(f, "header {name}"),
        }
    }
}

/// Istio's `to.operation` (`methods`, `paths`, `hosts`) and
/// `request.headers[name]`: the field is present and matches a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestTest {
    pub field: RequestField,
    pub patterns: Vec<Wildcard>,
}

impl RequestTest {
    /// The patterns for `values`, read as Istio reads them for the field:
    /// `*` on a path is any non-empty path, elsewhere a presence match.
    pub fn istio(field: RequestField, values: &[String]) -> RequestTest {
        let read = if field == RequestField::Path {
            Wildcard::istio
        } else {
            Wildcard::istio_header
        };
        RequestTest {
            patterns: values.iter().map(|v| read(v)).collect(),
            field,
        }
    }

    /// Allocates only to join a repeated header.
    pub fn holds(&self, request: &Headers) -> bool {
        let joined;
        let value = match &self.field {
            RequestField::Method => request.get(":method"),
            RequestField::Path => request.path().split(['?', '#']).next(),
            RequestField::Host => request.get(":authority"),
            RequestField::Header(name) => {
                joined = request.get_joined(name);
                joined.as_deref()
            }
        };
        let ignore_case = self.field == RequestField::Host;
        value.is_some_and(|v| self.patterns.iter().any(|p| p.matches_case(v, ignore_case)))
    }
}

/// One `requestPrincipals` value, split as Istio splits it: the issuer is
/// everything before the last `/`, the subject everything after, and each is
/// matched against the token's `iss` and `sub` claims (both must be
/// strings), so an issuer URL may hold slashes of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalPattern {
    pub iss: Wildcard,
    pub sub: Wildcard,
}

impl PrincipalPattern {
    /// Istio's reading of the wildcard forms: `*` is any issuer and any
    /// subject; `*<iss>/<sub>` an issuer suffix (any issuer for `*/<sub>`)
    /// with an exact subject, `*<sub>` without `/` any issuer with a subject
    /// suffix; `<iss>/<sub>*` an exact issuer with a subject prefix (any
    /// subject for `<iss>/*`), `<iss>*` without `/` an issuer prefix with any
    /// subject; otherwise both exact (no `/`: the subject must be empty).
    pub fn istio(value: &str) -> PrincipalPattern {
        let split = value.rsplit_once('/');
        let (iss, sub) = split.unwrap_or((value, ""));
        let any_or = |part: &str, f: fn(String) -> Wildcard, trimmed: &str| {
            if part == "*" {
                Wildcard::NonEmpty
            } else {
                f(trimmed.to_owned())
            }
        };
        let exact = |s: &str| Wildcard::Exact(s.to_owned());
        let (iss, sub) = if value == "*" {
            (Wildcard::NonEmpty, Wildcard::NonEmpty)
        } else if let Some(rest) = value.strip_prefix('*') {
            match split {
                Some(_) => {
                    let trimmed = iss.strip_prefix('*').unwrap_or(iss);
                    (any_or(iss, Wildcard::Suffix, trimmed), exact(sub))
                }
                None => (Wildcard::NonEmpty, Wildcard::Suffix(rest.to_owned())),
            }
        } else if let Some(rest) = value.strip_suffix('*') {
            match split {
                Some(_) => {
                    let trimmed = sub.strip_suffix('*').unwrap_or(sub);
                    (exact(iss), any_or(sub, Wildcard::Prefix, trimmed))
                }
                None => (Wildcard::Prefix(rest.to_owned()), Wildcard::NonEmpty),
            }
        } else {
            (exact(iss), exact(sub))
        };
        PrincipalPattern { iss, sub }
    }

    pub fn matches(&self, iss: &str, sub: &str) -> bool {
        self.iss.matches(iss) && self.sub.matches(sub)
    }
}

/// Istio's `values` on a claim: the claim is a string matching one of the
/// patterns, or a list with such a string. With `words` (a top-level claim
/// Istio normalizes: `scope`, `permission` and a rule's
/// `spaceDelimitedClaims`), a string claim is first split at spaces, so
/// `"scope": "a b"` holds the values `a` and `b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringsTest {
    pub patterns: Vec<Wildcard>,
    pub words: bool,
}

impl StringsTest {
    fn any(&self, s: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(s))
    }

    /// Reads the claim in place: no allocation.
    pub fn holds(&self, claim: &Value) -> bool {
        match claim {
            Value::String(s) if self.words => {
                s.split(' ').filter(|w| !w.is_empty()).any(|w| self.any(w))
            }
            Value::String(s) => self.any(s),
            Value::Array(items) => items
                .iter()
                .any(|i| i.as_str().is_some_and(|s| self.any(s))),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(value: &str) -> PrincipalPattern {
        PrincipalPattern::istio(value)
    }

    const IDP: &str = "https://idp.example.com";

    #[test]
    fn wildcard_forms() {
        assert!(Wildcard::istio("*").matches("x"));
        assert!(!Wildcard::istio("*").matches(""));
        assert!(Wildcard::istio("*@example.com").matches("ann@example.com"));
        assert!(!Wildcard::istio("*@example.com").matches("ann@example.org"));
        assert!(Wildcard::istio("team-*").matches("team-a"));
        assert!(!Wildcard::istio("team-*").matches("Team-a"));
        assert_eq!(Wildcard::istio("a*b"), Wildcard::Exact("a*b".into()));
    }

    #[test]
    fn principal_star_needs_a_non_empty_issuer_and_subject() {
        assert!(p("*").matches(IDP, "alice"));
        assert!(!p("*").matches(IDP, ""));
        assert!(!p("*").matches("", "alice"));
    }

    #[test]
    fn principal_exact_splits_at_the_last_slash() {
        let alice = format!("{IDP}/alice");
        assert!(p(&alice).matches(IDP, "alice"));
        assert!(!p(&alice).matches(IDP, "bob"));
        // The issuer keeps its own slashes; the subject has none.
        assert!(!p(&alice).matches("https://idp.example.com/alice", ""));
        assert!(p("https://idp.example.com/tenants/a/bob")
            .matches("https://idp.example.com/tenants/a", "bob"));
        // No slash at all: the issuer, with an empty subject.
        assert!(p("issuer").matches("issuer", ""));
        assert!(!p("issuer").matches("issuer", "x"));
    }

    #[test]
    fn principal_trailing_star_is_an_exact_issuer_and_a_subject_prefix() {
        let any_sub = p(&format!("{IDP}/*"));
        assert!(any_sub.matches(IDP, "alice"));
        assert!(!any_sub.matches(IDP, ""));
        assert!(!any_sub.matches("https://other.example.com", "alice"));
        let svc = p(&format!("{IDP}/svc-*"));
        assert!(svc.matches(IDP, "svc-orders"));
        assert!(!svc.matches(IDP, "alice"));
        // No slash: an issuer prefix, any subject.
        let prefix = p("https:*");
        assert_eq!(prefix.iss, Wildcard::Prefix("https:".into()));
        assert_eq!(prefix.sub, Wildcard::NonEmpty);
    }

    #[test]
    fn principal_leading_star_is_an_issuer_suffix_and_an_exact_subject() {
        let any_iss = p("*/alice");
        assert!(any_iss.matches(IDP, "alice"));
        assert!(any_iss.matches("https://other.example.com", "alice"));
        assert!(!any_iss.matches(IDP, "bob"));
        let suffix = p("*.example.com/alice");
        assert!(suffix.matches(IDP, "alice"));
        assert!(!suffix.matches("https://example.org", "alice"));
        // No slash: any issuer, a subject suffix.
        let sub = p("*@example.com");
        assert!(sub.matches(IDP, "ann@example.com"));
        assert!(!sub.matches(IDP, "ann@example.org"));
    }

    #[test]
    fn strings_match_strings_and_list_elements_only() {
        let t = StringsTest {
            patterns: vec![Wildcard::istio("admin"), Wildcard::istio("ops-*")],
            words: false,
        };
        assert!(t.holds(&json!("admin")));
        assert!(t.holds(&json!(["dev", "ops-eu"])));
        assert!(!t.holds(&json!("dev admin")));
        assert!(!t.holds(&json!(1)));
        assert!(!t.holds(&json!({"admin": true})));
    }

    #[test]
    fn words_split_string_claims_at_spaces_but_not_list_elements() {
        let t = StringsTest {
            patterns: vec![Wildcard::istio("orders:read")],
            words: true,
        };
        assert!(t.holds(&json!("openid  orders:read")));
        assert!(t.holds(&json!(["orders:read"])));
        assert!(!t.holds(&json!(["openid orders:read"])));
        assert!(!t.holds(&json!("orders:write")));
    }
}
