//! `jwt-guard token`: a token's header and claims, decoded without any
//! check, and labelled so.

use super::time;
use crate::b64;
use serde_json::Value;

const LABEL: &str =
    "UNVERIFIED: decoded only; the signature, issuer, audience and times were not checked";

fn segment(part: &str, what: &str) -> Result<Value, String> {
    let bytes =
        b64::decode_url(part.as_bytes()).ok_or_else(|| format!("the {what} is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the {what} is not JSON: {e}"))
}

/// The decoded token as text; an error for what is not a JWS compact token.
pub fn decode(input: &str) -> Result<String, String> {
    let token = input.trim();
    let token = ["Bearer ", "bearer ", "DPoP ", "dpop "]
        .iter()
        .find_map(|p| token.strip_prefix(p))
        .unwrap_or(token)
        .trim();
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload) = match parts.as_slice() {
        [h, p, _] => (segment(h, "header")?, segment(p, "payload")?),
        [_, _, _, _, _] => {
            return Err(
                "an encrypted token (JWE, five segments): nothing to decode without its key"
                    .to_owned(),
            )
        }
        _ => {
            return Err(format!(
                "not a JWT: {} segment(s), a JWS has three",
                parts.len()
            ))
        }
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut out = vec![
        LABEL.to_owned(),
        "header:".to_owned(),
        pretty(&header),
        "claims:".to_owned(),
        pretty(&payload),
    ];
    let times: Vec<String> = ["iat", "nbf", "exp", "auth_time"]
        .iter()
        .filter_map(|k| {
            payload
                .get(*k)
                .and_then(Value::as_u64)
                .map(|t| format!("  {k}: {}", time::format(t)))
        })
        .collect();
    if !times.is_empty() {
        out.push("times (UTC):".to_owned());
        out.extend(times);
    }
    let mut s = out.join("\n");
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_decodes_with_its_label_and_times() {
        let h = b64::encode_url(br#"{"alg":"RS256","kid":"k1"}"#);
        let p = b64::encode_url(br#"{"sub":"alice","exp":1796382000}"#);
        let text = decode(&format!("Bearer {h}.{p}.c2ln")).unwrap();
        assert!(text.starts_with("UNVERIFIED"));
        assert!(text.contains("\"kid\": \"k1\""));
        assert!(text.contains("exp: 2026-12-04T11:00:00Z"));
    }

    #[test]
    fn what_is_not_a_jws_is_an_error() {
        assert!(decode("opaque").unwrap_err().contains("1 segment"));
        assert!(decode("a.b.c.d.e").unwrap_err().contains("JWE"));
        assert!(decode("!!.e30.x").unwrap_err().contains("base64url"));
    }
}
