//! P-256's GF(p) for p = 2^256 - 2^224 + 2^192 + 2^96 - 1, in Montgomery
//! form (a stands for aR mod p, R = 2^256), always fully reduced.
//!
//! Montgomery reduction needs no multiplications here: p = -1 mod 2^32, so
//! each step's multiplier is the low limb itself, and adding that multiple
//! of p only adds or subtracts it at limbs 3, 6, 7 and 8 (p's signed-digit
//! form in base 2^32 is w^8 - w^7 + w^6 + w^3 - 1). Products are written out
//! limb by limb so LLVM keeps them in wasm locals instead of stack memory.

use super::super::uint::{Uint, MASK};
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

/// 2^512 mod p: multiplying by it (Montgomery) enters the Montgomery domain.
const R2: U256 = [
    0x0000_0003,
    0x0000_0000,
    0xffff_ffff,
    0xffff_fffb,
    0xffff_fffe,
    0xffff_ffff,
    0xffff_fffd,
    0x0000_0004,
];

/// Field element, Montgomery form, in [0, p).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fe(U256);

impl Field for Fe {
    type Uint = U256;
    const P: U256 = P;
    const ZERO: Fe = Fe([0; 8]);
    /// R mod p.
    const ONE: Fe = Fe([
        1,
        0,
        0,
        0xffff_ffff,
        0xffff_ffff,
        0xffff_ffff,
        0xffff_fffe,
        0,
    ]);

    fn from_uint(a: &U256) -> Option<Fe> {
        a.less_than(&P).then(|| Fe(*a).mul(&Fe(R2)))
    }

    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    #[inline]
    fn add(&self, b: &Fe) -> Fe {
        Fe(self.0.add_mod(&b.0, &P))
    }

    #[inline]
    fn sub(&self, b: &Fe) -> Fe {
        Fe(self.0.sub_mod(&b.0, &P))
    }

    #[inline]
    fn mul(&self, b: &Fe) -> Fe {
        let [a0, a1, a2, a3, a4, a5, a6, a7] = self.0.map(u64::from);
        let [b0, b1, b2, b3, b4, b5, b6, b7] = b.0.map(u64::from);
        let (mut t0, mut t1, mut t2, mut t3, mut t4, mut t5, mut t6, mut t7) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        let (mut t8, mut t9, mut t10, mut t11, mut t12, mut t13, mut t14, t15);
        row!(a0; b0 => t0, b1 => t1, b2 => t2, b3 => t3, b4 => t4, b5 => t5, b6 => t6, b7 => t7; t8);
        row!(a1; b0 => t1, b1 => t2, b2 => t3, b3 => t4, b4 => t5, b5 => t6, b6 => t7, b7 => t8; t9);
        row!(a2; b0 => t2, b1 => t3, b2 => t4, b3 => t5, b4 => t6, b5 => t7, b6 => t8, b7 => t9; t10);
        row!(a3; b0 => t3, b1 => t4, b2 => t5, b3 => t6, b4 => t7, b5 => t8, b6 => t9, b7 => t10; t11);
        row!(a4; b0 => t4, b1 => t5, b2 => t6, b3 => t7, b4 => t8, b5 => t9, b6 => t10, b7 => t11; t12);
        row!(a5; b0 => t5, b1 => t6, b2 => t7, b3 => t8, b4 => t9, b5 => t10, b6 => t11, b7 => t12; t13);
        row!(a6; b0 => t6, b1 => t7, b2 => t8, b3 => t9, b4 => t10, b5 => t11, b6 => t12, b7 => t13; t14);
        row!(a7; b0 => t7, b1 => t8, b2 => t9, b3 => t10, b4 => t11, b5 => t12, b6 => t13, b7 => t14; t15);
        redc([
            t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15,
        ])
    }

    /// Squaring: the 28 cross products once, doubled, plus the 8 squares.
    #[inline]
    fn square(&self) -> Fe {
        let [a0, a1, a2, a3, a4, a5, a6, a7] = self.0.map(u64::from);
        let (mut t1, mut t2, mut t3, mut t4, mut t5, mut t6, mut t7) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        let (mut t8, mut t9, mut t10, mut t11, mut t12, mut t13, t14);
        row!(a0; a1 => t1, a2 => t2, a3 => t3, a4 => t4, a5 => t5, a6 => t6, a7 => t7; t8);
        row!(a1; a2 => t3, a3 => t4, a4 => t5, a5 => t6, a6 => t7, a7 => t8; t9);
        row!(a2; a3 => t5, a4 => t6, a5 => t7, a6 => t8, a7 => t9; t10);
        row!(a3; a4 => t7, a5 => t8, a6 => t9, a7 => t10; t11);
        row!(a4; a5 => t9, a6 => t10, a7 => t11; t12);
        row!(a5; a6 => t11, a7 => t12; t13);
        row!(a6; a7 => t13; t14);
        // 2 * cross + squares, limb by limb: each doubled limb is below
        // 2^33, so the sum with a square half and the carry fits a u64.
        let mut c = 0u64;
        let mut limb = |cross: u64, half: u64| {
            let v = (cross << 1) + half + c;
            c = v >> 32;
            v & MASK
        };
        let (s0, s1, s2, s3) = (a0 * a0, a1 * a1, a2 * a2, a3 * a3);
        let (s4, s5, s6, s7) = (a4 * a4, a5 * a5, a6 * a6, a7 * a7);
        let out = [
            limb(0, s0 & MASK),
            limb(t1, s0 >> 32),
            limb(t2, s1 & MASK),
            limb(t3, s1 >> 32),
            limb(t4, s2 & MASK),
            limb(t5, s2 >> 32),
            limb(t6, s3 & MASK),
            limb(t7, s3 >> 32),
            limb(t8, s4 & MASK),
            limb(t9, s4 >> 32),
            limb(t10, s5 & MASK),
            limb(t11, s5 >> 32),
            limb(t12, s6 & MASK),
            limb(t13, s6 >> 32),
            limb(t14, s7 & MASK),
            limb(0, s7 >> 32),
        ];
        redc(out)
    }
}

/// Montgomery reduction of a 512-bit product given as 16 limbs, each below
/// 2^32: returns `t / R mod p`, for `t < p * R`.
#[inline(always)]
fn redc(t: [u64; 16]) -> Fe {
    let [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15] =
        t.map(|v| v as i64);
    let mask = MASK as i64;
    // Step i adds m_i * p at limb i, where m_i is the running limb i: that
    // clears limb i and adds +m_i at limbs i+3, i+6, i+8 and -m_i at i+7.
    // Carries are signed, so the subtractions need no borrow juggling.
    let (m0, m1, m2) = (t0, t1, t2);
    let mut acc = t3 + m0;
    let m3 = acc & mask;
    acc = (acc >> 32) + t4 + m1;
    let m4 = acc & mask;
    acc = (acc >> 32) + t5 + m2;
    let m5 = acc & mask;
    acc = (acc >> 32) + t6 + m3 + m0;
    let m6 = acc & mask;
    acc = (acc >> 32) + t7 + m4 + m1 - m0;
    let m7 = acc & mask;
    acc = (acc >> 32) + t8 + m5 + m2 - m1 + m0;
    let r0 = acc & mask;
    acc = (acc >> 32) + t9 + m6 + m3 - m2 + m1;
    let r1 = acc & mask;
    acc = (acc >> 32) + t10 + m7 + m4 - m3 + m2;
    let r2 = acc & mask;
    acc = (acc >> 32) + t11 + m5 - m4 + m3;
    let r3 = acc & mask;
    acc = (acc >> 32) + t12 + m6 - m5 + m4;
    let r4 = acc & mask;
    acc = (acc >> 32) + t13 + m7 - m6 + m5;
    let r5 = acc & mask;
    acc = (acc >> 32) + t14 + m6 - m7;
    let r6 = acc & mask;
    acc = (acc >> 32) + t15 + m7;
    let r7 = acc & mask;
    let top = acc >> 32;
    let r = [r0, r1, r2, r3, r4, r5, r6, r7].map(|v| v as u32);
    // The result is below 2p: one conditional subtraction.
    let (less, borrow) = r.sub(&P);
    Fe(if top != 0 || !borrow { less } else { r })
}
