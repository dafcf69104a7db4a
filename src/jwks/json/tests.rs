use super::super::testdata::*;
use super::*;

fn one(key: &str) -> Result<Jwks, JwksError> {
    parse_json(&format!(r#"{{"keys":[{key}]}}"#))
}

fn err(key: &str) -> String {
    one(key).unwrap_err().to_string()
}

#[test]
fn generated_keys_of_every_type_parse() {
    let set =
        format!(r#"{{"keys":[{RSA_JWK},{EC256_JWK},{EC384_JWK},{EC512_JWK},{OCT_JWK},{ED_JWK}]}}"#);
    let jwks = parse_json(&set).unwrap();
    let kinds: Vec<_> = jwks
        .keys()
        .iter()
        .map(|k| (k.kty(), k.kid().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("RSA", "rsa1"),
            ("EC", "ec256"),
            ("EC", "ec384"),
            ("EC", "ec512"),
            ("oct", "hmac"),
            ("OKP", "ed")
        ]
    );
    assert_eq!(jwks.keys()[0].rsa_modulus_bits(), Some(2048));
}

#[test]
fn document_level_errors_are_precise() {
    assert_eq!(parse_json("[]").unwrap_err(), JwksError::NotAnObject);
    assert_eq!(parse_json("{}").unwrap_err(), JwksError::NoKeys);
    assert_eq!(
        parse_json(r#"{"keys":{}}"#).unwrap_err(),
        JwksError::KeysNotArray
    );
    assert_eq!(
        parse_json(r#"{"keys":[]}"#).unwrap_err().to_string(),
        "no valid key in JWKS"
    );
    assert!(matches!(
        parse_json("{").unwrap_err(),
        JwksError::InvalidJson(_)
    ));
}

#[test]
fn any_bad_key_fails_the_whole_set_naming_index_and_kid() {
    let set = format!(r#"{{"keys":[{RSA_JWK},{{"kty":"foo","kid":"k2"}}]}}"#);
    assert_eq!(
        parse_json(&set).unwrap_err().to_string(),
        r#"key 1 (kid "k2"): unsupported kty "foo""#
    );
    assert_eq!(
        err(r#"{"kty":"RSA","kid":"a","n":"*","e":"AQAB"}"#),
        r#"key 0 (kid "a"): RSA modulus "n" is not valid base64url"#
    );
    assert_eq!(err(r#"7"#), "key 0: not a JSON object");
    assert_eq!(err(r#"{"kid":"x"}"#), r#"key 0 (kid "x"): missing "kty""#);
    assert_eq!(err(r#"{"kty":1}"#), r#"key 0: "kty" is not a string"#);
}

#[test]
fn non_string_kid_or_alg_is_refused_rather_than_ignored() {
    assert_eq!(
        err(r#"{"kty":"oct","k":"AQ","kid":5}"#),
        r#"key 0: "kid" is not a string"#
    );
    assert_eq!(
        err(r#"{"kty":"oct","k":"AQ","alg":null}"#),
        r#"key 0: "alg" is not a string"#
    );
}

#[test]
fn empty_kid_and_alg_mean_absent() {
    let jwks = one(r#"{"kty":"oct","k":"AQ","kid":"","alg":""}"#).unwrap();
    assert_eq!((jwks.keys()[0].kid(), jwks.keys()[0].alg()), (None, None));
}

#[test]
fn use_member_is_ignored_like_envoy() {
    let jwks = one(r#"{"kty":"oct","k":"AQ","use":"enc"}"#).unwrap();
    assert_eq!(jwks.len(), 1);
}

#[test]
fn use_and_key_ops_are_kept_for_key_policies_even_when_malformed() {
    let set = r#"{"keys":[{"kty":"oct","k":"AQ","use":"enc"},
        {"kty":"oct","k":"AQ","use":5,"key_ops":{"verify":true}},
        {"kty":"oct","k":"AQ","use":"sig","key_ops":["verify"]},
        {"kty":"oct","k":"AQ"}]}"#;
    let jwks = parse_json(set).unwrap();
    let usage: Vec<_> = jwks
        .keys()
        .iter()
        .map(|k| (k.key_use(), k.key_ops(), k.declared_for_verification()))
        .collect();
    assert_eq!(
        usage,
        [
            (KeyUse::Other, KeyOps::Unstated, false),
            (KeyUse::Other, KeyOps::NoVerify, false),
            (KeyUse::Sig, KeyOps::Verify, true),
            (KeyUse::Unstated, KeyOps::Unstated, true),
        ]
    );
    assert_eq!(jwks.keys()[3].origin(), KeyOrigin::Jwks { index: 3 });
}

#[test]
fn rsa_alg_only_needs_an_rs_or_ps_prefix() {
    let rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
    let with_alg = |alg: &str| {
        let mut k = rsa.clone();
        k["alg"] = Value::from(alg);
        one(&k.to_string())
    };
    assert_eq!(
        with_alg("RSA-OAEP").unwrap().keys()[0].alg(),
        Some("RSA-OAEP")
    );
    assert!(with_alg("PS512").is_ok());
    assert_eq!(
        with_alg("ES256").unwrap_err().to_string(),
        r#"key 0 (kid "rsa1"): alg "ES256" is not an RS* or PS* algorithm for an RSA key"#
    );
}

#[test]
fn rsa_exponent_must_be_3_or_65537() {
    assert!(one(RSA1024_E3_JWK).is_ok());
    let rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
    let mut k = rsa.clone();
    k["e"] = Value::from("AQE"); // 257
    assert!(one(&k.to_string())
        .unwrap_err()
        .to_string()
        .ends_with("neither 3 nor 65537"));
    k["e"] = Value::from("AAEAAQ"); // 65537 with a leading zero byte
    assert!(one(&k.to_string()).is_ok());
    k.as_object_mut().unwrap().remove("n");
    assert!(one(&k.to_string())
        .unwrap_err()
        .to_string()
        .ends_with(r#"missing "n""#));
}

#[test]
fn ec_curve_comes_from_alg_or_crv_and_must_agree() {
    let ec: Value = serde_json::from_str(EC384_JWK).unwrap();
    let variant = |alg: Option<&str>, crv: Option<&str>| {
        let mut k = ec.clone();
        let o = k.as_object_mut().unwrap();
        o.remove("crv");
        if let Some(a) = alg {
            o.insert("alg".into(), a.into());
        }
        if let Some(c) = crv {
            o.insert("crv".into(), c.into());
        }
        one(&k.to_string()).map_err(|e| e.to_string())
    };
    assert!(variant(Some("ES384"), None).is_ok());
    assert!(variant(None, Some("P-384")).is_ok());
    // Neither: Envoy assumes P-256, so a P-384 point is invalid.
    assert!(variant(None, None)
        .unwrap_err()
        .ends_with(r#"EC coordinate "x" is too long for P-256"#));
    assert!(variant(Some("ES256"), Some("P-384"))
        .unwrap_err()
        .ends_with(r#"crv "P-384" does not match alg "ES256""#));
    assert!(variant(Some("RS256"), None)
        .unwrap_err()
        .ends_with("is not an ES* algorithm for an EC key"));
    assert!(variant(None, Some("secp256k1"))
        .unwrap_err()
        .ends_with(r#"unsupported crv "secp256k1" for an EC key"#));
    assert!(variant(Some("ES256K"), None)
        .unwrap_err()
        .ends_with(r#"unsupported alg "ES256K" for an EC key"#));
}

#[test]
fn ec_coordinates_without_leading_zeros_are_accepted() {
    // BN_bin2bn ignores length: strip a leading zero byte if present, else prepend one.
    let ec: Value = serde_json::from_str(EC256_JWK).unwrap();
    let x = b64::decode_url(ec["x"].as_str().unwrap().as_bytes()).unwrap();
    let mut padded = vec![0u8];
    padded.extend_from_slice(super::super::strip_leading_zeros(&x));
    let mut k = ec.clone();
    k["x"] = Value::from(crate::fixtures::b64url(&padded));
    assert!(one(&k.to_string()).is_ok());
}

#[test]
fn oct_and_okp_members_are_checked() {
    assert!(err(r#"{"kty":"oct","k":""}"#).ends_with(r#"HMAC key "k" is empty"#));
    assert!(err(r#"{"kty":"oct","k":"AQ","alg":"HS1"}"#)
        .ends_with("is not HS256, HS384 or HS512 for an oct key"));
    assert!(err(r#"{"kty":"OKP","x":"AQ"}"#).ends_with(r#"missing "crv""#));
    assert!(err(r#"{"kty":"OKP","crv":"X25519","x":"AQ"}"#)
        .ends_with(r#"unsupported crv "X25519" for an OKP key"#));
    assert!(err(r#"{"kty":"OKP","crv":"Ed25519","x":"AQ"}"#).ends_with("is 1 bytes, expected 32"));
    assert!(
        err(r#"{"kty":"OKP","crv":"Ed25519","alg":"Ed25519","x":"AQ"}"#)
            .ends_with("is not EdDSA for an OKP key")
    );
}

#[test]
fn x509_certificate_map_yields_rsa_keys_named_by_kid() {
    let doc = serde_json::json!({ "cert-kid": RSA_CERT_PEM }).to_string();
    let jwks = parse_json(&doc).unwrap();
    assert_eq!(jwks.keys()[0].kid(), Some("cert-kid"));
    assert_eq!(jwks.keys()[0].kty(), "RSA");
    assert_eq!(jwks.keys()[0].origin(), KeyOrigin::Certificate);
    assert!(jwks.keys()[0].declared_for_verification());
    // Not framed exactly like a certificate: Envoy reports missing "keys".
    let doc = serde_json::json!({ "k": RSA_PEM }).to_string();
    assert_eq!(parse_json(&doc).unwrap_err(), JwksError::NoKeys);
}

#[test]
fn corrupt_certificate_is_an_error_naming_its_kid() {
    let broken = RSA_CERT_PEM.replacen("MII", "MIJ", 1);
    let doc = serde_json::json!({ "c1": broken }).to_string();
    let e = parse_json(&doc).unwrap_err().to_string();
    assert!(
        e.starts_with(r#"X.509 certificate for kid "c1": malformed DER"#),
        "{e}"
    );
}
