//! Integers mod the group order n, as plain (not Montgomery) values, and
//! their width-w NAF. Done a few times per verification, so written for
//! clarity over speed, except the inverse (`modinv`, safegcd divsteps) and
//! the NAF, which reads the scalar a window at a time.

use super::uint::{Uint, MASK};
use super::Curve;

/// The widest integers handled (P-384's twelve limbs).
pub(super) const MAX_LIMBS: usize = 12;

/// Digits of a width-w NAF: one per bit position plus one for the final
/// carry, sized for the widest curve.
pub(super) type Naf = [i8; 32 * MAX_LIMBS + 1];

/// Whether `v` is in [1, n), as ECDSA requires of r and s.
pub(super) fn nonzero_below_n<C: Curve>(v: &C::Uint) -> bool {
    !v.is_zero() && v.less_than(&C::N)
}

/// `a mod n` for any `a` of the curve's width (below 2n for both curves,
/// so one subtraction).
pub(super) fn reduce<C: Curve>(a: &C::Uint) -> C::Uint {
    let (less, borrow) = a.sub(&C::N);
    if borrow {
        *a
    } else {
        less
    }
}

/// `a * b / 2^BITS mod n`, for `a, b < n`.
fn mont_mul<C: Curve>(a: &C::Uint, b: &C::Uint) -> C::Uint {
    let n = C::N;
    let (a, b, n) = (a.limbs(), b.limbs(), n.limbs());
    let len = n.len();
    // The product's limbs and a spare for the carry out of the reduction.
    let mut t = [0u64; 2 * MAX_LIMBS + 1];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (tj, &bj) in t.iter_mut().skip(i).zip(b) {
            let v = u64::from(ai) * u64::from(bj) + *tj + carry;
            *tj = v & MASK;
            carry = v >> 32;
        }
        if let Some(top) = t.get_mut(i + len) {
            *top = carry;
        }
    }
    for i in 0..len {
        // Adding m * n clears limb i.
        let m = (t.get(i).copied().unwrap_or(0) * C::N0) & MASK;
        let mut carry = 0u64;
        for (tj, &nj) in t.iter_mut().skip(i).zip(n) {
            let v = m * u64::from(nj) + *tj + carry;
            *tj = v & MASK;
            carry = v >> 32;
        }
        for tj in t.iter_mut().skip(i + len) {
            let v = *tj + carry;
            *tj = v & MASK;
            carry = v >> 32;
        }
    }
    let out = C::Uint::from_fn(|j| t.get(len + j).map_or(0, |&v| v as u32));
    // Below 2n: one conditional subtraction.
    let overflow = t.get(2 * len).is_some_and(|&v| v != 0);
    let (less, borrow) = out.sub(&C::N);
    if overflow || !borrow {
        less
    } else {
        out
    }
}

/// `a * b mod n`, for `a, b < n`.
pub(super) fn mul<C: Curve>(a: &C::Uint, b: &C::Uint) -> C::Uint {
    mont_mul::<C>(&mont_mul::<C>(a, b), &C::N_R2)
}

/// `a / 2 mod n`.
#[cfg(test)]
fn half<C: Curve>(a: &C::Uint) -> C::Uint {
    if a.bit(0) == 0 {
        a.shr1(false)
    } else {
        let (sum, carry) = a.add(&C::N);
        sum.shr1(carry)
    }
}

/// `a - b mod n`, for `a, b < n`.
#[cfg(test)]
fn sub_mod<C: Curve>(a: &C::Uint, b: &C::Uint) -> C::Uint {
    a.sub_mod(b, &C::N)
}

/// `a^-1 mod n` for `a` in [1, n); `None` for 0.
pub(super) fn invert<C: Curve>(a: &C::Uint) -> Option<C::Uint> {
    super::modinv::invert::<C>(a)
}

/// The same by binary extended Euclid, the reference `modinv` is tested
/// against. Invariants: `x1 * a = u` and `x2 * a = v (mod n)`.
#[cfg(test)]
pub(super) fn invert_slow<C: Curve>(a: &C::Uint) -> Option<C::Uint> {
    if a.is_zero() {
        return None;
    }
    let one = C::Uint::ONE;
    let (mut u, mut v) = (*a, C::N);
    let (mut x1, mut x2) = (one, C::Uint::ZERO);
    // n is prime, so gcd(a, n) = 1: u and v stay positive and one reaches 1.
    while u != one && v != one {
        while u.bit(0) == 0 {
            u = u.shr1(false);
            x1 = half::<C>(&x1);
        }
        while v.bit(0) == 0 {
            v = v.shr1(false);
            x2 = half::<C>(&x2);
        }
        if u.less_than(&v) {
            v = v.sub(&u).0;
            x2 = sub_mod::<C>(&x2, &x1);
        } else {
            u = u.sub(&v).0;
            x1 = sub_mod::<C>(&x1, &x2);
        }
        if u.is_zero() || v.is_zero() {
            // Only possible if gcd(a, n) > 1, i.e. never for a < n.
            return None;
        }
    }
    Some(if u == one { x1 } else { x2 })
}

/// Width-`w` NAF of `k` (2 <= w <= 8) in its first `U::BITS + 1` digits:
/// digits odd or zero, |digit| < 2^(w-1), any w consecutive digits hold at
/// most one nonzero, and `k = sum(digit[i] * 2^i)`.
pub(super) fn wnaf<U: Uint>(k: &U, w: usize) -> Naf {
    let mut out = [0i8; 32 * MAX_LIMBS + 1];
    let len = U::BITS + 1;
    let mut carry = 0u32;
    let mut i = 0;
    while i < len {
        let word = window(k, i);
        // Runs where bit plus carry is 0 or 2 give zero digits and keep
        // the carry: skipped at once.
        let run = if carry == 0 {
            word.trailing_zeros()
        } else {
            word.trailing_ones()
        };
        if run > 0 {
            i += run as usize;
            continue;
        }
        let width = w.min(len - i);
        let bits = word & ((1u32 << width) - 1);
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

/// The 32 bits of `k` from bit `i` up (zeros past the top).
fn window<U: Uint>(k: &U, i: usize) -> u32 {
    let limbs = k.limbs();
    let lo = limbs.get(i / 32).copied().unwrap_or(0);
    let hi = limbs.get(i / 32 + 1).copied().unwrap_or(0);
    ((u64::from(hi) << 32 | u64::from(lo)) >> (i % 32)) as u32
}

#[cfg(test)]
mod tests {
    use super::super::P256;
    use super::super::P384;
    use super::*;

    fn xorshift<U: Uint>(x: &mut u64) -> U {
        U::from_fn(|_| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x as u32
        })
    }

    fn samples<C: Curve>() -> Vec<C::Uint> {
        let one = C::Uint::ONE;
        let two = one.add(&one).0;
        let n1 = C::N.sub(&one).0;
        let mut out = vec![one, two, n1, C::N.shr1(false)];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        out.extend((0..30).map(|_| reduce::<C>(&xorshift(&mut x))));
        out
    }

    fn add_mod<C: Curve>(a: &C::Uint, b: &C::Uint) -> C::Uint {
        let (sum, carry) = a.add(b);
        if carry {
            sum.sub(&C::N).0
        } else {
            reduce::<C>(&sum)
        }
    }

    fn montgomery_constants<C: Curve>() {
        let n0 = u64::from(C::N.limbs()[0]);
        assert_eq!(n0.wrapping_mul(C::N0) & MASK, MASK, "n * n0 = -1");
        // 2^(2 BITS) mod n by doubling 1.
        let mut r = C::Uint::ONE;
        for _ in 0..2 * C::Uint::BITS {
            r = add_mod::<C>(&r, &r);
        }
        assert_eq!(r, C::N_R2);
    }

    fn arithmetic<C: Curve>() {
        let xs = samples::<C>();
        let one = C::Uint::ONE;
        for a in &xs {
            let inv = invert::<C>(a).unwrap();
            assert_eq!(Some(inv), invert_slow::<C>(a));
            assert!(inv.less_than(&C::N));
            assert_eq!(mul::<C>(a, &inv), one, "{a:x?}");
            for (b, c) in xs.iter().zip(xs.iter().rev()).take(8) {
                assert_eq!(mul::<C>(a, b), mul::<C>(b, a));
                let sum = mul::<C>(a, &add_mod::<C>(b, c));
                assert_eq!(sum, add_mod::<C>(&mul::<C>(a, b), &mul::<C>(a, c)));
            }
            assert_eq!(mul::<C>(a, &one), *a);
        }
        let n1 = C::N.sub(&one).0;
        assert_eq!(mul::<C>(&n1, &n1), one);
        assert_eq!(invert::<C>(&C::Uint::ZERO), None);
    }

    fn range_checks<C: Curve>() {
        let one = C::Uint::ONE;
        assert!(!nonzero_below_n::<C>(&C::Uint::ZERO));
        assert!(!nonzero_below_n::<C>(&C::N));
        assert!(nonzero_below_n::<C>(&one));
        assert!(nonzero_below_n::<C>(&C::N.sub(&one).0));
        assert_eq!(reduce::<C>(&C::N), C::Uint::ZERO);
        let max = C::Uint::ZERO.sub(&one).0;
        assert!(!nonzero_below_n::<C>(&max));
        assert_eq!(reduce::<C>(&max), max.sub(&C::N).0);
    }

    #[test]
    fn p256_montgomery_constants_inverse_and_ranges() {
        montgomery_constants::<P256>();
        arithmetic::<P256>();
        range_checks::<P256>();
    }

    #[test]
    fn p384_montgomery_constants_inverse_and_ranges() {
        montgomery_constants::<P384>();
        arithmetic::<P384>();
        range_checks::<P384>();
    }

    fn check_wnaf<U: Uint>(k: &U, w: usize) {
        let naf = wnaf(k, w);
        let mut acc = U::ZERO;
        let mut last_nonzero: Option<usize> = None;
        for (i, &d) in naf.iter().enumerate().take(U::BITS + 1).rev() {
            // Horner from the top: acc = 2 acc + d (mod 2^BITS).
            let twice = acc.add(&acc).0;
            let mag = U::from_fn(|j| {
                if j == 0 {
                    u32::from(d.unsigned_abs())
                } else {
                    0
                }
            });
            acc = if d < 0 {
                twice.sub(&mag).0
            } else {
                twice.add(&mag).0
            };
            if d != 0 {
                assert!(d % 2 != 0 && i32::from(d).abs() < 1 << (w - 1));
                if let Some(prev) = last_nonzero {
                    assert!(prev - i >= w, "digits too close");
                }
                last_nonzero = Some(i);
            }
        }
        assert!(naf[U::BITS + 1..].iter().all(|&d| d == 0));
        assert_eq!(&acc, k, "w = {w}");
    }

    #[test]
    fn wnaf_reconstructs_the_scalar() {
        let mut x = 0x1234_5678_9abc_def1u64;
        for w in [2, 4, 5, 6, 7, 8] {
            for k in [[0u32; 8], [1, 0, 0, 0, 0, 0, 0, 0], [u32::MAX; 8]] {
                check_wnaf(&k, w);
            }
            check_wnaf(&[u32::MAX; 12], w);
            for _ in 0..30 {
                check_wnaf(&xorshift::<[u32; 8]>(&mut x), w);
                check_wnaf(&xorshift::<[u32; 12]>(&mut x), w);
            }
        }
    }
}
