//! Just enough DER to read public keys: SubjectPublicKeyInfo (as BoringSSL's
//! `EVP_parse_public_key`), PKCS#1 `RSAPublicKey` and the SPKI inside an
//! X.509 certificate. Strict DER: definite minimal lengths, single-byte tags.

use super::{ec_key_from_sec1, ed25519_key, rsa_key, Curve, KeyError, KeyMaterial};

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const VERSION: u8 = 0xa0; // [0] EXPLICIT in TBSCertificate

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const SECP521R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads one element, returning (tag, contents).
    fn any(&mut self) -> Result<(u8, &'a [u8]), KeyError> {
        let truncated = KeyError::Der("truncated element");
        let (&tag, rest) = self.data.split_first().ok_or(truncated.clone())?;
        if tag & 0x1f == 0x1f {
            return Err(KeyError::Der("multi-byte tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(truncated.clone())?;
        let len = match first {
            0..=0x7f => usize::from(first),
            0x81..=0x84 => {
                let (bytes, after) = rest
                    .split_at_checked(usize::from(first & 0x7f))
                    .ok_or(truncated.clone())?;
                rest = after;
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                // Minimal encoding: long form only from 128, no leading zero byte.
                if len < 0x80 || bytes.first() == Some(&0) {
                    return Err(KeyError::Der("non-minimal length"));
                }
                len
            }
            _ => return Err(KeyError::Der("unsupported length encoding")),
        };
        let (contents, after) = rest.split_at_checked(len).ok_or(truncated)?;
        self.data = after;
        Ok((tag, contents))
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
        match self.any()? {
            (t, contents) if t == tag => Ok(contents),
            _ => Err(KeyError::Der(what)),
        }
    }

    fn finish(&self) -> Result<(), KeyError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(KeyError::Der("trailing data"))
        }
    }
}

/// Reads a whole `input` that must be exactly one element with `tag`.
fn single<'a>(input: &'a [u8], tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
    let mut r = Reader::new(input);
    let contents = r.expect(tag, what)?;
    r.finish()?;
    Ok(contents)
}

/// A non-negative, minimally encoded INTEGER's magnitude (BoringSSL's
/// `BN_parse_asn1_unsigned`).
fn unsigned_integer<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], KeyError> {
    let bytes = r.expect(INTEGER, "expected INTEGER")?;
    match bytes {
        [] => Err(KeyError::Der("empty INTEGER")),
        [b, ..] if b & 0x80 != 0 => Err(KeyError::Der("negative INTEGER")),
        [0, b, ..] if b & 0x80 == 0 => Err(KeyError::Der("non-minimal INTEGER")),
        _ => Ok(bytes),
    }
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
pub(super) fn pkcs1_public_key(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    let mut r = Reader::new(single(der, SEQUENCE, "expected RSAPublicKey SEQUENCE")?);
    let n = unsigned_integer(&mut r)?;
    let e = unsigned_integer(&mut r)?;
    r.finish()?;
    rsa_key(n, e)
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }`.
pub(super) fn spki_public_key(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    spki_contents(single(
        der,
        SEQUENCE,
        "expected SubjectPublicKeyInfo SEQUENCE",
    )?)
}

fn spki_contents(contents: &[u8]) -> Result<KeyMaterial, KeyError> {
    let mut r = Reader::new(contents);
    let mut alg = Reader::new(r.expect(SEQUENCE, "expected AlgorithmIdentifier")?);
    let bits = r.expect(BIT_STRING, "expected BIT STRING public key")?;
    r.finish()?;
    let key = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err(KeyError::Der("public key BIT STRING has unused bits")),
    };
    let oid = alg.expect(OID, "expected algorithm OID")?;
    match oid {
        // RFC 3279 §2.3.1: parameters must be NULL (BoringSSL enforces it).
        RSA_ENCRYPTION => {
            if !alg.expect(NULL, "RSA parameters are not NULL")?.is_empty() {
                return Err(KeyError::Der("RSA parameters are not NULL"));
            }
            alg.finish()?;
            pkcs1_public_key(key)
        }
        EC_PUBLIC_KEY => {
            let curve = match alg.expect(OID, "EC parameters are not a named curve")? {
                PRIME256V1 => Curve::P256,
                SECP384R1 => Curve::P384,
                SECP521R1 => Curve::P521,
                other => {
                    return Err(KeyError::UnsupportedKeyType(format!(
                        "EC curve OID {}",
                        crate::b64::hex(other)
                    )))
                }
            };
            alg.finish()?;
            ec_key_from_sec1(curve, key)
        }
        // RFC 8410 §3: parameters are absent.
        ED25519 => {
            alg.finish()?;
            ed25519_key(key)
        }
        other => Err(KeyError::UnsupportedKeyType(format!(
            "with algorithm OID {}",
            crate::b64::hex(other)
        ))),
    }
}

/// The public key of an X.509 certificate (its signature is not checked: like
/// Envoy, the certificate is only a container for the key).
pub(super) fn certificate_public_key(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    let mut cert = Reader::new(single(der, SEQUENCE, "expected Certificate SEQUENCE")?);
    let mut tbs = Reader::new(cert.expect(SEQUENCE, "expected TBSCertificate")?);
    if tbs.peek_tag() == Some(VERSION) {
        tbs.any()?;
    }
    // Serial numbers are sometimes negative or non-minimal in the wild: any INTEGER.
    tbs.expect(INTEGER, "expected serial number")?;
    for what in ["signature algorithm", "issuer", "validity", "subject"] {
        if tbs.any()?.0 != SEQUENCE {
            return Err(KeyError::Der(what));
        }
    }
    spki_contents(tbs.expect(SEQUENCE, "expected SubjectPublicKeyInfo")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_definite_and_minimal() {
        assert_eq!(
            Reader::new(&[0x30, 0x80]).any().unwrap_err(),
            KeyError::Der("unsupported length encoding")
        );
        assert_eq!(
            Reader::new(&[0x30, 0x81, 0x05]).any().unwrap_err(),
            KeyError::Der("non-minimal length")
        );
        assert_eq!(
            Reader::new(&[0x30, 0x82, 0x00, 0x90]).any().unwrap_err(),
            KeyError::Der("non-minimal length")
        );
        assert_eq!(
            Reader::new(&[0x30, 0x03, 0x01]).any().unwrap_err(),
            KeyError::Der("truncated element")
        );
        assert_eq!(
            Reader::new(&[0x1f, 0x01, 0x00]).any().unwrap_err(),
            KeyError::Der("multi-byte tag")
        );
        assert_eq!(
            Reader::new(&[0x30, 0x01, 0x05]).any().unwrap(),
            (0x30, &[0x05u8][..])
        );
    }

    #[test]
    fn integers_must_be_non_negative_and_minimal() {
        let int = |b: &[u8]| {
            let mut v = vec![INTEGER, b.len() as u8];
            v.extend_from_slice(b);
            unsigned_integer(&mut Reader::new(&v)).map(<[u8]>::to_vec)
        };
        assert_eq!(int(&[0x00, 0x80]).unwrap(), [0x00, 0x80]);
        assert!(int(&[0x80]).is_err());
        assert!(int(&[0x00, 0x7f]).is_err());
        assert!(int(&[]).is_err());
    }

    #[test]
    fn unknown_algorithms_and_trailing_data_are_rejected() {
        // SPKI with OID 1.2.3 and an empty BIT STRING.
        let spki = [
            0x30, 0x09, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03, 0x03, 0x01, 0x00,
        ];
        assert_eq!(
            spki_public_key(&spki).unwrap_err().to_string(),
            "unsupported public key type with algorithm OID 2a03"
        );
        let mut trailing = spki.to_vec();
        trailing.push(0);
        assert_eq!(
            spki_public_key(&trailing).unwrap_err(),
            KeyError::Der("trailing data")
        );
    }

    #[test]
    fn never_panics_on_truncations_of_a_valid_key() {
        let pem = super::super::testdata::RSA_CERT_PEM;
        let der = super::super::pem::first_block(pem, "CERTIFICATE").unwrap();
        assert!(certificate_public_key(&der).is_ok());
        for cut in 0..der.len() {
            assert!(certificate_public_key(&der[..cut]).is_err());
            assert!(spki_public_key(&der[cut..]).is_err());
        }
    }
}
