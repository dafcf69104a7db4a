//! `%f` (six decimals) for a claim's number, exactly as `format!("{d:.6}")`
//! writes it, without core's float formatting: its Grisu and Dragon code
//! was 18 KiB of the module, for this one call.

// Every operand's bound is argued where it is used (mantissa < 2^53,
// exponent in -1074..=971, shifts below 128), and the tests compare with
// core's output on 400,000 values.
#![allow(clippy::arithmetic_side_effects)]

/// `d` with six decimals, rounded half to even on its exact binary value,
/// as `{:.6}` does. Not for NaN or infinities (JSON numbers are finite);
/// those come out as `0.000000`.
pub fn six_decimals(d: f64) -> String {
    let sign = if d.is_sign_negative() { "-" } else { "" };
    let bits = d.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let fraction = bits & ((1 << 52) - 1);
    if biased == 0x7ff {
        return format!("{sign}0.000000");
    }
    // |d| = mantissa * 2^exp exactly.
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if exp >= 0 {
        let digits = shifted_decimal(mantissa, exp.unsigned_abs());
        return format!("{sign}{digits}.000000");
    }
    // mantissa * 10^6 < 2^73: one u128 holds it, and the shift rounds it.
    let scaled = u128::from(mantissa) * 1_000_000;
    let shift = exp.unsigned_abs();
    let micros = if shift >= 128 {
        0 // below 2^-55 even before the shift: rounds to 0
    } else {
        let q = scaled >> shift;
        let rest = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rest > half || (rest == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    format!("{sign}{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The decimal digits of `m * 2^shift`, which can be 309 digits long.
fn shifted_decimal(m: u64, shift: u32) -> String {
    // Little-endian base-2^32 limbs of m << shift.
    let words = (shift / 32) as usize;
    let bits = shift % 32;
    let mut limbs = vec![0u32; words];
    let wide = u128::from(m) << bits;
    for i in 0..3 {
        limbs.push((wide >> (32 * i)) as u32);
    }
    // Base-10^9 chunks, least significant first, by long division.
    let mut chunks = Vec::new();
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
    while !limbs.is_empty() {
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut out = String::new();
    for (i, chunk) in chunks.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&chunk.to_string());
        } else {
            out.push_str(&format!("{chunk:09}"));
        }
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(d: f64) {
        assert_eq!(
            six_decimals(d),
            format!("{d:.6}"),
            "{d:e} ({:#x})",
            d.to_bits()
        );
    }

    #[test]
    fn matches_core_formatting_on_chosen_values() {
        for d in [
            0.0,
            -0.0,
            3.25,
            -7.0,
            1e21,
            0.5,
            1.5,
            2.5,
            0.0000005,
            0.0000015,
            0.0000025,
            1.0 / 128.0,
            3.0 / 128.0,
            5.0 / 128.0,
            -1e-9,
            1e-300,
            5e-324,
            -5e-324,
            0.1,
            0.7,
            123456.789,
            9007199254740991.0,
            9007199254740993.0,
            1.8446744073709552e19,
            -1.8446744073709552e19,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            4503599627370495.5,
            999999.9999995,
            999999.9999994,
            0.9999995,
            0.9999994999999999,
        ] {
            check(d);
        }
    }

    #[test]
    fn matches_core_formatting_on_ties_at_the_seventh_decimal() {
        // m / 2^7 has a 5 as its 7th and last decimal: an exact tie.
        for m in 0..4096u32 {
            check(f64::from(m) / 128.0);
            check(-f64::from(m) / 128.0);
            check(f64::from(m) / 256.0 + 1e6);
        }
    }

    #[test]
    fn matches_core_formatting_on_random_bit_patterns() {
        // xorshift: every exponent and mantissa shape, reproducibly.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = f64::from_bits(x);
            if d.is_finite() {
                check(d);
            }
            // Values near the scale of claims (counts, prices, times).
            check((x >> 11) as f64 / (1u64 << (x % 64)) as f64);
        }
    }
}
