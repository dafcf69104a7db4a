//! JWKS JSON, following Envoy's `Jwks::createFromJwksCore` and `extractJwk*`
//! (`source/common/jwt/jwks.cc`). Each key is read on its own: a local set
//! fails on any key Envoy would skip, a fetched set skips it (`super::parse`,
//! `super::parse_fetched`).

use serde_json::{Map, Value};

use super::{
    der, ec_key_from_coordinates, ed25519_key, pem, rsa_key, Candidates, Curve, Jwk, Jwks,
    JwksError, KeyError, KeyMaterial, KeyOps, KeyOrigin, KeyUse,
};
use crate::b64;

/// Parses a JWKS JSON document (Envoy's `Jwks::JWKS` input): `{"keys": [...]}`
/// or a map of kid to PEM X.509 certificate. Strict: any bad key is an error.
pub fn parse_json(text: &str) -> Result<Jwks, JwksError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| JwksError::InvalidJson(e.to_string()))?;
    super::strict(candidates(&value)?)
}

/// Every key of the document, each parsed or with why it cannot be used;
/// an error only for the document itself.
pub(super) fn candidates(value: &Value) -> Result<Candidates, JwksError> {
    let object = value.as_object().ok_or(JwksError::NotAnObject)?;
    let Some(keys) = object.get("keys") else {
        if is_x509_map(object) {
            return Ok(x509_map(object));
        }
        return Err(JwksError::NoKeys);
    };
    let keys = keys.as_array().ok_or(JwksError::KeysNotArray)?;
    Ok(keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            parse_key(key, index).map_err(|error| JwksError::Key {
                index,
                kid: key
                    .get("kid")
                    .and_then(Value::as_str)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned),
                error,
            })
        })
        .collect())
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

pub(super) fn parse_key(key: &Value, index: usize) -> Result<Jwk, KeyError> {
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
    let mut jwk = Jwk::new(
        KeyOrigin::Jwks { index },
        kid,
        alg.map(str::to_owned),
        material,
    );
    // Kept, not checked: Envoy ignores both (see `honor_key_use`).
    jwk.key_use = KeyUse::from_member(key.get("use"));
    jwk.key_ops = KeyOps::from_member(key.get("key_ops"));
    Ok(jwk)
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

fn x509_map(object: &Map<String, Value>) -> Candidates {
    object
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
                material @ KeyMaterial::Rsa(_) => Ok(Jwk::new(
                    KeyOrigin::Certificate,
                    Some(kid.clone()),
                    None,
                    material,
                )),
                _ => Err(error(KeyError::CertificateKeyNotRsa)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
