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

const fn value(alphabet: Alphabet, c: u8) -> Option<u32> {
    let url = matches!(alphabet, Alphabet::UrlSafe);
    let v = match c {
        // In range by each arm: no wrap happens.
        b'A'..=b'Z' => c.wrapping_sub(b'A'),
        b'a'..=b'z' => c.wrapping_sub(b'a').wrapping_add(26),
        b'0'..=b'9' => c.wrapping_sub(b'0').wrapping_add(52),
        b'-' if url => 62,
        b'_' if url => 63,
        b'+' if !url => 62,
        b'/' if !url => 63,
        _ => return None,
    };
    Some(v as u32)
}

/// Each byte's 6-bit value in `alphabet`, 0xff for anything else
/// (whitespace and padding included): the fast path's lookup.
// Evaluated at compile time only, where an out-of-range index would fail
// the build rather than panic.
#[allow(clippy::indexing_slicing)]
const fn table(alphabet: Alphabet) -> [u8; 256] {
    let mut out = [0xff; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(v) = value(alphabet, c as u8) {
            out[c] = v as u8;
        }
        c = c.wrapping_add(1);
    }
    out
}

const URL_TABLE: [u8; 256] = table(Alphabet::UrlSafe);
const STD_TABLE: [u8; 256] = table(Alphabet::Standard);

/// Decodes whole quanta of four alphabet characters from the start of
/// `input` into `out`, stopping at the first quantum holding anything else;
/// returns the rest, for the general loop (which starts from the same
/// state: no pending bits, no padding seen).
fn decode_quanta<'a>(alphabet: Alphabet, input: &'a [u8], out: &mut Vec<u8>) -> &'a [u8] {
    let table = match alphabet {
        Alphabet::UrlSafe => &URL_TABLE,
        Alphabet::Standard => &STD_TABLE,
    };
    let lookup = |c: &u8| u32::from(table.get(usize::from(*c)).copied().unwrap_or(0xff));
    let mut rest = input;
    while let [a, b, c, d, tail @ ..] = rest {
        let (a, b, c, d) = (lookup(a), lookup(b), lookup(c), lookup(d));
        if (a | b | c | d) & 0x80 != 0 {
            break;
        }
        let v = (a << 18) | (b << 12) | (c << 6) | d;
        out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
        rest = tail;
    }
    rest
}

/// Decodes `input`, returning `None` for any character outside the alphabet,
/// misplaced or incomplete padding, or a dangling single character.
pub fn decode(alphabet: Alphabet, input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity((input.len() / 4).saturating_mul(3).saturating_add(3));
    let mut acc: u32 = 0;
    let mut n: u32 = 0;
    let mut padding = 0usize;
    let input = decode_quanta(alphabet, input, &mut out);
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
    fn fast_and_general_paths_agree() {
        // Every byte in every position of a quantum, after a few clean
        // quanta (the fast path) and before a tail the general loop reads.
        let clean = b"aGVsbG8gd29y";
        for alphabet in [Alphabet::UrlSafe, Alphabet::Standard] {
            for pos in 0..4 {
                for c in 0..=255u8 {
                    let mut input = clean.to_vec();
                    let mut quantum = *b"bGQh";
                    quantum[pos] = c;
                    input.extend_from_slice(&quantum);
                    input.extend_from_slice(b"IQ");
                    let slow = {
                        let mut acc = Vec::new();
                        let mut bits = (0u32, 0u32);
                        let mut ok = true;
                        for &ch in input.iter().filter(|ch| !ch.is_ascii_whitespace()) {
                            match value(alphabet, ch) {
                                Some(v) => {
                                    bits = ((bits.0 << 6) | v, bits.1 + 1);
                                    if bits.1 == 4 {
                                        acc.extend_from_slice(&bits.0.to_be_bytes()[1..]);
                                        bits = (0, 0);
                                    }
                                }
                                None => ok = false,
                            }
                        }
                        match (ok, bits.1) {
                            (true, 2) => {
                                acc.push((bits.0 >> 4) as u8);
                                Some(acc)
                            }
                            (true, 3) => {
                                acc.extend_from_slice(&[(bits.0 >> 10) as u8, (bits.0 >> 2) as u8]);
                                Some(acc)
                            }
                            (true, 0) => Some(acc),
                            _ => None,
                        }
                    };
                    let got = decode(alphabet, &input);
                    if c != b'=' {
                        assert_eq!(got, slow, "{alphabet:?} {pos} {c}");
                    }
                }
            }
        }
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
