//! P-256's GF(p) for p = 2^256 - 2^224 + 2^192 + 2^96 - 1, in Montgomery
//! form (a stands for aR mod p, R = 2^261), as nine 29-bit limbs.
//!
//! Why 29-bit limbs in u32s rather than eight full 32-bit ones: a product
//! of two limbs is below 2^58, so a column of the schoolbook product sums
//! its nine products in an i64 with no carry handling (a multiply and an add
//! per product, all independent, against five dependent operations per
//! product with 32-bit limbs), and additions need no carry chain and no
//! conditional subtraction. Measured in V8: see the commit that made it.
//!
//! Elements are kept loosely reduced: any value below 2^257 (limbs 0-7
//! below 2^29, limb 8 below 2^25) stands for its residue; equality and
//! `is_zero` compare residues. Montgomery reduction needs no multiplications:
//! p = -1 mod 2^29, so each step's multiplier is the low limb itself, and p
//! in base w = 2^29 is -1 + 2^9 w^3 + 2^18 w^6 - 2^21 w^7 + 2^24 w^8, so
//! adding a multiple of p is four shifted additions.

use super::super::limbs29::{self, MASK};
use super::super::uint::Uint;
use super::super::Field;

type U256 = [u32; 8];

const P: U256 = [
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
    0,
    0,
    0,
    1,
    0xffff_ffff,
];

/// p and 2p in 29-bit limbs.
const P29: [u32; 9] = [
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1ff,
    0,
    0,
    0x4_0000,
    0x1fe0_0000,
    0xff_ffff,
];
const P29X2: [u32; 9] = [
    0x1fff_fffe,
    0x1fff_ffff,
    0x1fff_ffff,
    0x3ff,
    0,
    0,
    0x8_0000,
    0x1fc0_0000,
    0x1ff_ffff,
];
/// 4p with every limb but the top at least 2^29 - 1 (borrowed from the
/// limb above), so that `a - b + SUB_BIAS` has no negative limb.
const SUB_BIAS: [u32; 9] = [
    0x3fff_fffc,
    0x3fff_fffe,
    0x3fff_fffe,
    0x2000_07fe,
    0x1fff_ffff,
    0x1fff_ffff,
    0x200f_ffff,
    0x3f7f_ffff,
    0x3ff_fffe,
];

/// R^2 mod p = 2^522 mod p: multiplying by it (Montgomery) enters the
/// Montgomery domain.
const R2: Fe = Fe([
    0xc00,
    0,
    0x1fff_0000,
    0x1fdf_ffff,
    0x1fbf_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_fffe,
    0x13,
]);

/// Field element, Montgomery form, any value below 2^257 (see above).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fe([u32; 9]);

impl PartialEq for Fe {
    fn eq(&self, b: &Fe) -> bool {
        self.canonical() == b.canonical()
    }
}

impl Eq for Fe {}

impl Field for Fe {
    type Uint = U256;
    const P: U256 = P;
    const ZERO: Fe = Fe([0; 9]);
    /// R mod p.
    const ONE: Fe = Fe([
        0x20,
        0,
        0,
        0x1fff_c000,
        0x1fff_ffff,
        0x1fff_ffff,
        0x1f7f_ffff,
        0x3ff_ffff,
        0,
    ]);

    fn from_uint(a: &U256) -> Option<Fe> {
        a.less_than(&P).then(|| Fe(limbs29::from_u32(a)).mul(&R2))
    }

    fn is_zero(&self) -> bool {
        // Below 2^257 < 3p: zero mod p is 0, p or 2p.
        self.0 == [0; 9] || self.0 == P29 || self.0 == P29X2
    }

    #[inline]
    fn add(&self, b: &Fe) -> Fe {
        // Below 2^258, limbs below 2^30.
        normalize(limbs29::add(&self.0, &b.0))
    }

    #[inline]
    fn sub(&self, b: &Fe) -> Fe {
        // a - b + 4p: below 2^259, limbs in [0, 2^31).
        normalize(limbs29::sub_biased(&self.0, &b.0, &SUB_BIAS))
    }

    /// Limb by limb for k <= 8: below 2^260, limbs below 2^32.
    #[inline]
    fn mul_small(&self, k: u8) -> Fe {
        if k > 8 {
            return self.mul_small_by_adding(k);
        }
        normalize(limbs29::scale(&self.0, k))
    }

    #[inline]
    fn mul(&self, b: &Fe) -> Fe {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8] = self.0.map(i64::from);
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8] = b.0.map(i64::from);
        // Columns below 9 * 2^58 < 2^62.
        let t0 = a0 * b0;
        let t1 = a0 * b1 + a1 * b0;
        let t2 = a0 * b2 + a1 * b1 + a2 * b0;
        let t3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
        let t4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
        let t5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
        let t6 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
        let t7 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
        let t8 =
            a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0;
        let t9 = a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1;
        let t10 = a2 * b8 + a3 * b7 + a4 * b6 + a5 * b5 + a6 * b4 + a7 * b3 + a8 * b2;
        let t11 = a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 + a8 * b3;
        let t12 = a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 + a8 * b4;
        let t13 = a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5;
        let t14 = a6 * b8 + a7 * b7 + a8 * b6;
        let t15 = a7 * b8 + a8 * b7;
        let t16 = a8 * b8;
        redc([
            t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16,
        ])
    }

    /// Squaring: the 36 cross products once, doubled through d = 2a.
    #[inline]
    fn square(&self) -> Fe {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8] = self.0.map(i64::from);
        let [d0, d1, d2, d3, d4, d5, d6, d7] = [a0, a1, a2, a3, a4, a5, a6, a7].map(|a| a << 1);
        let t0 = a0 * a0;
        let t1 = d0 * a1;
        let t2 = d0 * a2 + a1 * a1;
        let t3 = d0 * a3 + d1 * a2;
        let t4 = d0 * a4 + d1 * a3 + a2 * a2;
        let t5 = d0 * a5 + d1 * a4 + d2 * a3;
        let t6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3;
        let t7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4;
        let t8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4;
        let t9 = d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5;
        let t10 = d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5;
        let t11 = d3 * a8 + d4 * a7 + d5 * a6;
        let t12 = d4 * a8 + d5 * a7 + a6 * a6;
        let t13 = d5 * a8 + d6 * a7;
        let t14 = d6 * a8 + a7 * a7;
        let t15 = d7 * a8;
        let t16 = a8 * a8;
        redc([
            t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16,
        ])
    }
}

impl Fe {
    /// The residue in [0, p), as limbs.
    fn canonical(&self) -> [u32; 9] {
        // Below 2^257 < 3p: p subtracted at most twice.
        limbs29::reduce(self.0, &P29)
    }
}

/// Non-negative limbs (below 2^33, the top one below 2^31) of a value
/// below 2^261 into a loose element: the bits from 2^256 up that limb 8
/// holds are folded back first (2^256 = 2^224 - 2^192 - 2^96 + 1 mod p, a
/// positive amount, so the value stays non-negative), which leaves below
/// 2^256 + 2^236 for a single carry pass.
#[inline(always)]
fn normalize(t: [i64; 9]) -> Fe {
    let [mut t0, t1, t2, mut t3, t4, t5, mut t6, mut t7, mut t8] = t;
    let top = t8 >> 24;
    t8 &= (1 << 24) - 1;
    t0 += top;
    t3 -= top << 9;
    t6 -= top << 18;
    t7 += top << 21;
    carry([t0, t1, t2, t3, t4, t5, t6, t7, t8])
}

/// Signed limbs of a value in [0, 2^257) into carried limbs.
#[inline(always)]
fn carry(t: [i64; 9]) -> Fe {
    Fe(limbs29::carry(t))
    // The last limb's carry is zero: the value is below 2^261.
}

/// Montgomery reduction of a product given as 17 column sums (each below
/// 2^62): returns `t / R mod p`, below 2^514 / R + p < 2^257 for inputs
/// below 2^257.
#[inline(always)]
fn redc(t: [i64; 17]) -> Fe {
    let [t0, mut t1, mut t2, mut t3, mut t4, mut t5, mut t6, mut t7, mut t8, mut t9, mut t10, mut t11, mut t12, mut t13, mut t14, mut t15, mut t16] =
        t;
    // Step i adds m p at column i, m its low 29 bits: that clears them,
    // carries the rest up, and adds m p's other digits.
    macro_rules! step {
        ($ti:ident => $t1:ident, $t3:ident, $t6:ident, $t7:ident, $t8:ident) => {
            let m = $ti & MASK;
            $t1 += $ti >> 29;
            $t3 += m << 9;
            $t6 += m << 18;
            $t7 -= m << 21;
            $t8 += m << 24;
        };
    }
    step!(t0 => t1, t3, t6, t7, t8);
    step!(t1 => t2, t4, t7, t8, t9);
    step!(t2 => t3, t5, t8, t9, t10);
    step!(t3 => t4, t6, t9, t10, t11);
    step!(t4 => t5, t7, t10, t11, t12);
    step!(t5 => t6, t8, t11, t12, t13);
    step!(t6 => t7, t9, t12, t13, t14);
    step!(t7 => t8, t10, t13, t14, t15);
    step!(t8 => t9, t11, t14, t15, t16);
    let _ = (t0, t1, t2, t3, t4, t5, t6, t7, t8);
    carry([t9, t10, t11, t12, t13, t14, t15, t16, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(limbs: &[u32; 9]) -> Vec<u32> {
        // Back to 32-bit limbs (nine, for values up to 2^261).
        // Limbs may exceed 29 bits: added, not or-ed.
        let (mut acc, mut bits) = (0u128, 0u32);
        let mut it = limbs.iter();
        (0..9)
            .map(|_| {
                while bits < 64 {
                    acc += u128::from(it.next().copied().unwrap_or(0)) << bits;
                    bits += 29;
                }
                let out = acc as u32;
                acc >>= 32;
                bits -= 32;
                out
            })
            .collect()
    }

    fn loose(f: &Fe) -> bool {
        f.0.iter().take(8).all(|&l| l < 1 << 29) && f.0[8] < 1 << 25
    }

    #[test]
    fn constants_are_p_and_its_multiples() {
        let p: Vec<u32> = P.iter().copied().chain([0]).collect();
        assert_eq!(value(&P29), p);
        assert_eq!(value(&limbs29::from_u32(&P)), p);
        let mut two_p = Fe(P29).add(&Fe(P29));
        assert!(two_p.is_zero());
        two_p = Fe(P29X2);
        assert_eq!(two_p.canonical(), [0; 9]);
        // SUB_BIAS is 4p, its limbs cover any loose limb.
        let four_p = Fe(P29X2).add(&Fe(P29X2));
        assert!(four_p.is_zero());
        let mut four_p = [0u32; 9];
        for (i, o) in four_p.iter_mut().enumerate() {
            let low = if i < 8 { P[i] << 2 } else { 0 };
            *o = low | if i > 0 { P[i - 1] >> 30 } else { 0 };
        }
        assert_eq!(value(&SUB_BIAS), four_p);
        assert!(SUB_BIAS[..8].iter().all(|&l| l >= (1 << 29) - 1));
        assert!(SUB_BIAS[8] >= 1 << 25);
    }

    #[test]
    fn results_stay_below_2_257_at_the_extremes() {
        // The largest loose value, 2^257 - 1, and values near p, 2p.
        let max = Fe([
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 29) - 1,
            (1 << 25) - 1,
        ]);
        let near: Vec<Fe> = vec![max, Fe(P29), Fe(P29X2), Fe::ZERO, Fe::ONE, Fe([1 << 28; 9])]
            .into_iter()
            .filter(loose)
            .collect();
        assert!(near.len() >= 5);
        for a in &near {
            for b in &near {
                for r in [
                    a.mul(b),
                    a.add(b),
                    a.sub(b),
                    a.square(),
                    a.neg(),
                    a.double(),
                ] {
                    assert!(loose(&r), "{a:?} {b:?} -> {r:?}");
                }
                // The residues agree with canonical inputs.
                let (ca, cb) = (Fe(a.canonical()), Fe(b.canonical()));
                assert_eq!(a.mul(b), ca.mul(&cb));
                assert_eq!(a.sub(b), ca.sub(&cb));
                assert_eq!(a.add(b), ca.add(&cb));
            }
        }
        assert!(max
            .canonical()
            .iter()
            .zip(&P29)
            .rev()
            .find(|(x, y)| x != y)
            .is_some_and(|(x, y)| x < y));
    }
}
