//! Integers mod the group order n, as plain (not Montgomery) values, and
//! their width-w NAF. Done a few times per verification, so written for
//! clarity over speed, except the inverse, which is variable-time binary
//! extended Euclid (far cheaper than n-2 exponentiation).

use super::u256::{self, MASK, U256};

/// The order n of the base point.
pub(super) const N: U256 = [
    0xfc63_2551,
    0xf3b9_cac2,
    0xa717_9e84,
    0xbce6_faad,
    0xffff_ffff,
    0xffff_ffff,
    0x0000_0000,
    0xffff_ffff,
];

/// -n^-1 mod 2^32, for Montgomery reduction.
const N0: u64 = 0xee00_bc4f;

/// 2^512 mod n.
const R2: U256 = [
    0xbe79_eea2,
    0x8324_4c95,
    0x49bd_6fa6,
    0x4699_799c,
    0x2b6b_ec59,
    0x2845_b239,
    0xf3d9_5620,
    0x66e1_2d94,
];

const ONE: U256 = [1, 0, 0, 0, 0, 0, 0, 0];

/// Digits of a width-w NAF of a 256-bit integer: one per bit position plus
/// one for the final carry.
pub(super) const NAF_LEN: usize = 257;

/// A big-endian integer that is in [1, n), as ECDSA requires of r and s.
pub(super) fn nonzero_below_n(bytes: &[u8; 32]) -> Option<U256> {
    let v = u256::from_be_bytes(bytes);
    (!u256::is_zero(&v) && u256::lt(&v, &N)).then_some(v)
}

/// `a mod n` for any 256-bit `a` (below 2n, so one subtraction).
pub(super) fn reduce(a: &U256) -> U256 {
    let (less, borrow) = u256::sub(a, &N);
    if borrow {
        *a
    } else {
        less
    }
}

/// `a * b / 2^256 mod n`, for `a, b < n`.
fn mont_mul(a: &U256, b: &U256) -> U256 {
    // 16 product limbs and a spare for the carry out of the reduction.
    let mut t = [0u64; 17];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (tj, &bj) in t.iter_mut().skip(i).zip(b) {
            let v = u64::from(ai) * u64::from(bj) + *tj + carry;
            *tj = v & MASK;
            carry = v >> 32;
        }
        if let Some(top) = t.get_mut(i + 8) {
            *top = carry;
        }
    }
    for i in 0..8 {
        // Adding m * n clears limb i.
        let m = (t.get(i).copied().unwrap_or(0) * N0) & MASK;
        let mut carry = 0u64;
        for (tj, &nj) in t.iter_mut().skip(i).zip(&N) {
            let v = m * u64::from(nj) + *tj + carry;
            *tj = v & MASK;
            carry = v >> 32;
        }
        for tj in t.iter_mut().skip(i + 8) {
            let v = *tj + carry;
            *tj = v & MASK;
            carry = v >> 32;
        }
    }
    let mut out = [0u32; 8];
    for (o, &v) in out.iter_mut().zip(t.iter().skip(8)) {
        *o = v as u32;
    }
    // Below 2n: one conditional subtraction.
    let overflow = t.get(16).is_some_and(|&v| v != 0);
    let (less, borrow) = u256::sub(&out, &N);
    if overflow || !borrow {
        less
    } else {
        out
    }
}

/// `a * b mod n`, for `a, b < n`.
pub(super) fn mul(a: &U256, b: &U256) -> U256 {
    mont_mul(&mont_mul(a, b), &R2)
}

/// `a / 2 mod n`.
fn half(a: &U256) -> U256 {
    if u256::bit(a, 0) == 0 {
        u256::shr1(a, false)
    } else {
        let (sum, carry) = u256::add(a, &N);
        u256::shr1(&sum, carry)
    }
}

/// `a - b mod n`, for `a, b < n`.
fn sub_mod(a: &U256, b: &U256) -> U256 {
    let (diff, borrow) = u256::sub(a, b);
    if borrow {
        u256::add(&diff, &N).0
    } else {
        diff
    }
}

/// `a^-1 mod n` for `a` in [1, n), by binary extended Euclid; `None` for 0.
/// Invariants: `x1 * a = u` and `x2 * a = v (mod n)`.
pub(super) fn invert(a: &U256) -> Option<U256> {
    if u256::is_zero(a) {
        return None;
    }
    let (mut u, mut v) = (*a, N);
    let (mut x1, mut x2) = (ONE, [0u32; 8]);
    // n is prime, so gcd(a, n) = 1: u and v stay positive and one reaches 1.
    while u != ONE && v != ONE {
        while u256::bit(&u, 0) == 0 {
            u = u256::shr1(&u, false);
            x1 = half(&x1);
        }
        while u256::bit(&v, 0) == 0 {
            v = u256::shr1(&v, false);
            x2 = half(&x2);
        }
        if u256::lt(&u, &v) {
            v = u256::sub(&v, &u).0;
            x2 = sub_mod(&x2, &x1);
        } else {
            u = u256::sub(&u, &v).0;
            x1 = sub_mod(&x1, &x2);
        }
        if u256::is_zero(&u) || u256::is_zero(&v) {
            // Only possible if gcd(a, n) > 1, i.e. never for a < n.
            return None;
        }
    }
    Some(if u == ONE { x1 } else { x2 })
}

/// Width-`w` NAF of `k` (2 <= w <= 8): digits odd or zero, |digit| <
/// 2^(w-1), any w consecutive digits hold at most one nonzero, and
/// `k = sum(digit[i] * 2^i)`.
pub(super) fn wnaf(k: &U256, w: usize) -> [i8; NAF_LEN] {
    let mut out = [0i8; NAF_LEN];
    let mut carry = 0u32;
    let mut i = 0;
    while i < NAF_LEN {
        if u256::bit(k, i) == carry {
            // Bit plus carry is 0 or 2: digit 0, carry unchanged.
            i += 1;
            continue;
        }
        let width = w.min(NAF_LEN - i);
        let bits = (0..width).fold(0u32, |acc, j| acc | (u256::bit(k, i + j) << j));
        // Odd, below 2^w; the top half becomes negative with a carry.
        let word = bits + carry;
        carry = (word >> (w - 1)) & 1;
        let digit = word as i32 - ((carry as i32) << w);
        if let Some(d) = out.get_mut(i) {
            *d = digit as i8;
        }
        i += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(x: &mut u64) -> U256 {
        let mut v = [0u32; 8];
        for l in v.iter_mut() {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *l = *x as u32;
        }
        v
    }

    fn samples() -> Vec<U256> {
        let n1 = u256::sub(&N, &ONE).0;
        let mut out = vec![ONE, [2, 0, 0, 0, 0, 0, 0, 0], n1, u256::shr1(&N, false)];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        out.extend((0..30).map(|_| reduce(&xorshift(&mut x))));
        out
    }

    #[test]
    fn montgomery_constants() {
        assert_eq!(u64::from(N[0]).wrapping_mul(N0) & MASK, MASK, "n * n0 = -1");
        // R^2 mod n by doubling 1 512 times.
        let mut r = ONE;
        for _ in 0..512 {
            let (d, carry) = u256::add(&r, &r);
            r = if carry {
                u256::sub(&d, &N).0
            } else {
                reduce(&d)
            };
        }
        assert_eq!(r, R2);
    }

    #[test]
    fn inverse_times_value_is_one() {
        for a in samples() {
            let inv = invert(&a).unwrap();
            assert!(u256::lt(&inv, &N));
            assert_eq!(mul(&a, &inv), ONE, "{a:x?}");
        }
        assert_eq!(invert(&[0; 8]), None);
    }

    fn add_mod(a: &U256, b: &U256) -> U256 {
        let (sum, carry) = u256::add(a, b);
        if carry {
            u256::sub(&sum, &N).0
        } else {
            reduce(&sum)
        }
    }

    #[test]
    fn mul_distributes_and_commutes() {
        let xs = samples();
        for a in &xs {
            for (b, c) in xs.iter().zip(xs.iter().rev()).take(8) {
                assert_eq!(mul(a, b), mul(b, a));
                assert_eq!(mul(a, &add_mod(b, c)), add_mod(&mul(a, b), &mul(a, c)));
            }
            assert_eq!(mul(a, &ONE), *a);
        }
        let n1 = u256::sub(&N, &ONE).0;
        assert_eq!(mul(&n1, &n1), ONE);
    }

    #[test]
    fn wnaf_reconstructs_the_scalar() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut values = vec![[0u32; 8], ONE, [u32::MAX; 8], N];
        values.extend((0..50).map(|_| xorshift(&mut x)));
        for w in [2, 4, 5, 6, 7, 8] {
            for k in &values {
                let naf = wnaf(k, w);
                let mut acc = [0u32; 8];
                let mut last_nonzero: Option<usize> = None;
                for (i, &d) in naf.iter().enumerate().rev() {
                    // Horner from the top: acc = 2 acc + d (mod 2^256).
                    let (twice, _) = u256::add(&acc, &acc);
                    let mag = [u32::from(d.unsigned_abs()), 0, 0, 0, 0, 0, 0, 0];
                    acc = if d < 0 {
                        u256::sub(&twice, &mag).0
                    } else {
                        u256::add(&twice, &mag).0
                    };
                    if d != 0 {
                        assert!(d % 2 != 0 && i32::from(d).abs() < 1 << (w - 1));
                        if let Some(prev) = last_nonzero {
                            assert!(prev - i >= w, "digits too close");
                        }
                        last_nonzero = Some(i);
                    }
                }
                assert_eq!(&acc, k, "w = {w}");
            }
        }
    }

    #[test]
    fn range_checks_for_r_and_s() {
        let be = |v: &U256| u256::to_be_bytes(v);
        assert_eq!(nonzero_below_n(&[0; 32]), None);
        assert_eq!(nonzero_below_n(&be(&N)), None);
        assert_eq!(nonzero_below_n(&[0xff; 32]), None);
        assert_eq!(nonzero_below_n(&be(&ONE)), Some(ONE));
        let n1 = u256::sub(&N, &ONE).0;
        assert_eq!(nonzero_below_n(&be(&n1)), Some(n1));
        assert_eq!(reduce(&N), [0; 8]);
        assert_eq!(reduce(&[u32::MAX; 8]), u256::sub(&[u32::MAX; 8], &N).0);
    }
}
