//! JSON → compiled matchers: `StringMatcher`, `HeaderMatcher`,
//! `QueryParameterMatcher` and a rule's `RouteMatch`. Regexes are compiled here,
//! once; a regex that does not compile is a configuration error.

use super::json::{err, Obj, Result};
use crate::matcher::{
    full_match_regex, HeaderMatcher, HeaderTest, PathMatch, QueryMatcher, RouteMatcher,
    StringMatcher, StringPattern,
};
use regex_lite::Regex;
use serde_json::Value;

/// `type.matcher.v3.RegexMatcher`: `{"google_re2": {}, "regex": "..."}`.
fn regex(v: &Value, path: &str) -> Result<Regex> {
    let mut o = Obj::new(v, path)?;
    if let Some(mut re2) = o.object("google_re2")? {
        re2.unsupported(&["max_program_size"])?;
        re2.finish()?;
    }
    let Some(pattern) = o.string("regex")? else {
        return err(&o.path, "missing required field \"regex\"");
    };
    let rpath = format!("{}.regex", o.path);
    o.finish()?;
    full_match_regex(&pattern).or_else(|e| err(&rpath, format!("invalid regex: {e}")))
}

/// Exactly one of the listed fields must be set.
/// Exactly one of the listed fields must be set.
fn one_of<'a>(o: &Obj<'_>, names: &[&'a str]) -> Result<&'a str> {
    match o.oneof(names)? {
        Some(one) => Ok(one),
        None => err(&o.path, format!("one of {} is required", names.join(", "))),
    }
}

/// `type.matcher.v3.StringMatcher`.
pub fn string_matcher(v: &Value, path: &str) -> Result<StringMatcher> {
    let mut o = Obj::new(v, path)?;
    o.unsupported(&["custom"])?;
    let which = one_of(&o, &["exact", "prefix", "suffix", "contains", "safe_regex"])?;
    let pattern = if which == "safe_regex" {
        let (rv, rp) = o.require("safe_regex")?;
        StringPattern::Regex(regex(rv, &rp)?)
    } else {
        let s = o.string(which)?.unwrap_or_default();
        if which != "exact" && s.is_empty() {
            return err(&format!("{path}.{which}"), "must not be empty");
        }
        match which {
            "prefix" => StringPattern::Prefix(s),
            "suffix" => StringPattern::Suffix(s),
            "contains" => StringPattern::Contains(s),
            _ => StringPattern::Exact(s),
        }
    };
    let ignore_case = o.bool("ignore_case")?;
    o.finish()?;
    Ok(StringMatcher {
        pattern,
        ignore_case,
    })
}

fn plain(pattern: StringPattern) -> StringMatcher {
    StringMatcher {
        pattern,
        ignore_case: false,
    }
}

/// `config.route.v3.HeaderMatcher`.
fn header_matcher(v: &Value, path: &str) -> Result<HeaderMatcher> {
    let mut o = Obj::new(v, path)?;
    let Some(name) = o.string("name")? else {
        return err(path, "missing required field \"name\"");
    };
    if name.is_empty() {
        return err(&format!("{path}.name"), "must not be empty");
    }
    let kinds = [
        "exact_match",
        "safe_regex_match",
        "range_match",
        "present_match",
        "prefix_match",
        "suffix_match",
        "contains_match",
        "string_match",
    ];
    let test = match o.oneof(&kinds)? {
        // No specifier: Envoy matches on presence.
        None => HeaderTest::Present(true),
        Some("present_match") => HeaderTest::Present(o.bool("present_match")?),
        Some("range_match") => {
            let mut r = o.require_object("range_match")?;
            let start = r.i64("start")?.unwrap_or(0);
            let end = r.i64("end")?.unwrap_or(0);
            r.finish()?;
            HeaderTest::Range { start, end }
        }
        Some("safe_regex_match") => {
            let (rv, rp) = o.require("safe_regex_match")?;
            HeaderTest::String(plain(StringPattern::Regex(regex(rv, &rp)?)))
        }
        Some("string_match") => {
            let (sv, sp) = o.require("string_match")?;
            HeaderTest::String(string_matcher(sv, &sp)?)
        }
        Some(k) => {
            let s = o.string(k)?.unwrap_or_default();
            HeaderTest::String(plain(match k {
                "prefix_match" => StringPattern::Prefix(s),
                "suffix_match" => StringPattern::Suffix(s),
                "contains_match" => StringPattern::Contains(s),
                _ => StringPattern::Exact(s),
            }))
        }
    };
    let invert = o.bool("invert_match")?;
    let treat_missing_as_empty = o.bool("treat_missing_header_as_empty")?;
    o.finish()?;
    Ok(HeaderMatcher {
        name: name.to_ascii_lowercase(),
        test,
        invert,
        treat_missing_as_empty,
    })
}

/// `config.route.v3.QueryParameterMatcher`.
fn query_matcher(v: &Value, path: &str) -> Result<QueryMatcher> {
    let mut o = Obj::new(v, path)?;
    let Some(name) = o.string("name")? else {
        return err(path, "missing required field \"name\"");
    };
    o.oneof(&["string_match", "present_match"])?;
    let value = match o.field("string_match")? {
        Some((sv, sp)) => Some(string_matcher(sv, &sp)?),
        None => None,
    };
    o.bool("present_match")?;
    o.finish()?;
    Ok(QueryMatcher { name, value })
}

/// `config.route.v3.RouteMatch` as jwt_authn uses it.
pub fn route_match(v: &Value, path: &str) -> Result<RouteMatcher> {
    let mut o = Obj::new(v, path)?;
    o.unsupported(&[
        "connect_matcher",
        "path_match_policy",
        "runtime_fraction",
        "grpc",
        "tls_context",
        "dynamic_metadata",
        "filter_state",
    ])?;
    let which = one_of(
        &o,
        &["prefix", "path", "safe_regex", "path_separated_prefix"],
    )?;
    let path_match = if which == "safe_regex" {
        let (rv, rp) = o.require("safe_regex")?;
        PathMatch::Regex(regex(rv, &rp)?)
    } else {
        let s = o.string(which)?.unwrap_or_default();
        match which {
            "prefix" => PathMatch::Prefix(s),
            "path" => PathMatch::Exact(s),
            _ => {
                if !s.starts_with('/')
                    || (s.len() > 1 && s.ends_with('/'))
                    || s.contains(['?', '#'])
                {
                    return err(
                        &format!("{path}.path_separated_prefix"),
                        "must start with / and not end with /, ? or #",
                    );
                }
                PathMatch::SeparatedPrefix(s)
            }
        }
    };
    let case_sensitive = match o.field("case_sensitive")? {
        None => true,
        Some((Value::Bool(b), _)) => *b,
        Some((_, p)) => return err(&p, "expected a boolean"),
    };
    let headers = o
        .list("headers")?
        .into_iter()
        .map(|(v, p)| header_matcher(v, &p))
        .collect::<Result<Vec<_>>>()?;
    let query = o
        .list("query_parameters")?
        .into_iter()
        .map(|(v, p)| query_matcher(v, &p))
        .collect::<Result<Vec<_>>>()?;
    o.finish()?;
    Ok(RouteMatcher {
        path: path_match,
        case_sensitive,
        headers,
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_matcher_needs_exactly_one_kind() {
        assert!(string_matcher(&json!({"exact": "a"}), "s").is_ok());
        let e = string_matcher(&json!({}), "s").unwrap_err();
        assert!(e.to_string().starts_with("s: one of exact"), "{e}");
        assert!(string_matcher(&json!({"exact": "a", "prefix": "b"}), "s").is_err());
    }

    #[test]
    fn bad_regex_is_a_config_error_with_path() {
        let e = route_match(
            &json!({"safe_regex": {"google_re2": {}, "regex": "(["}}),
            "rules[0].match",
        )
        .unwrap_err();
        assert_eq!(e.path, "rules[0].match.safe_regex.regex");
    }

    #[test]
    fn route_match_with_headers_and_unsupported_fields() {
        let m = route_match(
            &json!({"prefix": "/", "headers": [{"name": ":method", "exact_match": "GET"}]}),
            "m",
        )
        .unwrap();
        assert_eq!(m.headers.len(), 1);
        let e = route_match(&json!({"prefix": "/", "grpc": {}}), "m").unwrap_err();
        assert_eq!(e.path, "m.grpc");
        let e = route_match(
            &json!({"prefix": "/", "headers": [{"name": "x", "bogus": 1}]}),
            "m",
        )
        .unwrap_err();
        assert_eq!(e.path, "m.headers[0].bogus");
    }
}
