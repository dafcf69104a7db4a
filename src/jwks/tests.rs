use super::testdata::*;
use super::*;

#[test]
fn parse_prefers_json_then_pem() {
    assert_eq!(parse(RSA_JWK_SET_WRAP).unwrap().len(), 1);
    let pem = parse(EC256_PEM).unwrap();
    assert_eq!(pem.keys()[0].kty(), "EC");
    assert_eq!(pem.keys()[0].kid(), None);
}

const RSA_JWK_SET_WRAP: &str = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;

#[test]
fn garbage_is_neither_jwks_nor_pem() {
    assert_eq!(parse("hello").unwrap_err(), JwksError::NotJwksNorPem);
    assert_eq!(
        parse("").unwrap_err().to_string(),
        "not a JWKS JSON object nor a PEM public key"
    );
}

#[test]
fn broken_json_reports_the_json_error() {
    let err = parse(r#"{"keys": [}"#).unwrap_err();
    assert!(matches!(err, JwksError::InvalidJson(_)), "{err}");
    assert!(err.to_string().starts_with("JWKS is not valid JSON: "));
}

#[test]
fn rsa_key_checks_follow_boringssl() {
    let odd_n = [0xC5u8; 64];
    assert!(rsa_key(&odd_n, &[1, 0, 1]).is_ok());
    assert_eq!(
        rsa_key(&[0xC4; 64], &[3]).unwrap_err(),
        KeyError::Rsa("modulus is even")
    );
    assert!(rsa_key(&odd_n, &[2]).is_err());
    assert!(rsa_key(&odd_n, &[1]).is_err());
    assert!(rsa_key(&odd_n, &[]).is_err());
    assert!(rsa_key(&odd_n, &[3, 0, 0, 0, 1]).is_err());
    assert!(rsa_key(&[], &[3]).is_err());
    // Envoy 1.40 drops moduli under 512 bits (seen end to end: a 511-bit
    // key's tokens get "Jwks doesn't have key to match kid or alg").
    let mut n511 = [0xffu8; 64];
    n511[0] = 0x7f;
    assert_eq!(
        rsa_key(&n511, &[3]).unwrap_err(),
        KeyError::Rsa("modulus is too short")
    );
    assert!(rsa_key(&[0x03, 0xff, 0xff, 0xff, 0xff], &[3]).is_err());
    let huge = vec![0xffu8; 16384 / 8 + 1];
    assert!(rsa_key(&huge, &[3]).is_err());
    assert!(rsa_key(&vec![0xffu8; 16384 / 8], &[3]).is_ok());
}

#[test]
fn ec_coordinates_may_omit_leading_zeros_but_not_overflow() {
    let err = ec_key_from_coordinates(Curve::P256, &[1; 33], &[1; 32]).unwrap_err();
    assert_eq!(err.to_string(), "EC coordinate \"x\" is too long for P-256");
    let err = ec_key_from_coordinates(Curve::P256, &[1; 32], &[1; 32]).unwrap_err();
    assert_eq!(err.to_string(), "EC public key is not a point on P-256");
    assert!(ec_key_from_coordinates(Curve::P521, &[], &[]).is_err());
}

#[test]
fn ed25519_small_order_and_undecodable_keys_are_rejected() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(ed25519_key(&identity).unwrap_err(), KeyError::Ed25519Weak);
    assert_eq!(
        ed25519_key(&[0u8; 31]).unwrap_err(),
        KeyError::Ed25519Length(31)
    );
    // y = 2 is not the y-coordinate of any curve point.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    assert_eq!(ed25519_key(&bad).unwrap_err(), KeyError::Ed25519Invalid);
}

#[test]
fn debug_output_does_not_leak_hmac_secrets() {
    let jwks = parse(r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#).unwrap();
    let shown = format!("{jwks:?}");
    assert!(shown.contains("\"h\""), "{shown}");
    assert!(!shown.contains("115, 101"), "{shown}");
}

#[test]
fn filtered_keeps_matching_keys_in_order_and_refuses_an_empty_set() {
    let set = format!(r#"{{"keys":[{RSA_JWK},{OCT_JWK},{ED_JWK}]}}"#);
    let jwks = parse(&set).unwrap();
    let kept = jwks.filtered(|k| k.kty() != "oct").unwrap();
    let kids: Vec<_> = kept.keys().iter().map(|k| k.kid()).collect();
    assert_eq!(kids, [Some("rsa1"), Some("ed")]);
    assert_eq!(kept.keys()[1].origin(), KeyOrigin::Jwks { index: 2 });
    assert_eq!(jwks.len(), 3);
    assert_eq!(jwks.filtered(|_| false).unwrap_err(), JwksError::NoValidKey);
}

#[test]
fn rejected_key_is_named_like_a_parse_error() {
    let jwks = parse(&format!(r#"{{"keys":[{OCT_JWK},{RSA_JWK}]}}"#)).unwrap();
    let e = jwks.keys()[1].rejected(KeyError::RsaBelowMinimum {
        bits: 2048,
        min: 3072,
    });
    assert_eq!(
        e.to_string(),
        r#"key 1 (kid "rsa1"): RSA key has 2048 bits, below min_rsa_key_bits 3072"#
    );
}

#[test]
fn clones_share_keys() {
    let a = parse(RSA_JWK_SET_WRAP).unwrap();
    let b = a.clone();
    assert!(std::ptr::eq(a.keys().as_ptr(), b.keys().as_ptr()));
}

/// Keys an IdP may publish beside its signing keys, that this filter cannot
/// use, each with the reason a strict parse gives for it.
fn unusable() -> Vec<(&'static str, &'static str)> {
    vec![
        // PayPal's published set carries one of these.
        (
            r#"{"kty":"OKP","kid":"x25519","crv":"X25519","use":"enc","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}"#,
            r#"key 1 (kid "x25519"): unsupported crv "X25519" for an OKP key"#,
        ),
        (
            r#"{"kty":"EC","kid":"k1","crv":"secp256k1","x":"WfaGaJNTeQ1cFSnfwHcU3fuZm_SKzGsXTTqDVAIXR80","y":"eQwl4wpkTyvMmQa8ydmVBVMgVVU4OqGNtNKJL6Zx_ik"}"#,
            r#"key 2 (kid "k1"): unsupported crv "secp256k1" for an EC key"#,
        ),
        (
            r#"{"kty":"AKP","kid":"pq","alg":"ML-DSA-44","pub":"AAAA"}"#,
            r#"key 3 (kid "pq"): unsupported kty "AKP""#,
        ),
        (
            r#"{"kty":"EC","kid":"ecdh","crv":"P-256","alg":"ECDH-ES","x":"77K-zpuI3JbjDKbPq5VdZKebbZFzBdt0r-GQtcTc8JU","y":"UvFuoxsOLDi7lfYkApGjmhnykB08jQOr-kgEEMJOQPs"}"#,
            r#"key 4 (kid "ecdh"): alg "ECDH-ES" is not an ES* algorithm for an EC key"#,
        ),
        (
            r#"{"kty":"RSA","kid":"bad-n","n":"!!!","e":"AQAB"}"#,
            r#"key 5 (kid "bad-n"): RSA modulus "n" is not valid base64url"#,
        ),
        (
            r#"{"kty":"EC","kid":"off-curve","crv":"P-256","x":"77K-zpuI3JbjDKbPq5VdZKebbZFzBdt0r-GQtcTc8JU","y":"UvFuoxsOLDi7lfYkApGjmhnykB08jQOr-kgEEMJOQPA"}"#,
            r#"key 6 (kid "off-curve"): EC public key is not a point on P-256"#,
        ),
        (
            r#"{"kty":"RSA","kid":"short","n":"xQ","e":"AQAB"}"#,
            r#"key 7 (kid "short"): invalid RSA public key: modulus is too short"#,
        ),
        (
            r#"{"kid":"no-kty"}"#,
            r#"key 8 (kid "no-kty"): missing "kty""#,
        ),
        (r#""not a key""#, "key 9: not a JSON object"),
    ]
}

/// A set with the fixture RSA key first, the unusable keys, then EC P-256.
fn mixed() -> String {
    let bad: Vec<&str> = unusable().iter().map(|(k, _)| *k).collect();
    format!(r#"{{"keys":[{RSA_JWK},{},{EC256_JWK}]}}"#, bad.join(","))
}

#[test]
fn a_fetched_set_skips_each_key_it_cannot_use_and_names_it() {
    let fetched = parse_fetched(&mixed()).unwrap();
    let kids: Vec<_> = fetched.jwks.keys().iter().map(Jwk::kid).collect();
    assert_eq!(kids, [Some("rsa1"), Some("ec256")]);
    let skipped: Vec<String> = fetched.skipped.iter().map(ToString::to_string).collect();
    let want: Vec<&str> = unusable().iter().map(|(_, why)| *why).collect();
    assert_eq!(skipped, want);
    // The keys kept still verify their tokens.
    for token in [TOK_RS256, TOK_ES256] {
        let (jwt, signed) = crate::jwt::parse(token).unwrap();
        let outcome = crate::jws::verify_with_jwks(
            &fetched.jwks,
            jwt.alg,
            jwt.kid.as_deref(),
            signed.signing_input.as_bytes(),
            &signed.signature,
        );
        assert_eq!(outcome, crate::jws::KeyOutcome::Verified, "{token}");
    }
}

#[test]
fn local_keys_stay_strict_about_the_same_set() {
    assert_eq!(
        parse(&mixed()).unwrap_err().to_string(),
        unusable()[0].1,
        "the first unusable key is the error"
    );
}

#[test]
fn a_fetched_set_fails_only_when_no_usable_key_is_left() {
    let only_bad = format!(r#"{{"keys":[{}]}}"#, unusable()[0].0);
    let e = parse_fetched(&only_bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"no usable key in JWKS: key 0 (kid "x25519"): unsupported crv "X25519" for an OKP key"#
    );
    assert_eq!(
        parse_fetched(r#"{"keys":[]}"#).unwrap_err(),
        JwksError::NoValidKey
    );
    // Document-level problems fail the fetch as before.
    for (doc, want) in [
        ("<html>", JwksError::NotJwksNorPem),
        (r#"{"keys":{}}"#, JwksError::KeysNotArray),
        (r#"{"nokeys":1}"#, JwksError::NoKeys),
        ("[1]", JwksError::NotAnObject),
    ] {
        assert_eq!(parse_fetched(doc).unwrap_err(), want, "{doc}");
    }
    let fetched = parse_fetched(&format!(r#"{{"keys":[{EC256_JWK}]}}"#)).unwrap();
    assert!(fetched.skipped.is_empty());
}
