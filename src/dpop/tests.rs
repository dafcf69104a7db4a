//! RFC 7638's and RFC 9449's own examples, the URI normalisation rules of
//! RFC 3986 §6.2.2/§6.2.3, and nonce lifetimes.

use super::*;
use crate::fixtures::object;
use serde_json::json;

/// RFC 7638 §3.1's RSA key.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

#[test]
fn thumbprints_are_the_rfcs_own_examples() {
    // RFC 7638 §3.1 (with the members it ignores: alg, kid).
    let rsa = object(json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB",
                            "alg": "RS256", "kid": "2011-04-29"}));
    assert_eq!(
        thumbprint(&rsa).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    // RFC 9449 §4.1's proof key, whose jkt §6.1 shows.
    let ec = object(json!({"kty": "EC", "crv": "P-256",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}));
    assert_eq!(
        thumbprint(&ec).unwrap(),
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    );
}

#[test]
fn a_key_without_its_members_has_no_thumbprint() {
    for (jwk, want) in [
        (
            json!({"n": "x", "e": "AQAB"}),
            ThumbprintError::UnknownKeyType,
        ),
        (
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            ThumbprintError::UnknownKeyType,
        ),
        (
            json!({"kty": "RSA", "n": "x"}),
            ThumbprintError::MissingMember("e"),
        ),
        (
            json!({"kty": "EC", "crv": "P-256", "x": "a", "y": 5}),
            ThumbprintError::MissingMember("y"),
        ),
        (
            json!({"kty": "OKP", "x": "a"}),
            ThumbprintError::MissingMember("crv"),
        ),
    ] {
        assert_eq!(thumbprint(&object(jwk.clone())), Err(want), "{jwk}");
    }
}

#[test]
fn private_members_are_found_in_any_key() {
    assert!(!has_private_members(&object(
        json!({"kty": "EC", "x": "a", "y": "b"})
    )));
    for m in PRIVATE_MEMBERS {
        let mut jwk = json!({"kty": "EC", "x": "a", "y": "b"});
        jwk[m] = json!("secret");
        assert!(has_private_members(&object(jwk)), "{m}");
    }
}

#[test]
fn ath_is_the_rfc_9449_example() {
    // RFC 9449 §7.1.
    assert_eq!(
        ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn htu_compares_after_syntax_and_scheme_based_normalisation() {
    let same = "https://server.example.com/token";
    for uri in [
        "https://server.example.com/token",
        "HTTPS://Server.Example.COM/token",
        "https://server.example.com:443/token",
        "https://server.example.com:0443/token",
        "https://server.example.com:/token",
        "https://server.example.com/token?x=1",
        "https://server.example.com/token#frag",
        "https://server.example.com/%74oken",
        "https://server.example.com/a/../token",
        "https://server.example.com/./token",
    ] {
        assert_eq!(normalize_htu(uri).as_deref(), Some(same), "{uri}");
    }
    for (uri, want) in [
        ("http://h", "http://h/"),
        ("http://h:80", "http://h/"),
        ("http://h:8080/p", "http://h:8080/p"),
        ("https://h:80/p", "https://h:80/p"),
        ("http://h/a%2fb", "http://h/a%2Fb"),
        ("http://h/a%2Fb", "http://h/a%2Fb"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://[::1]/x", "http://[::1]/x"),
        ("http://[::1]:088:/x", "http://[::1]:88/x"),
        ("http://h/a/b/..", "http://h/a/"),
        ("http://h/Token", "http://h/Token"),
        ("http://h/caf\u{e9}", "http://h/caf%C3%A9"),
        ("http://h/caf%c3%a9", "http://h/caf%C3%A9"),
        // A decoded path (Kong's) compares as the path the client sent.
        ("http://h/a b", "http://h/a%20b"),
        ("http://h/a%20b", "http://h/a%20b"),
        (
            "http://h/x\"<>\\^`{|}",
            "http://h/x%22%3C%3E%5C%5E%60%7B%7C%7D",
        ),
        ("http://h/!$&'()*+,;=:@", "http://h/!$&'()*+,;=:@"),
    ] {
        assert_eq!(normalize_htu(uri).as_deref(), Some(want), "{uri}");
    }
    for bad in [
        "",
        "server.example.com/token",
        "ftp://h/x",
        "https:///x",
        "https://user@h/x",
        "https://h:x/",
        "https://h:99999999999/",
        "https://h/%zz",
        "https://h/%4",
        "https://h\u{e9}/x",
        "https://h:0/x",
        "https://[::1/x",
        "https://h:80:80/x",
    ] {
        assert_eq!(normalize_htu(bad), None, "{bad}");
    }
}

#[test]
fn a_nonce_lives_in_its_bucket_and_the_next_under_its_secret_only() {
    let n = Nonces::new(b"config secret", 60_000).expect("a lifetime");
    let t0 = 1_700_000_080_000; // 40 s into a bucket (they start at multiples of 60 s)
    let nonce = n.issue(t0);
    assert!(n.accepts(&nonce, t0));
    assert!(n.accepts(&nonce, t0 + 20_000 - 1), "same bucket");
    assert!(n.accepts(&nonce, t0 + 79_999), "the next bucket");
    assert!(!n.accepts(&nonce, t0 + 80_000), "two buckets on");
    assert!(!n.accepts(&nonce, t0 - 40_001), "not before it was made");
    let other = Nonces::new(b"another secret", 60_000).expect("a lifetime");
    assert!(!other.accepts(&nonce, t0), "another config's nonce");
    assert!(!n.accepts("", t0));
    assert!(!n.accepts("not base64!", t0));
    assert!(!n.accepts(&nonce[1..], t0));
    assert!(
        !n.accepts(&format!("{nonce}="), t0),
        "only the text as issued"
    );
    assert_ne!(
        n.issue(t0),
        n.issue(t0 + 60_000),
        "a new bucket, a new nonce"
    );
    assert!(Nonces::new(b"s", 0).is_none());
    assert!(!format!("{n:?}").contains("config secret"));
}
