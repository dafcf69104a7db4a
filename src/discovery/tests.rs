use super::*;

fn target(scheme: &str, authority: &str, path: &str) -> Target {
    Target {
        scheme: scheme.into(),
        authority: authority.into(),
        path: path.into(),
    }
}

#[test]
fn parse_uri_keeps_port_path_and_query() {
    assert_eq!(
        parse_uri("http://idp.test:8080/jwks.json?a=1&b=2").unwrap(),
        target("http", "idp.test:8080", "/jwks.json?a=1&b=2")
    );
}

#[test]
fn parse_uri_without_path_is_root() {
    assert_eq!(
        parse_uri("https://idp.example.com").unwrap(),
        target("https", "idp.example.com", "/")
    );
    assert_eq!(
        parse_uri("http://idp?x=1").unwrap(),
        target("http", "idp", "/?x=1")
    );
}

#[test]
fn parse_uri_https_scheme_case_insensitive() {
    assert_eq!(
        parse_uri("HTTPS://IdP.example.com/k").unwrap(),
        target("https", "IdP.example.com", "/k")
    );
}

#[test]
fn parse_uri_accepts_ipv6_literals() {
    assert_eq!(
        parse_uri("http://[::1]:8080/k").unwrap(),
        target("http", "[::1]:8080", "/k")
    );
    assert!(parse_uri("http://[::1]/").is_ok());
    assert!(parse_uri("http://[nope]/").is_err());
}

#[test]
fn parse_uri_rejects_ftp() {
    let err = parse_uri("ftp://idp/keys").unwrap_err();
    assert_eq!(err, UriError::UnsupportedScheme("ftp".into()));
    assert_eq!(err.to_string(), r#"URI scheme "ftp" is not http or https"#);
}

#[test]
fn parse_uri_rejects_userinfo_fragment_and_empty_host() {
    assert_eq!(
        parse_uri("http://u:p@idp/").unwrap_err(),
        UriError::Userinfo
    );
    assert_eq!(
        parse_uri("http://idp/k#frag").unwrap_err(),
        UriError::Fragment
    );
    assert_eq!(parse_uri("http:///k").unwrap_err(), UriError::EmptyHost);
    assert_eq!(parse_uri("http://:80/k").unwrap_err(), UriError::EmptyHost);
    assert_eq!(parse_uri("").unwrap_err(), UriError::Empty);
    assert_eq!(parse_uri("idp/keys").unwrap_err(), UriError::MissingScheme);
}

#[test]
fn parse_uri_rejects_bad_ports_hosts_and_characters() {
    for port in ["", "0", "65536", "+80", "8o"] {
        assert_eq!(
            parse_uri(&format!("http://idp:{port}/")).unwrap_err(),
            UriError::InvalidPort(port.into())
        );
    }
    assert_eq!(
        parse_uri("http://id\\p/").unwrap_err(),
        UriError::InvalidHost("id\\p".into())
    );
    assert_eq!(
        parse_uri("http://idp/a b").unwrap_err(),
        UriError::InvalidChar(' ')
    );
    assert_eq!(
        parse_uri("http://idp/\r\n").unwrap_err(),
        UriError::InvalidChar('\r')
    );
}

const ISS: &str = "https://idp.example.com";

#[test]
fn document_with_matching_issuer_gives_jwks_target() {
    let body = br#"{"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com:8443/certs","x":[1]}"#;
    assert_eq!(
        parse_document(body, ISS).unwrap(),
        target("https", "idp.example.com:8443", "/certs")
    );
}

#[test]
fn document_issuer_mismatch() {
    let body = br#"{"issuer":"https://evil","jwks_uri":"https://evil/k"}"#;
    let err = parse_document(body, "https://idp").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"discovery issuer "https://evil" does not match the provider's issuer "https://idp""#
    );
    // Exact comparison: no trailing-slash normalisation.
    let body = br#"{"issuer":"https://idp.example.com/","jwks_uri":"https://i/k"}"#;
    assert!(matches!(
        parse_document(body, ISS),
        Err(DiscoveryError::IssuerMismatch { .. })
    ));
}

#[test]
fn document_mismatch_clips_long_issuer() {
    let long = "a".repeat(10_000);
    let body = format!(r#"{{"issuer":"{long}","jwks_uri":"http://i/"}}"#);
    let err = parse_document(body.as_bytes(), ISS).unwrap_err();
    assert!(err.to_string().len() < 400, "{err}");
}

#[test]
fn document_missing_or_non_string_members() {
    let cases: [(&[u8], DiscoveryError); 4] = [
        (
            br#"{"jwks_uri":"http://i/"}"#,
            DiscoveryError::MissingIssuer,
        ),
        (
            br#"{"issuer":1,"jwks_uri":"http://i/"}"#,
            DiscoveryError::IssuerNotString,
        ),
        (
            br#"{"issuer":"https://idp.example.com"}"#,
            DiscoveryError::Missing("jwks_uri"),
        ),
        (
            br#"{"issuer":"https://idp.example.com","jwks_uri":null}"#,
            DiscoveryError::NotString("jwks_uri"),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(parse_document(body, ISS).unwrap_err(), want);
    }
    assert_eq!(
        DiscoveryError::Missing("jwks_uri").to_string(),
        r#"discovery document has no "jwks_uri""#
    );
}

#[test]
fn document_non_object_or_not_json() {
    assert_eq!(
        parse_document(b"[1]", ISS).unwrap_err(),
        DiscoveryError::NotAnObject("array")
    );
    assert_eq!(
        parse_document(b"\"x\"", ISS).unwrap_err().to_string(),
        "discovery document is a JSON string, not an object"
    );
    let err = parse_document(b"<html>", ISS).unwrap_err();
    assert!(matches!(err, DiscoveryError::NotJson(_)), "{err}");
}

#[test]
fn document_duplicate_trusted_member() {
    let body =
        br#"{"issuer":"https://idp.example.com","jwks_uri":"http://a/","issuer":"https://evil"}"#;
    assert_eq!(
        parse_document(body, ISS).unwrap_err(),
        DiscoveryError::DuplicateMember("issuer")
    );
    let body = br#"{"x":1,"x":2,"issuer":"https://idp.example.com","jwks_uri":"http://a/"}"#;
    assert!(parse_document(body, ISS).is_ok());
}

#[test]
fn document_bad_jwks_uri() {
    let body = br#"{"issuer":"https://idp.example.com","jwks_uri":"ftp://idp/k"}"#;
    let err = parse_document(body, ISS).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"discovery jwks_uri "ftp://idp/k" is unusable: URI scheme "ftp" is not http or https"#
    );
}

#[test]
fn introspection_endpoint_is_read_and_checked_like_jwks_uri() {
    let doc = |extra: &str| format!(r#"{{"issuer": "{ISS}", "jwks_uri": "https://idp/j"{extra}}}"#);
    let ok = doc(r#", "introspection_endpoint": "https://idp/oauth2/introspect""#);
    assert_eq!(
        introspection_endpoint(ok.as_bytes(), ISS).unwrap().path,
        "/oauth2/introspect"
    );
    assert_eq!(
        introspection_endpoint(doc("").as_bytes(), ISS).unwrap_err(),
        DiscoveryError::Missing("introspection_endpoint")
    );
    let twice = doc(
        r#", "introspection_endpoint": "https://a/i", "introspection_endpoint": "https://b/i""#,
    );
    assert_eq!(
        introspection_endpoint(twice.as_bytes(), ISS).unwrap_err(),
        DiscoveryError::DuplicateMember("introspection_endpoint")
    );
    let bad = doc(r#", "introspection_endpoint": "ftp://idp/i""#);
    let e = introspection_endpoint(bad.as_bytes(), ISS).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("discovery introspection_endpoint \"ftp://idp/i\" is unusable"),
        "{e}"
    );
    assert!(introspection_endpoint(ok.as_bytes(), "https://other").is_err());
}
