//! JWS algorithms and signature verification against a JWKS.
//!
//! Key selection and per-key verification follow Envoy's
//! `verifyJwtWithoutTimeChecking` (`source/common/jwt/verify.cc`, from
//! google/jwt_verify_lib) exactly, quirks included, because a token Envoy
//! accepts must be accepted here and vice versa:
//! - the hash follows the token's `alg`, the algorithm follows the key's type:
//!   an EC key without `alg` verifies any non-RSA/HMAC-labelled token as ECDSA
//!   (SHA-384 for ES384, SHA-512 for ES512, else SHA-256) on the key's own
//!   curve; an `oct` key without `alg` verifies any token as HMAC; an Ed25519
//!   key verifies any token as Ed25519. An RSA key only verifies `RS*`/`PS*`.
//!   None of this weakens security: each still needs that key's signature.
//! - a key that passes the kid/alg filter counts as matched even when its type
//!   cannot verify the token's alg (RSA key, ES256 token): "Jwt verification
//!   fails" rather than "Jwks doesn't have key to match kid or alg from Jwt".

use hmac::{Hmac, KeyInit, Mac};
use rsa::{pkcs1v15::Pkcs1v15Sign, pss::Pss, RsaPublicKey};
use sha2::digest::{const_oid::AssociatedOid, Digest, FixedOutputReset};
use sha2::{Sha256, Sha384, Sha512};

use crate::jwks::{EcKey, Jwks, KeyMaterial};

/// JWS `alg` values Envoy's `jwt_authn` supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

impl Alg {
    pub const ALL: [Alg; 13] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::EdDSA,
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
    ];

    /// Exact, case-sensitive JOSE name. `None` for anything else, incl. "none".
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|alg| alg.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Outcome of trying the JWKS against a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    Verified,
    /// No key passed the kid/alg filter.
    NoKeyMatched,
    /// Some key passed the kid/alg filter but no signature verified.
    SignatureInvalid,
    /// An Ed25519 key was tried with a signature that is not 64 bytes; Envoy
    /// stops there with its own status, whatever keys follow.
    Ed25519SignatureWrongLength,
}

/// Tries the keys in order, as Envoy does. `kid` is the token header's kid
/// (`None` or empty: every key is a candidate); `signing_input` is the raw
/// "header.payload"; `signature` is already base64url-decoded.
pub fn verify_with_jwks(
    jwks: &Jwks,
    alg: Alg,
    kid: Option<&str>,
    signing_input: &[u8],
    signature: &[u8],
) -> KeyOutcome {
    let kid = kid.filter(|k| !k.is_empty());
    let mut matched = false;
    for key in jwks.keys() {
        if matches!((kid, key.kid()), (Some(want), Some(have)) if want != have) {
            continue;
        }
        if key.alg().is_some_and(|a| a != alg.name()) {
            continue;
        }
        matched = true;
        let verified = match key.material() {
            KeyMaterial::Rsa(rsa) => verify_rsa(rsa, alg, signing_input, signature),
            KeyMaterial::Ec(ec) => verify_ec(ec, alg, signing_input, signature),
            KeyMaterial::Oct(secret) => verify_hmac(secret, alg, signing_input, signature),
            KeyMaterial::Ed25519(ed) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return KeyOutcome::Ed25519SignatureWrongLength;
                };
                // Cofactorless check, s < L, R compared as bytes, small-order
                // keys allowed: the same rules as BoringSSL's ED25519_verify
                // (`verify_strict` would also reject small-order R).
                ed25519_dalek::Verifier::verify(ed, signing_input, &sig).is_ok()
            }
        };
        if verified {
            return KeyOutcome::Verified;
        }
    }
    if matched {
        KeyOutcome::SignatureInvalid
    } else {
        KeyOutcome::NoKeyMatched
    }
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The `*384`/`*512` variants pick SHA-384/512; everything else SHA-256.
    fn for_alg(alg: Alg) -> Hash {
        match alg {
            Alg::RS384 | Alg::PS384 | Alg::ES384 | Alg::HS384 => Hash::Sha384,
            Alg::RS512 | Alg::PS512 | Alg::ES512 | Alg::HS512 => Hash::Sha512,
            _ => Hash::Sha256,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

fn verify_rsa(key: &RsaPublicKey, alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    let pss = match alg {
        Alg::RS256 | Alg::RS384 | Alg::RS512 => false,
        Alg::PS256 | Alg::PS384 | Alg::PS512 => true,
        _ => return false,
    };
    match Hash::for_alg(alg) {
        Hash::Sha256 => rsa_verify::<Sha256>(key, pss, msg, sig),
        Hash::Sha384 => rsa_verify::<Sha384>(key, pss, msg, sig),
        Hash::Sha512 => rsa_verify::<Sha512>(key, pss, msg, sig),
    }
}

fn rsa_verify<D>(key: &RsaPublicKey, pss: bool, msg: &[u8], sig: &[u8]) -> bool
where
    D: Digest + FixedOutputReset + AssociatedOid,
{
    let hashed = D::digest(msg);
    if pss {
        // MGF1 with the same hash; salt length recovered from the signature,
        // as BoringSSL does with its default RSA_PSS_SALTLEN_AUTO (-2).
        let scheme = Pss {
            blinded: false,
            digest: D::new(),
            salt_len: None,
        };
        key.verify(scheme, &hashed, sig).is_ok()
    } else {
        key.verify(Pkcs1v15Sign::new::<D>(), &hashed, sig).is_ok()
    }
}

/// ECDSA as jwt_verify_lib's `verifySignatureEC`: r and s are the two halves
/// of the signature read as big-endian integers of any length (an odd last
/// byte is ignored), must be in [1, n), and high S is accepted.
fn verify_ec(key: &EcKey, alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;

    let half = sig.len() / 2;
    let (Some(r), Some(s)) = (sig.get(..half), sig.get(half..2 * half)) else {
        return false;
    };
    let prehash = Hash::for_alg(alg).digest(msg);
    match key {
        EcKey::P256(vk) => fixed::<32>(r, s)
            .and_then(|(r, s)| p256::ecdsa::Signature::from_scalars(r, s).ok())
            .is_some_and(|sig| vk.verify_prehash(&prehash, &sig).is_ok()),
        EcKey::P384(vk) => fixed::<48>(r, s)
            .and_then(|(r, s)| p384::ecdsa::Signature::from_scalars(r, s).ok())
            .is_some_and(|sig| vk.verify_prehash(&prehash, &sig).is_ok()),
        EcKey::P521(vk) => fixed::<66>(r, s)
            .and_then(|(r, s)| p521::ecdsa::Signature::from_scalars(r, s).ok())
            .is_some_and(|sig| vk.verify_prehash(&prehash, &sig).is_ok()),
    }
}

/// Left-pads r and s to the curve's scalar size; `None` if either is longer
/// once leading zeros are dropped (so it is at least the group order).
fn fixed<const N: usize>(r: &[u8], s: &[u8]) -> Option<([u8; N], [u8; N])> {
    fn pad<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
        let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        let v = v.get(first..)?;
        let mut out = [0u8; N];
        out.get_mut(N.checked_sub(v.len())?..)?.copy_from_slice(v);
        Some(out)
    }
    Some((pad(r)?, pad(s)?))
}

fn verify_hmac(secret: &[u8], alg: Alg, msg: &[u8], sig: &[u8]) -> bool {
    fn check<M: Mac + KeyInit>(secret: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let Ok(mut mac) = <M as KeyInit>::new_from_slice(secret) else {
            return false;
        };
        mac.update(msg);
        // Constant-time; a tag of the wrong length fails.
        mac.verify_slice(sig).is_ok()
    }
    match Hash::for_alg(alg) {
        Hash::Sha256 => check::<Hmac<Sha256>>(secret, msg, sig),
        Hash::Sha384 => check::<Hmac<Sha384>>(secret, msg, sig),
        Hash::Sha512 => check::<Hmac<Sha512>>(secret, msg, sig),
    }
}

#[cfg(test)]
mod tests {
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
        let enc = crate::b64::encode_std(&sig)
            .replace('+', "-")
            .replace('/', "_");
        format!("{si}.{}", enc.trim_end_matches('='))
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
        let oct = parse(r#"{"keys":[{"kty":"oct","k":"YS12ZXJ5LXNlY3JldC1obWFjLWtleS0wMTIzNDU2Nzg5YWJjZGVm"}]}"#).unwrap();
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
}
