//! Base64 decoding as Envoy's `jwt_authn` does it.
//!
//! Envoy (through jwt_verify_lib and absl) decodes token segments and JWK
//! members leniently: ASCII whitespace is skipped anywhere, trailing `=`
//! padding is optional, and the unused low bits of the last character are not
//! checked. Padding that is present must be complete, though (`aA==`, not
//! `aA=`), and the alphabet is strict: a URL-safe decode rejects `+` and `/`.
//! We match that so a token Envoy accepts is accepted here and vice versa.

/// Which 64-character alphabet to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    /// RFC 4648 §5 (`-`, `_`), used by JWS segments and JWKs.
    UrlSafe,
    /// RFC 4648 §4 (`+`, `/`), used by `inline_bytes` and PEM bodies.
    Standard,
}

fn value(alphabet: Alphabet, c: u8) -> Option<u32> {
    let v = match c {
        // In range by each arm: no wrap happens.
        b'A'..=b'Z' => c.wrapping_sub(b'A'),
        b'a'..=b'z' => c.wrapping_sub(b'a').wrapping_add(26),
        b'0'..=b'9' => c.wrapping_sub(b'0').wrapping_add(52),
        b'-' if alphabet == Alphabet::UrlSafe => 62,
        b'_' if alphabet == Alphabet::UrlSafe => 63,
        b'+' if alphabet == Alphabet::Standard => 62,
        b'/' if alphabet == Alphabet::Standard => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes `input`, returning `None` for any character outside the alphabet,
/// misplaced or incomplete padding, or a dangling single character.
pub fn decode(alphabet: Alphabet, input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity((input.len() / 4).saturating_mul(3).saturating_add(3));
    let mut acc: u32 = 0;
    let mut n: u32 = 0;
    let mut padding = 0usize;
    for &c in input {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            padding = padding.saturating_add(1);
            continue;
        }
        if padding > 0 {
            // Data after padding.
            return None;
        }
        acc = (acc << 6) | value(alphabet, c)?;
        n = n.saturating_add(1);
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    // As absl: no padding at all, or exactly what completes the last quantum
    // (one `=` where two are needed is refused, as is any after a full one).
    let full_padding = match n {
        2 => 2,
        3 => 1,
        _ => 0,
    };
    if padding != 0 && padding != full_padding {
        return None;
    }
    Some(out)
}

/// URL-safe decode of a JWS segment or JWK member.
pub fn decode_url(input: &[u8]) -> Option<Vec<u8>> {
    decode(Alphabet::UrlSafe, input)
}

/// Standard-alphabet decode (`inline_bytes`, PEM).
pub fn decode_std(input: &[u8]) -> Option<Vec<u8>> {
    decode(Alphabet::Standard, input)
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Lower-case hex: cache keys, shared-data names and OIDs in messages.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// URL-safe base64 without padding, as JWS segments are written (an
/// introspection answer forwarded in `forward_payload_header`).
pub fn encode_url(input: &[u8]) -> String {
    encode_std(input)
        .chars()
        .filter(|c| *c != '=')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

/// Standard base64 with padding (Envoy's encoding of object/array claims
/// in `claim_to_headers`, and of padded payload headers after translation).
pub fn encode_std(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3).saturating_mul(4));
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // n input bytes give n + 1 characters, then padding.
        let emit = chunk.len().saturating_add(1);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i < emit {
                let idx = ((v >> shift) & 63) as usize;
                out.push(char::from(STD.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_unpadded_and_padded_url_safe() {
        assert_eq!(decode_url(b"aGk").unwrap(), b"hi");
        assert_eq!(decode_url(b"aGk=").unwrap(), b"hi");
        assert_eq!(decode_url(b"aA").unwrap(), b"h");
        assert_eq!(decode_url(b"aA==").unwrap(), b"h");
        assert_eq!(decode_url(b"-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn skips_whitespace_anywhere() {
        assert_eq!(decode_url(b"a G\tk").unwrap(), b"hi");
    }

    #[test]
    fn accepts_non_canonical_trailing_bits() {
        // "aB" has low bits set that "aA" has clear; both decode to "h".
        assert_eq!(decode_url(b"aB").unwrap(), b"h");
    }

    #[test]
    fn rejects_standard_alphabet_in_url_mode() {
        assert!(decode_url(b"+/8").is_none());
        assert_eq!(decode_std(b"+/8=").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn rejects_dangling_char_data_after_padding_and_excess_padding() {
        assert!(decode_url(b"aGk=a").is_none());
        assert!(decode_url(b"a").is_none());
        assert!(decode_url(b"aGk==").is_none());
        assert!(decode_url(b"aGlk=").is_none());
        assert!(decode_url(b"a,b").is_none());
    }

    #[test]
    fn padding_is_absent_or_exactly_what_completes_the_last_quantum() {
        // absl (Envoy's decoder): two characters left over take `==`, three
        // take `=`, a full quantum takes none; whitespace may sit in between.
        for ok in [
            &b"aA"[..],
            b"aA==",
            b"aA= =",
            b"aA=\n=",
            b"aA ==",
            b"aGk",
            b"aGk=",
            b"aGk= ",
        ] {
            assert!(decode_url(ok).is_some(), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"aA="[..],
            b"aA= ",
            b"aA===",
            b"aGk==",
            b"aGlk=",
            b"aA=a=",
            b"=",
            b"==",
        ] {
            assert!(
                decode_url(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(decode_std(b"aA=").is_none());
        assert_eq!(decode_std(b"aA==").unwrap(), b"h");
    }

    #[test]
    fn encodes_standard_with_padding() {
        assert_eq!(encode_std(b""), "");
        assert_eq!(encode_std(b"h"), "aA==");
        assert_eq!(encode_std(b"hi"), "aGk=");
        assert_eq!(encode_std(b"hi!"), "aGkh");
        assert_eq!(encode_std(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
