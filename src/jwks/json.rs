//! JWKS JSON, following Envoy's `Jwks::createFromJwksCore` and `extractJwk*`
//! (`source/common/jwt/jwks.cc`), but failing on any key Envoy would skip.

use serde_json::{Map, Value};

use super::{
    der, ec_key_from_coordinates, ed25519_key, pem, rsa_key, Curve, Jwk, Jwks, JwksError, KeyError,
    KeyMaterial,
};
use crate::b64;

/// Parses a JWKS JSON document (Envoy's `Jwks::JWKS` input): `{"keys": [...]}`
/// or a map of kid to PEM X.509 certificate.
pub fn parse_json(text: &str) -> Result<Jwks, JwksError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| JwksError::InvalidJson(e.to_string()))?;
    parse_value(&value)
}

pub(super) fn parse_value(value: &Value) -> Result<Jwks, JwksError> {
    let object = value.as_object().ok_or(JwksError::NotAnObject)?;
    let Some(keys) = object.get("keys") else {
        if is_x509_map(object) {
            return parse_x509_map(object);
        }
        return Err(JwksError::NoKeys);
    };
    let keys = keys.as_array().ok_or(JwksError::KeysNotArray)?;
    let parsed = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            parse_key(key).map_err(|error| JwksError::Key {
                index,
                kid: key
                    .get("kid")
                    .and_then(Value::as_str)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Jwks::from_keys(parsed)
}

/// Envoy's `GetString`: absent is `None`, any non-string is an error (Envoy
/// ignores a non-string `kid`/`alg`, which would make the key match every
/// token; we refuse such a key instead).
fn get_str<'a>(
    key: &'a Map<String, Value>,
    member: &'static str,
) -> Result<Option<&'a str>, KeyError> {
    match key.get(member) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::NotAString(member)),
    }
}

fn require_str<'a>(key: &'a Map<String, Value>, member: &'static str) -> Result<&'a str, KeyError> {
    get_str(key, member)?.ok_or(KeyError::Missing(member))
}

fn decode(value: &str, what: &'static str, member: &'static str) -> Result<Vec<u8>, KeyError> {
    b64::decode_url(value.as_bytes()).ok_or(KeyError::NotBase64Url { what, member })
}

fn parse_key(key: &Value) -> Result<Jwk, KeyError> {
    let key = key.as_object().ok_or(KeyError::NotAnObject)?;
    let kty = require_str(key, "kty")?;
    let kid = get_str(key, "kid")?.map(str::to_owned);
    // An empty alg is the same as no alg, as in Envoy.
    let alg = get_str(key, "alg")?.filter(|a| !a.is_empty());
    let material = match kty {
        "RSA" => rsa_jwk(key, alg)?,
        "EC" => ec_jwk(key, alg)?,
        "oct" => oct_jwk(key, alg)?,
        "OKP" => okp_jwk(key, alg)?,
        other => return Err(KeyError::UnsupportedKty(other.to_owned())),
    };
    Ok(Jwk::new(kid, alg.map(str::to_owned), material))
}

fn rsa_jwk(key: &Map<String, Value>, alg: Option<&str>) -> Result<KeyMaterial, KeyError> {
    // Envoy only checks the prefix, so "RSA-OAEP" passes (and never matches a token).
    if let Some(alg) = alg.filter(|a| !a.starts_with("RS") && !a.starts_with("PS")) {
        return Err(KeyError::AlgNotForKty {
            alg: alg.to_owned(),
            kty: "RSA",
            expected: "an RS* or PS* algorithm",
        });
    }
    let n = decode(require_str(key, "n")?, "RSA modulus", "n")?;
    let e = decode(require_str(key, "e")?, "RSA exponent", "e")?;
    // jwt_verify_lib rejects other exponents for JWKs ("non-standard key").
    if !matches!(super::strip_leading_zeros(&e), [3] | [1, 0, 1]) {
        return Err(KeyError::RsaExponentNotStandard);
    }
    rsa_key(&n, &e)
}

fn ec_jwk(key: &Map<String, Value>, alg: Option<&str>) -> Result<KeyMaterial, KeyError> {
    if let Some(alg) = alg.filter(|a| !a.starts_with("ES")) {
        return Err(KeyError::AlgNotForKty {
            alg: alg.to_owned(),
            kty: "EC",
            expected: "an ES* algorithm",
        });
    }
    let crv = get_str(key, "crv")?.unwrap_or("");
    if let Some(alg) = alg {
        if !crv.is_empty()
            && !matches!(
                (alg, crv),
                ("ES256", "P-256") | ("ES384", "P-384") | ("ES512", "P-521")
            )
        {
            return Err(KeyError::CurveNotForAlg {
                crv: crv.to_owned(),
                alg: alg.to_owned(),
            });
        }
    }
    // The curve comes from alg or crv; with neither, Envoy assumes P-256.
    let curve = match (alg, crv) {
        (Some("ES256"), _) | (_, "P-256") | (None, "") => Curve::P256,
        (Some("ES384"), _) | (_, "P-384") => Curve::P384,
        (Some("ES512"), _) | (_, "P-521") => Curve::P521,
        (_, crv) if !crv.is_empty() => {
            return Err(KeyError::UnsupportedCurve {
                crv: crv.to_owned(),
                kty: "EC",
            })
        }
        (alg, _) => {
            return Err(KeyError::UnsupportedEcAlg(
                alg.unwrap_or_default().to_owned(),
            ))
        }
    };
    let x = decode(require_str(key, "x")?, "EC coordinate", "x")?;
    let y = decode(require_str(key, "y")?, "EC coordinate", "y")?;
    ec_key_from_coordinates(curve, &x, &y)
}

fn oct_jwk(key: &Map<String, Value>, alg: Option<&str>) -> Result<KeyMaterial, KeyError> {
    if let Some(alg) = alg.filter(|a| !matches!(*a, "HS256" | "HS384" | "HS512")) {
        return Err(KeyError::AlgNotForKty {
            alg: alg.to_owned(),
            kty: "oct",
            expected: "HS256, HS384 or HS512",
        });
    }
    let k = decode(require_str(key, "k")?, "HMAC key", "k")?;
    if k.is_empty() {
        return Err(KeyError::EmptyHmacKey);
    }
    Ok(KeyMaterial::Oct(k.into_boxed_slice()))
}

fn okp_jwk(key: &Map<String, Value>, alg: Option<&str>) -> Result<KeyMaterial, KeyError> {
    if let Some(alg) = alg.filter(|a| *a != "EdDSA") {
        return Err(KeyError::AlgNotForKty {
            alg: alg.to_owned(),
            kty: "OKP",
            expected: "EdDSA",
        });
    }
    let crv = require_str(key, "crv")?;
    if crv != "Ed25519" {
        return Err(KeyError::UnsupportedCurve {
            crv: crv.to_owned(),
            kty: "OKP",
        });
    }
    ed25519_key(&decode(require_str(key, "x")?, "Ed25519 public key", "x")?)
}

const CERT_PREFIX: &str = "-----BEGIN CERTIFICATE-----\n";
const CERT_SUFFIX: &str = "\n-----END CERTIFICATE-----\n";

/// Envoy's `shouldCheckX509`: a non-empty map whose every member has a
/// non-empty name and a string value framed exactly as one PEM certificate.
fn is_x509_map(object: &Map<String, Value>) -> bool {
    !object.is_empty()
        && object.iter().all(|(kid, cert)| {
            !kid.is_empty()
                && cert
                    .as_str()
                    .is_some_and(|c| c.starts_with(CERT_PREFIX) && c.ends_with(CERT_SUFFIX))
        })
}

fn parse_x509_map(object: &Map<String, Value>) -> Result<Jwks, JwksError> {
    let keys = object
        .iter()
        .map(|(kid, cert)| {
            let error = |error| JwksError::Certificate {
                kid: kid.clone(),
                error,
            };
            let der = pem::first_block(cert.as_str().unwrap_or_default(), "CERTIFICATE")
                .ok_or_else(|| error(KeyError::Der("certificate PEM does not decode")))?;
            // Envoy keeps only RSA keys from certificates (`EVP_PKEY_get1_RSA`).
            match der::certificate_public_key(&der).map_err(error)? {
                material @ KeyMaterial::Rsa(_) => Ok(Jwk::new(Some(kid.clone()), None, material)),
                _ => Err(error(KeyError::CertificateKeyNotRsa)),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Jwks::from_keys(keys)
}

#[cfg(test)]
mod tests {
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
        let set = format!(
            r#"{{"keys":[{RSA_JWK},{EC256_JWK},{EC384_JWK},{EC512_JWK},{OCT_JWK},{ED_JWK}]}}"#
        );
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
        k["x"] = Value::from(b64::encode_std(&padded).replace('+', "-").replace('/', "_"));
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
        assert!(
            err(r#"{"kty":"OKP","crv":"Ed25519","x":"AQ"}"#).ends_with("is 1 bytes, expected 32")
        );
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
}
