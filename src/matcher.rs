//! Compiled request matchers with Envoy's semantics: string matchers (for
//! `subjects`, headers, query parameters) and the route match of a rule.
//! Built once by `config`; matching allocates nothing but the query parse.

use crate::extract::query_params;
use crate::request::Headers;
use regex_lite::Regex;

/// What a string matcher compares against.
#[derive(Clone, Debug)]
pub enum StringPattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Anchored at configure time: RE2 `FullMatch` semantics.
    Regex(Regex),
}

/// Envoy's `type.matcher.v3.StringMatcher`.
#[derive(Clone, Debug)]
pub struct StringMatcher {
    pub pattern: StringPattern,
    /// Applies to exact/prefix/suffix/contains, not to regexes (as in Envoy).
    pub ignore_case: bool,
}

fn starts_with(value: &str, p: &str, ignore_case: bool) -> bool {
    value.len() >= p.len()
        && value
            .as_bytes()
            .get(..p.len())
            .is_some_and(|v| eq(v, p.as_bytes(), ignore_case))
}

fn ends_with(value: &str, p: &str, ignore_case: bool) -> bool {
    value.len() >= p.len()
        && value
            .as_bytes()
            .get(value.len().saturating_sub(p.len())..)
            .is_some_and(|v| eq(v, p.as_bytes(), ignore_case))
}

fn eq(a: &[u8], b: &[u8], ignore_case: bool) -> bool {
    if ignore_case {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn contains(value: &str, p: &str, ignore_case: bool) -> bool {
    if !ignore_case {
        return value.contains(p);
    }
    let (v, p) = (value.as_bytes(), p.as_bytes());
    p.is_empty() || v.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p))
}

impl StringMatcher {
    pub fn matches(&self, value: &str) -> bool {
        let ic = self.ignore_case;
        match &self.pattern {
            StringPattern::Exact(p) => eq(value.as_bytes(), p.as_bytes(), ic),
            StringPattern::Prefix(p) => starts_with(value, p, ic),
            StringPattern::Suffix(p) => ends_with(value, p, ic),
            StringPattern::Contains(p) => contains(value, p, ic),
            StringPattern::Regex(r) => r.is_match(value),
        }
    }
}

/// How one header is tested (`config.route.v3.HeaderMatcher`).
#[derive(Clone, Debug)]
pub enum HeaderTest {
    /// `present_match`: true = must be present, false = must be absent.
    Present(bool),
    String(StringMatcher),
    /// `range_match`: the value parsed as an integer, `start <= v < end`.
    Range {
        start: i64,
        end: i64,
    },
}

#[derive(Clone, Debug)]
pub struct HeaderMatcher {
    pub name: String,
    pub test: HeaderTest,
    pub invert: bool,
    pub treat_missing_as_empty: bool,
}

impl HeaderMatcher {
    pub fn matches(&self, headers: &Headers) -> bool {
        let value = headers.get_joined(&self.name);
        if let HeaderTest::Present(want) = self.test {
            return (value.is_some() == want) != self.invert;
        }
        let value = match value {
            Some(v) => v,
            None if self.treat_missing_as_empty => String::new(),
            None => return false,
        };
        let hit = match &self.test {
            HeaderTest::String(m) => m.matches(&value),
            HeaderTest::Range { start, end } => {
                value.parse::<i64>().is_ok_and(|v| *start <= v && v < *end)
            }
            HeaderTest::Present(_) => false,
        };
        hit != self.invert
    }
}

/// `config.route.v3.QueryParameterMatcher`: `None` = must be present.
#[derive(Clone, Debug)]
pub struct QueryMatcher {
    pub name: String,
    pub value: Option<StringMatcher>,
}

/// How the path (without query) is matched.
#[derive(Clone, Debug)]
pub enum PathMatch {
    Prefix(String),
    Exact(String),
    /// `path_separated_prefix`: the prefix followed by `/` or the end.
    SeparatedPrefix(String),
    Regex(Regex),
}

/// A rule's `match` (`config.route.v3.RouteMatch`, the parts jwt_authn uses).
#[derive(Clone, Debug)]
pub struct RouteMatcher {
    pub path: PathMatch,
    pub case_sensitive: bool,
    pub headers: Vec<HeaderMatcher>,
    pub query: Vec<QueryMatcher>,
}

impl RouteMatcher {
    pub fn matches(&self, headers: &Headers) -> bool {
        let full = headers.path();
        let path = full.split(['?', '#']).next().unwrap_or("");
        let ic = !self.case_sensitive;
        let path_ok = match &self.path {
            PathMatch::Prefix(p) => starts_with(path, p, ic),
            PathMatch::Exact(p) => eq(path.as_bytes(), p.as_bytes(), ic),
            PathMatch::SeparatedPrefix(p) => {
                starts_with(path, p, ic)
                    && matches!(path.as_bytes().get(p.len()), None | Some(b'/'))
            }
            PathMatch::Regex(r) => r.is_match(path),
        };
        if !path_ok || !self.headers.iter().all(|m| m.matches(headers)) {
            return false;
        }
        if self.query.is_empty() {
            return true;
        }
        let params = query_params(full);
        self.query
            .iter()
            .all(|q| match params.iter().find(|(k, _)| *k == q.name) {
                None => false,
                Some((_, v)) => q.value.as_ref().is_none_or(|m| m.matches(v)),
            })
    }
}

/// Compiles a regex with RE2 `FullMatch` semantics. `regex-lite` rather than
/// `regex`: a third of the module's size less, and its ASCII `\d`/`\w`/`\s`/`\b`
/// are RE2's; what differs from RE2 (ASCII-only `(?i)`, no `\p{..}`) is in
/// docs/differences-from-envoy.md. The pattern is compiled alone first so that an unbalanced `)`
/// (`a)|(b`) is refused, as RE2 does, instead of escaping the anchoring group.
/// Nesting up to 250 deep is what the regex crate accepted (regex-lite's own
/// default is 50); its recursive parser needs about 0.2 KiB of stack a level.
pub fn full_match_regex(pattern: &str) -> Result<Regex, regex_lite::Error> {
    let build = |p: &str| {
        regex_lite::RegexBuilder::new(p)
            .size_limit(1 << 20)
            .nest_limit(250)
            .build()
    };
    build(pattern)?;
    build(&format!("^(?:{pattern})$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm(pattern: StringPattern, ignore_case: bool) -> StringMatcher {
        StringMatcher {
            pattern,
            ignore_case,
        }
    }

    fn req(path: &str, extra: &[(&str, &str)]) -> Headers {
        let mut v = vec![(":path".to_owned(), path.to_owned())];
        v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
        Headers::new(v)
    }

    #[test]
    fn string_matchers_with_and_without_case() {
        assert!(sm(StringPattern::Exact("Ab".into()), true).matches("aB"));
        assert!(!sm(StringPattern::Exact("Ab".into()), false).matches("aB"));
        assert!(sm(StringPattern::Prefix("us".into()), false).matches("user"));
        assert!(sm(StringPattern::Suffix("@X.com".into()), true).matches("a@x.COM"));
        assert!(sm(StringPattern::Contains("MID".into()), true).matches("amidb"));
        let r = full_match_regex("a.c").unwrap();
        assert!(sm(StringPattern::Regex(r.clone()), false).matches("abc"));
        assert!(!sm(StringPattern::Regex(r), false).matches("abcd"));
    }

    #[test]
    fn regex_perl_classes_are_ascii_as_in_re2() {
        let digits = full_match_regex(r"\d+").unwrap();
        assert!(digits.is_match("2024") && !digits.is_match("\u{661}\u{662}"));
        let word = full_match_regex(r"\w+").unwrap();
        assert!(word.is_match("user_1") && !word.is_match("\u{e9}t\u{e9}"));
        let space = full_match_regex(r"a\sb").unwrap();
        assert!(space.is_match("a b") && !space.is_match("a\u{a0}b"));
        // `.` is one character, not one byte, as in RE2's UTF-8 mode.
        assert!(full_match_regex("a.c").unwrap().is_match("a\u{e9}c"));
    }

    #[test]
    fn regex_case_insensitivity_is_ascii_only() {
        let r = full_match_regex("(?i)admin-\u{e9}").unwrap();
        assert!(r.is_match("ADMIN-\u{e9}"));
        // RE2 would fold É to é; regex-lite does not (docs/differences-from-envoy.md says so).
        assert!(!r.is_match("ADMIN-\u{c9}"));
    }

    #[test]
    fn regex_unbalanced_group_cannot_escape_the_anchors() {
        let e = full_match_regex("a)|(b").unwrap_err();
        assert!(e.to_string().contains(')'), "{e}");
        assert!(full_match_regex("(unclosed").is_err());
    }

    #[test]
    fn regex_nesting_up_to_the_regex_crate_limit_is_accepted() {
        let nested = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(full_match_regex(&nested(200)).unwrap().is_match("a"));
        let e = full_match_regex(&nested(300)).unwrap_err();
        assert!(e.to_string().contains("nesting"), "{e}");
    }

    #[test]
    fn regex_unicode_classes_are_refused_by_name() {
        for p in [r"\pL", r"\p{Greek}", r"\PN"] {
            let e = full_match_regex(p).unwrap_err();
            assert!(
                e.to_string().contains("Unicode character classes"),
                "{p}: {e}"
            );
        }
    }

    #[test]
    fn route_path_ignores_query_and_honours_case_flag() {
        let m = RouteMatcher {
            path: PathMatch::Prefix("/API".into()),
            case_sensitive: false,
            headers: vec![],
            query: vec![],
        };
        assert!(m.matches(&req("/api/x?y=1", &[])));
        let m = RouteMatcher {
            path: PathMatch::Exact("/a".into()),
            case_sensitive: true,
            headers: vec![],
            query: vec![],
        };
        assert!(m.matches(&req("/a?x", &[])));
        assert!(!m.matches(&req("/A", &[])));
        let m = RouteMatcher {
            path: PathMatch::SeparatedPrefix("/a".into()),
            case_sensitive: true,
            headers: vec![],
            query: vec![],
        };
        assert!(m.matches(&req("/a/b", &[])) && m.matches(&req("/a", &[])));
        assert!(!m.matches(&req("/ab", &[])));
    }

    #[test]
    fn header_matchers_present_invert_range_and_missing() {
        let present = HeaderMatcher {
            name: "x-a".into(),
            test: HeaderTest::Present(true),
            invert: false,
            treat_missing_as_empty: false,
        };
        assert!(present.matches(&req("/", &[("x-a", "")])));
        assert!(!present.matches(&req("/", &[])));
        let method = HeaderMatcher {
            name: ":method".into(),
            test: HeaderTest::String(sm(StringPattern::Exact("GET".into()), false)),
            invert: true,
            treat_missing_as_empty: false,
        };
        assert!(method.matches(&req("/", &[(":method", "POST")])));
        assert!(!method.matches(&req("/", &[(":method", "GET")])));
        assert!(!method.matches(&req("/", &[])));
        let range = HeaderMatcher {
            name: "n".into(),
            test: HeaderTest::Range { start: 1, end: 5 },
            invert: false,
            treat_missing_as_empty: false,
        };
        assert!(range.matches(&req("/", &[("n", "4")])));
        assert!(!range.matches(&req("/", &[("n", "5")])));
        assert!(!range.matches(&req("/", &[("n", "x")])));
    }

    #[test]
    fn query_parameter_matchers() {
        let m = RouteMatcher {
            path: PathMatch::Prefix("/".into()),
            case_sensitive: true,
            headers: vec![],
            query: vec![QueryMatcher {
                name: "debug".into(),
                value: Some(sm(StringPattern::Exact("1".into()), false)),
            }],
        };
        assert!(m.matches(&req("/x?a=b&debug=1", &[])));
        assert!(!m.matches(&req("/x?debug=2", &[])));
        assert!(!m.matches(&req("/x", &[])));
    }
}
