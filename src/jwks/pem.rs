//! PEM public keys: an extension to Envoy's `local_jwks` formats (Envoy's
//! `jwt_authn` only reads JWKS JSON there). Each `PUBLIC KEY` (SPKI: RSA,
//! EC P-256/P-384/P-521, Ed25519) or `RSA PUBLIC KEY` (PKCS#1) block becomes
//! one key without kid or alg, usable as jwt_verify_lib uses a PEM key: by
//! key type. Text outside the blocks is ignored, as OpenSSL does.

use super::{der, Candidates, Jwk, Jwks, JwksError, KeyOrigin};
use crate::b64;

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

pub(super) fn looks_like_pem(text: &str) -> bool {
    text.contains(BEGIN)
}

/// Splits `text` into (label, base64 body) pairs.
fn blocks(text: &str) -> Result<Vec<(&str, &str)>, JwksError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((_, after_begin)) = rest.split_once(BEGIN) {
        let index = out.len();
        let (label, after_label) = after_begin
            .split_once(DASHES)
            .filter(|(label, _)| !label.contains('\n'))
            .ok_or(JwksError::PemUnterminated { index })?;
        let end = format!("-----END {label}-----");
        let (body, after_end) = after_label
            .split_once(end.as_str())
            .ok_or(JwksError::PemUnterminated { index })?;
        out.push((label, body));
        rest = after_end;
    }
    Ok(out)
}

/// DER bytes of the first block labelled `label`, if any decodes.
pub(super) fn first_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let blocks = blocks(text).ok()?;
    let (_, body) = blocks.into_iter().find(|(l, _)| *l == label)?;
    b64::decode_std(body.as_bytes()).filter(|der| !der.is_empty())
}

/// Parses one or more PEM public keys, in order. Strict: any bad block is
/// an error.
pub fn parse_pem(text: &str) -> Result<Jwks, JwksError> {
    super::strict(candidates(text)?)
}

/// Every block as a key or with why it cannot be used; an error only for a
/// text that is not PEM at all (no block, an unterminated one).
pub(super) fn candidates(text: &str) -> Result<Candidates, JwksError> {
    let blocks = blocks(text)?;
    if blocks.is_empty() {
        return Err(JwksError::NoPemBlock);
    }
    Ok(blocks
        .into_iter()
        .enumerate()
        .map(|(index, (label, body))| {
            let der = b64::decode_std(body.as_bytes()).ok_or(JwksError::PemBadBase64 { index })?;
            let material = match label {
                "PUBLIC KEY" => der::spki_public_key(&der),
                "RSA PUBLIC KEY" => der::pkcs1_public_key(&der),
                other => {
                    return Err(JwksError::PemUnsupportedLabel {
                        index,
                        label: other.to_owned(),
                    })
                }
            };
            let material = material.map_err(|error| JwksError::Pem { index, error })?;
            Ok(Jwk::new(KeyOrigin::Pem { index }, None, None, material))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;

    #[test]
    fn every_supported_public_key_type_parses() {
        for (pem, kty) in [
            (RSA_PEM, "RSA"),
            (RSA_PKCS1_PEM, "RSA"),
            (EC256_PEM, "EC"),
            (EC384_PEM, "EC"),
            (EC512_PEM, "EC"),
            (EC256_COMPRESSED_PEM, "EC"),
            (ED_PEM, "OKP"),
        ] {
            let jwks = parse_pem(pem).unwrap_or_else(|e| panic!("{kty}: {e}"));
            assert_eq!(jwks.keys()[0].kty(), kty);
            assert_eq!((jwks.keys()[0].kid(), jwks.keys()[0].alg()), (None, None));
        }
    }

    #[test]
    fn several_blocks_become_several_keys_in_order() {
        let text = format!("comment line\n{RSA_PEM}\n{ED_PEM}trailing");
        let jwks = parse_pem(&text).unwrap();
        let ktys: Vec<_> = jwks.keys().iter().map(|k| k.kty()).collect();
        assert_eq!(ktys, ["RSA", "OKP"]);
        assert_eq!(jwks.keys()[1].origin(), KeyOrigin::Pem { index: 1 });
        assert_eq!(jwks.keys()[1].key_use(), crate::jwks::KeyUse::Unstated);
    }

    #[test]
    fn private_keys_and_certificates_are_refused() {
        let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            parse_pem(text).unwrap_err().to_string(),
            r#"PEM block 0: "PRIVATE KEY" is not a PUBLIC KEY or RSA PUBLIC KEY"#
        );
    }

    #[test]
    fn malformed_blocks_are_reported_by_index() {
        let unterminated = format!("{ED_PEM}-----BEGIN PUBLIC KEY-----\nAAAA\n");
        assert_eq!(
            parse_pem(&unterminated).unwrap_err(),
            JwksError::PemUnterminated { index: 1 }
        );
        let bad = "-----BEGIN PUBLIC KEY-----\n%%%\n-----END PUBLIC KEY-----";
        assert_eq!(
            parse_pem(bad).unwrap_err(),
            JwksError::PemBadBase64 { index: 0 }
        );
        let junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
        assert!(parse_pem(junk)
            .unwrap_err()
            .to_string()
            .starts_with("PEM block 0: malformed DER"));
        assert_eq!(parse_pem("no pem here").unwrap_err(), JwksError::NoPemBlock);
    }
}
