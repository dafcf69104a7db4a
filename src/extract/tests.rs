//! Token locations: value prefixes, query parameters, cookies, repeated
//! headers, and what a verified token removes.

use super::joined::JOINED_BY_ENVOY;
use super::*;

fn hs(pairs: &[(&str, &str)]) -> Headers {
    Headers::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn ext(locs: Locations, issuer: &str) -> Extractor {
    let mut e = Extractor::default();
    e.add_provider(issuer, &locs, &["x-claim".to_owned()]);
    e
}

fn default_locs() -> Locations {
    Locations {
        headers: vec![("Authorization".into(), "Bearer ".into())],
        params: vec!["access_token".into()],
        cookies: vec![],
        dpop: false,
    }
}

fn dpop_locs() -> Locations {
    Locations {
        dpop: true,
        ..default_locs()
    }
}

#[test]
fn prefix_is_found_anywhere_and_is_case_sensitive() {
    let e = ext(default_locs(), "i");
    let t = e.extract(&hs(&[
        (":path", "/"),
        ("authorization", "Token Bearer   abc"),
    ]));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].value, "abc");
    assert!(e
        .extract(&hs(&[(":path", "/"), ("authorization", "bearer abc")]))
        .is_empty());
}

#[test]
fn tokens_from_header_and_param_are_both_returned() {
    let e = ext(default_locs(), "i");
    let t = e.extract(&hs(&[
        (":path", "/p?x=1&access_token=q%2Eq"),
        ("authorization", "Bearer h"),
    ]));
    let v: Vec<_> = t.iter().map(|t| t.value.as_str()).collect();
    assert_eq!(v, vec!["h", "q.q"]);
}

#[test]
fn removing_a_param_token_rewrites_the_path() {
    let e = ext(default_locs(), "i");
    let mut h = hs(&[(":path", "/p?z=1&access_token=t&a=2")]);
    let t = e.extract(&h);
    e.remove(&t[0], &mut h);
    assert_eq!(h.path(), "/p?a=2&z=1");
    let mut h = hs(&[(":path", "/p?access_token=t")]);
    let t = e.extract(&h);
    e.remove(&t[0], &mut h);
    assert_eq!(h.path(), "/p");
}

#[test]
fn cookies_first_match_wins_and_quotes_are_dropped() {
    let locs = Locations {
        cookies: vec!["jwt".into()],
        ..Locations::default()
    };
    let e = ext(locs, "i");
    let t = e.extract(&hs(&[
        (":path", "/"),
        ("cookie", "a=1; jwt=\"tok\"; jwt=other"),
    ]));
    assert_eq!(t[0].value, "tok");
}

#[test]
fn issuer_sets_and_empty_issuer_means_any() {
    let e = ext(default_locs(), "i");
    let t = e.extract(&hs(&[(":path", "/"), ("authorization", "Bearer x")]));
    assert!(e.issuer_allowed(&t[0], "i"));
    assert!(!e.issuer_allowed(&t[0], "j"));
    assert!(!e.issuer_allowed(&t[0], ""));
    let e = ext(default_locs(), "");
    assert!(e.issuer_allowed(&t[0], "anything"));
}

fn x_jwt_and_x_auth() -> Extractor {
    let locs = Locations {
        headers: vec![
            ("x-jwt".into(), String::new()),
            ("x-auth".into(), "Token ".into()),
        ],
        ..Locations::default()
    };
    ext(locs, "i")
}

fn values(tokens: &[Token]) -> Vec<&str> {
    tokens.iter().map(|t| t.value.as_str()).collect()
}

#[test]
fn each_value_of_a_repeated_header_is_a_token_of_its_own() {
    let e = x_jwt_and_x_auth();
    let t = e.extract(&hs(&[
        (":path", "/"),
        ("x-jwt", "a.b.c"),
        ("other", "x"),
        ("X-JWT", "d.e.f"),
        ("x-jwt", ""),
    ]));
    assert_eq!(values(&t), vec!["a.b.c", "d.e.f", ""]);
    assert!(t.iter().all(|t| t.source == Source::Header(1)));
}

#[test]
fn each_value_of_a_repeated_prefixed_header_is_searched_for_the_prefix() {
    let e = x_jwt_and_x_auth();
    let t = e.extract(&hs(&[
        (":path", "/"),
        ("x-auth", "Token a.b.c"),
        ("x-auth", "d.e.f"),
        ("x-auth", "x Token  !g.h.i"),
    ]));
    assert_eq!(values(&t), vec!["a.b.c", "g.h.i"]);
}

#[test]
fn headers_envoy_joins_stay_one_token_joined_with_a_comma() {
    let e = ext(default_locs(), "i");
    let t = e.extract(&hs(&[
        (":path", "/"),
        ("authorization", "Bearer a.b.c"),
        ("Authorization", "Bearer d.e.f"),
    ]));
    assert_eq!(values(&t), vec!["a.b.c,Bearer d.e.f"]);
    // As the host hands it over under Envoy: the same token.
    let t = e.extract(&hs(&[
        (":path", "/"),
        ("authorization", "Bearer a.b.c,Bearer d.e.f"),
    ]));
    assert_eq!(values(&t), vec!["a.b.c,Bearer d.e.f"]);
}

#[test]
fn envoys_joined_headers_are_a_sorted_lower_case_list() {
    assert!(JOINED_BY_ENVOY.windows(2).all(|w| w[0] < w[1]));
    assert!(JOINED_BY_ENVOY
        .iter()
        .all(|n| !n.bytes().any(|b| b.is_ascii_uppercase())));
    for name in ["authorization", "accept", "x-request-id", "origin"] {
        assert!(joined_by_envoy(name), "{name}");
    }
    for name in ["x-jwt", "cookie", "proxy-authorization", "x-authorization"] {
        assert!(!joined_by_envoy(name), "{name}");
    }
}

#[test]
fn removing_a_header_token_removes_every_value_of_the_header() {
    let e = x_jwt_and_x_auth();
    let mut h = hs(&[
        (":path", "/"),
        ("x-jwt", "a"),
        ("x-jwt", "b"),
        ("x-auth", "c"),
    ]);
    let t = e.extract(&h);
    e.remove(&t[1], &mut h);
    assert_eq!(h.get("x-jwt"), None);
    assert_eq!(h.get("x-auth"), Some("c"));
}

#[test]
fn sanitize_removes_headers_the_filter_sets() {
    let e = ext(default_locs(), "i");
    let mut h = hs(&[("x-claim", "spoofed"), ("other", "kept")]);
    e.sanitize(&mut h);
    assert_eq!(h.get("x-claim"), None);
    assert_eq!(h.get("other"), Some("kept"));
}

#[test]
fn the_dpop_scheme_is_read_case_insensitively_only_where_a_provider_takes_it() {
    let e = ext(dpop_locs(), "i");
    for value in ["DPoP abc", "dpop abc", "DPOP   abc ", " DPoP\tabc"] {
        let t = e.extract(&hs(&[(":path", "/"), ("authorization", value)]));
        assert_eq!(t.len(), 1, "{value:?}");
        assert_eq!((t[0].value.as_str(), t[0].source), ("abc", Source::Dpop));
        assert!(e.issuer_allowed(&t[0], "i") && !e.issuer_allowed(&t[0], "other"));
    }
    for value in ["DPoPabc", "DPoP ", "DPoP", "Bearer DPoP abc x"] {
        let t = e.extract(&hs(&[(":path", "/"), ("authorization", value)]));
        assert!(t.iter().all(|t| t.source != Source::Dpop), "{value:?}");
    }
    // Without DPoP the scheme is not a token location.
    let plain = ext(default_locs(), "i");
    assert!(plain
        .extract(&hs(&[(":path", "/"), ("authorization", "DPoP abc")]))
        .is_empty());
}

#[test]
fn both_schemes_in_one_request_are_two_tokens() {
    let e = ext(dpop_locs(), "i");
    let joined = hs(&[
        (":path", "/?access_token=q"),
        ("authorization", "Bearer b, DPoP d"),
    ]);
    let sources: Vec<Source> = e.extract(&joined).iter().map(|t| t.source).collect();
    assert!(sources.contains(&Source::Dpop));
    assert!(sources.len() >= 3, "{sources:?}");
    assert!(sends_dpop(&joined));
    assert!(!sends_dpop(&hs(&[("authorization", "Bearer b")])));
}

#[test]
fn removing_a_dpop_token_removes_the_authorization_header() {
    let e = ext(dpop_locs(), "i");
    let mut h = hs(&[(":path", "/"), ("authorization", "DPoP abc")]);
    let t = e.extract(&h);
    e.remove(&t[0], &mut h);
    assert_eq!(h.get("authorization"), None);
}

#[test]
fn one_parameter_is_found_as_among_all_the_decoded_parameters() {
    let paths = [
        "/p",
        "/p?",
        "/p?access_token",
        "/p?access_token=",
        "/p?x=1&access_token=a&access_token=b",
        "/p?%61ccess_token=enc&access_token=plain",
        "/p?access%5Ftoken=a%2Eb#access_token=frag",
        "/p?&&access_token=%zz%2",
        "/p?=v&access_token==x=",
        "/p?access_token%=bad-escape&access_token%=x",
    ];
    for path in paths {
        for name in ["access_token", "x", "", "access_token%"] {
            let all = query_params(path);
            let first = all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            assert_eq!(query_param(path, name), first, "{path} {name}");
        }
    }
}
