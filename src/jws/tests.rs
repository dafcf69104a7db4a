use super::*;
use crate::jwks::testdata::*;
use crate::jwks::{parse, Jwks};

fn jwks(keys: &[&str]) -> Jwks {
    parse(&format!(r#"{{"keys":[{}]}}"#, keys.join(","))).unwrap()
}

/// Verifies a compact token, taking alg and kid from its header.
fn check(jwks: &Jwks, token: &str) -> KeyOutcome {
    let (signing_input, sig) = token.rsplit_once('.').unwrap();
    let header = crate::b64::decode_url(signing_input.split('.').next().unwrap().as_bytes());
    let header: serde_json::Value = serde_json::from_slice(&header.unwrap()).unwrap();
    let alg = Alg::from_name(header["alg"].as_str().unwrap()).unwrap();
    let sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    verify_with_jwks(
        jwks,
        alg,
        header["kid"].as_str(),
        signing_input.as_bytes(),
        &sig,
    )
}

/// The token with its last signature byte flipped.
fn tampered(token: &str) -> String {
    let (si, sig) = token.rsplit_once('.').unwrap();
    let mut sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    *sig.last_mut().unwrap() ^= 1;
    format!("{si}.{}", crate::fixtures::b64url(&sig))
}

#[test]
fn alg_names_are_exact_and_case_sensitive() {
    for alg in Alg::ALL {
        assert_eq!(Alg::from_name(alg.name()), Some(alg));
    }
    for bad in ["none", "rs256", "Ed25519", "ES256K", "RS1", "", "HS256 "] {
        assert_eq!(Alg::from_name(bad), None, "{bad}");
    }
}

#[test]
fn tokens_from_pyjwt_verify_for_every_algorithm() {
    let all = jwks(&[RSA_JWK, EC256_JWK, EC384_JWK, EC512_JWK, OCT_JWK, ED_JWK]);
    for token in [
        TOK_RS256, TOK_RS384, TOK_RS512, TOK_PS256, TOK_PS384, TOK_PS512, TOK_ES256, TOK_ES384,
        TOK_ES512, TOK_HS256, TOK_HS384, TOK_HS512, TOK_EDDSA,
    ] {
        assert_eq!(check(&all, token), KeyOutcome::Verified, "{token}");
        assert_eq!(
            check(&all, &tampered(token)),
            KeyOutcome::SignatureInvalid,
            "{token}"
        );
    }
}

#[test]
fn pss_salt_length_is_recovered_from_the_signature() {
    let keys = jwks(&[RSA_JWK]);
    assert_eq!(check(&keys, TOK_PS256_SALT0), KeyOutcome::Verified);
    assert_eq!(check(&keys, TOK_PS256_SALTMAX), KeyOutcome::Verified);
}

#[test]
fn pem_keys_verify_by_key_type() {
    for (pem, token) in [
        (RSA_PEM, TOK_RS256),
        (RSA_PKCS1_PEM, TOK_PS384),
        (EC256_PEM, TOK_ES256),
        (EC256_COMPRESSED_PEM, TOK_ES256),
        (EC384_PEM, TOK_ES384),
        (EC512_PEM, TOK_ES512),
        (ED_PEM, TOK_EDDSA),
    ] {
        // A PEM key has no kid, so it matches the token's kid.
        assert_eq!(
            check(&parse(pem).unwrap(), token),
            KeyOutcome::Verified,
            "{pem}"
        );
    }
}

#[test]
fn unknown_kid_is_no_key_matched_but_keys_without_kid_match_any() {
    let keys = jwks(&[RSA_JWK]);
    let (si, sig) = TOK_RS256.rsplit_once('.').unwrap();
    let sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    let run = |keys: &Jwks, kid| verify_with_jwks(keys, Alg::RS256, kid, si.as_bytes(), &sig);
    assert_eq!(run(&keys, Some("other")), KeyOutcome::NoKeyMatched);
    assert_eq!(run(&keys, None), KeyOutcome::Verified);
    assert_eq!(run(&keys, Some("")), KeyOutcome::Verified);
    assert_eq!(
        run(&parse(RSA_PEM).unwrap(), Some("anything")),
        KeyOutcome::Verified
    );
}

#[test]
fn key_alg_must_equal_token_alg() {
    let rsa: serde_json::Value = serde_json::from_str(RSA_JWK).unwrap();
    let mut k = rsa.clone();
    k["alg"] = "RS384".into();
    assert_eq!(
        check(&jwks(&[&k.to_string()]), TOK_RS256),
        KeyOutcome::NoKeyMatched
    );
    k["alg"] = "RS256".into();
    assert_eq!(
        check(&jwks(&[&k.to_string()]), TOK_RS256),
        KeyOutcome::Verified
    );
    k["alg"] = "RSA-OAEP".into();
    assert_eq!(
        check(&jwks(&[&k.to_string()]), TOK_RS256),
        KeyOutcome::NoKeyMatched
    );
}

#[test]
fn bad_signature_with_another_key_of_same_kid_fails_verification() {
    let keys = jwks(&[RSA2_JWK]);
    assert_eq!(check(&keys, TOK_RS256), KeyOutcome::SignatureInvalid);
    // Keys are tried in order until one verifies.
    assert_eq!(
        check(&jwks(&[RSA2_JWK, RSA_JWK]), TOK_RS256),
        KeyOutcome::Verified
    );
}

#[test]
fn key_type_unable_to_verify_the_alg_still_counts_as_matched() {
    // Envoy: an RSA key without alg passes the filter for an ES256 token.
    let rsa_only = jwks(&[RSA_JWK]);
    let (si, sig) = TOK_ES256.rsplit_once('.').unwrap();
    let sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    let out = verify_with_jwks(&rsa_only, Alg::ES256, None, si.as_bytes(), &sig);
    assert_eq!(out, KeyOutcome::SignatureInvalid);
}

#[test]
fn hs256_signed_with_the_rsa_public_key_pem_is_rejected() {
    // Classic alg confusion: no RSA or EC key ever verifies an HMAC alg.
    assert_eq!(
        check(&jwks(&[RSA_JWK]), TOK_HS256_RSA_PEM_SECRET),
        KeyOutcome::SignatureInvalid
    );
    assert_eq!(
        check(&parse(RSA_PEM).unwrap(), TOK_HS256_RSA_PEM_SECRET),
        KeyOutcome::SignatureInvalid
    );
}

#[test]
fn envoy_hashes_by_token_alg_and_verifies_by_key_type() {
    // An alg-less EC key verifies ECDSA on its own curve with the token
    // alg's hash (SHA-256 for anything but ES384/ES512).
    let p384 = parse(EC384_PEM).unwrap();
    assert_eq!(check(&p384, TOK_ES256_BY_P384), KeyOutcome::Verified);
    let p521 = parse(EC512_PEM).unwrap();
    assert_eq!(check(&p521, TOK_ES256_BY_P521), KeyOutcome::Verified);
    assert_eq!(
        check(&parse(EC256_PEM).unwrap(), TOK_PS256_BY_EC256),
        KeyOutcome::Verified
    );
    // An alg-less oct key verifies any alg as HMAC (SHA-256 unless HS384/512).
    let oct = parse(
        r#"{"keys":[{"kty":"oct","k":"YS12ZXJ5LXNlY3JldC1obWFjLWtleS0wMTIzNDU2Nzg5YWJjZGVm"}]}"#,
    )
    .unwrap();
    assert_eq!(check(&oct, TOK_RS256_BY_HMAC), KeyOutcome::Verified);
    // With the standard alg on the key, such tokens find no key.
    let ec: serde_json::Value = serde_json::from_str(EC384_JWK).unwrap();
    let mut k = ec.clone();
    k["alg"] = "ES384".into();
    k.as_object_mut().unwrap().remove("kid");
    assert_eq!(
        check(&jwks(&[&k.to_string()]), TOK_ES256_BY_P384),
        KeyOutcome::NoKeyMatched
    );
}

#[test]
fn es256_signature_with_high_s_is_accepted() {
    assert_eq!(
        check(&jwks(&[EC256_JWK]), TOK_ES256_HIGH_S),
        KeyOutcome::Verified
    );
}

#[test]
fn ecdsa_halves_are_integers_of_any_length_like_bn_bin2bn() {
    let keys = jwks(&[EC256_JWK]);
    // r and s zero-padded to 33 bytes each: BoringSSL accepts.
    assert_eq!(check(&keys, TOK_ES256_PADDED_66), KeyOutcome::Verified);
    // A DER-encoded signature is not r||s.
    assert_eq!(
        check(&keys, TOK_ES256_DER_SIG),
        KeyOutcome::SignatureInvalid
    );
    let (si, sig) = TOK_ES256.rsplit_once('.').unwrap();
    let mut sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    let run = |sig: &[u8]| verify_with_jwks(&keys, Alg::ES256, None, si.as_bytes(), sig);
    // An odd trailing byte is ignored (signature_len / 2 per half).
    sig.push(0xAB);
    assert_eq!(run(&sig), KeyOutcome::Verified);
    sig.pop();
    for bad in [&[][..], &[0u8; 64][..], &sig[..63], &[0xff; 64][..]] {
        assert_eq!(run(bad), KeyOutcome::SignatureInvalid);
    }
    // r = 0 or s = 0.
    let mut zero_r = sig.clone();
    zero_r[..32].fill(0);
    assert_eq!(run(&zero_r), KeyOutcome::SignatureInvalid);
    let mut zero_s = sig.clone();
    zero_s[32..].fill(0);
    assert_eq!(run(&zero_s), KeyOutcome::SignatureInvalid);
}

#[test]
fn eddsa_signature_with_non_canonical_s_is_rejected() {
    assert_eq!(
        check(&jwks(&[ED_JWK]), TOK_EDDSA_NONCANONICAL_S),
        KeyOutcome::SignatureInvalid
    );
}

#[test]
fn eddsa_wrong_signature_length_stops_at_the_ed25519_key() {
    // Envoy returns JwtEd25519SignatureWrongLength at once, even if a
    // later key would verify.
    let keys = jwks(&[ED_JWK, OCT_JWK]);
    let (si, sig) = TOK_HS256.rsplit_once('.').unwrap();
    let sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    let out = verify_with_jwks(&keys, Alg::HS256, None, si.as_bytes(), &sig);
    assert_eq!(out, KeyOutcome::Ed25519SignatureWrongLength);
    let out = verify_with_jwks(&keys, Alg::HS256, Some("hmac"), si.as_bytes(), &sig);
    assert_eq!(out, KeyOutcome::Verified);
}

#[test]
fn small_and_x509_rsa_keys_verify() {
    assert_eq!(
        check(&jwks(&[RSA1024_E3_JWK]), TOK_RS256_1024_E3),
        KeyOutcome::Verified
    );
    let certs = parse(&serde_json::json!({ "rsa1": RSA_CERT_PEM }).to_string()).unwrap();
    assert_eq!(check(&certs, TOK_RS512), KeyOutcome::Verified);
}

#[test]
fn rsa_signature_of_wrong_length_or_too_large_is_invalid() {
    let keys = jwks(&[RSA_JWK]);
    let (si, sig) = TOK_RS256.rsplit_once('.').unwrap();
    let sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    let run = |alg, sig: &[u8]| verify_with_jwks(&keys, alg, None, si.as_bytes(), sig);
    let mut longer = vec![0u8];
    longer.extend_from_slice(&sig);
    for alg in [Alg::RS256, Alg::PS256] {
        assert_eq!(run(alg, &longer), KeyOutcome::SignatureInvalid);
        assert_eq!(run(alg, &sig[1..]), KeyOutcome::SignatureInvalid);
        assert_eq!(run(alg, &[0xff; 256]), KeyOutcome::SignatureInvalid);
        assert_eq!(run(alg, &[]), KeyOutcome::SignatureInvalid);
    }
}

#[test]
fn hmac_tag_must_have_the_full_length() {
    let keys = jwks(&[OCT_JWK]);
    let (si, sig) = TOK_HS256.rsplit_once('.').unwrap();
    let sig = crate::b64::decode_url(sig.as_bytes()).unwrap();
    assert_eq!(
        verify_with_jwks(&keys, Alg::HS256, None, si.as_bytes(), &sig[..16]),
        KeyOutcome::SignatureInvalid
    );
    assert_eq!(
        verify_with_jwks(&keys, Alg::HS256, None, si.as_bytes(), &[]),
        KeyOutcome::SignatureInvalid
    );
}
