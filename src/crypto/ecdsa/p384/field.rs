//! P-384's GF(p) for p = 2^384 - 2^128 - 2^96 + 2^32 - 1, in Montgomery
//! form (a stands for aR mod p, R = 2^384), always fully reduced. The same
//! construction as P-256's field: p = -1 mod 2^32 and p's signed-digit form
//! in base 2^32 is w^12 - w^4 - w^3 + w - 1, so each reduction step only adds
//! or subtracts the step's multiplier at limbs 1, 3, 4 and 12.

use super::super::uint::{Uint, MASK};
use super::super::Field;

type U384 = [u32; 12];

const P: U384 = [
    0xffff_ffff,
    0,
    0,
    0xffff_ffff,
    0xffff_fffe,
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
    0xffff_ffff,
];

/// 2^768 mod p: multiplying by it (Montgomery) enters the Montgomery domain.
const R2: U384 = [1, 0xffff_fffe, 0, 2, 0, 0xffff_fffe, 0, 2, 1, 0, 0, 0];

/// Field element, Montgomery form, in [0, p).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fe(U384);

impl Field for Fe {
    type Uint = U384;
    const P: U384 = P;
    const ZERO: Fe = Fe([0; 12]);
    /// R mod p.
    const ONE: Fe = Fe([1, 0xffff_ffff, 0xffff_ffff, 0, 1, 0, 0, 0, 0, 0, 0, 0]);

    fn from_uint(a: &U384) -> Option<Fe> {
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
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11] = self.0.map(u64::from);
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11] = b.0.map(u64::from);
        let [mut t0, mut t1, mut t2, mut t3, mut t4, mut t5] = [0u64; 6];
        let [mut t6, mut t7, mut t8, mut t9, mut t10, mut t11] = [0u64; 6];
        let (mut t12, mut t13, mut t14, mut t15, mut t16, mut t17);
        let (mut t18, mut t19, mut t20, mut t21, mut t22, t23);
        row!(a0; b0 => t0, b1 => t1, b2 => t2, b3 => t3, b4 => t4, b5 => t5,
            b6 => t6, b7 => t7, b8 => t8, b9 => t9, b10 => t10, b11 => t11; t12);
        row!(a1; b0 => t1, b1 => t2, b2 => t3, b3 => t4, b4 => t5, b5 => t6,
            b6 => t7, b7 => t8, b8 => t9, b9 => t10, b10 => t11, b11 => t12; t13);
        row!(a2; b0 => t2, b1 => t3, b2 => t4, b3 => t5, b4 => t6, b5 => t7,
            b6 => t8, b7 => t9, b8 => t10, b9 => t11, b10 => t12, b11 => t13; t14);
        row!(a3; b0 => t3, b1 => t4, b2 => t5, b3 => t6, b4 => t7, b5 => t8,
            b6 => t9, b7 => t10, b8 => t11, b9 => t12, b10 => t13, b11 => t14; t15);
        row!(a4; b0 => t4, b1 => t5, b2 => t6, b3 => t7, b4 => t8, b5 => t9,
            b6 => t10, b7 => t11, b8 => t12, b9 => t13, b10 => t14, b11 => t15; t16);
        row!(a5; b0 => t5, b1 => t6, b2 => t7, b3 => t8, b4 => t9, b5 => t10,
            b6 => t11, b7 => t12, b8 => t13, b9 => t14, b10 => t15, b11 => t16; t17);
        row!(a6; b0 => t6, b1 => t7, b2 => t8, b3 => t9, b4 => t10, b5 => t11,
            b6 => t12, b7 => t13, b8 => t14, b9 => t15, b10 => t16, b11 => t17; t18);
        row!(a7; b0 => t7, b1 => t8, b2 => t9, b3 => t10, b4 => t11, b5 => t12,
            b6 => t13, b7 => t14, b8 => t15, b9 => t16, b10 => t17, b11 => t18; t19);
        row!(a8; b0 => t8, b1 => t9, b2 => t10, b3 => t11, b4 => t12, b5 => t13,
            b6 => t14, b7 => t15, b8 => t16, b9 => t17, b10 => t18, b11 => t19; t20);
        row!(a9; b0 => t9, b1 => t10, b2 => t11, b3 => t12, b4 => t13, b5 => t14,
            b6 => t15, b7 => t16, b8 => t17, b9 => t18, b10 => t19, b11 => t20; t21);
        row!(a10; b0 => t10, b1 => t11, b2 => t12, b3 => t13, b4 => t14, b5 => t15,
            b6 => t16, b7 => t17, b8 => t18, b9 => t19, b10 => t20, b11 => t21; t22);
        row!(a11; b0 => t11, b1 => t12, b2 => t13, b3 => t14, b4 => t15, b5 => t16,
            b6 => t17, b7 => t18, b8 => t19, b9 => t20, b10 => t21, b11 => t22; t23);
        redc([
            t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17, t18,
            t19, t20, t21, t22, t23,
        ])
    }

    /// Squaring: the 66 cross products once, doubled, plus the 12 squares.
    #[inline]
    fn square(&self) -> Fe {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11] = self.0.map(u64::from);
        let [mut t1, mut t2, mut t3, mut t4, mut t5, mut t6] = [0u64; 6];
        let [mut t7, mut t8, mut t9, mut t10, mut t11] = [0u64; 5];
        let (mut t12, mut t13, mut t14, mut t15, mut t16, mut t17);
        let (mut t18, mut t19, mut t20, mut t21, t22);
        row!(a0; a1 => t1, a2 => t2, a3 => t3, a4 => t4, a5 => t5, a6 => t6,
            a7 => t7, a8 => t8, a9 => t9, a10 => t10, a11 => t11; t12);
        row!(a1; a2 => t3, a3 => t4, a4 => t5, a5 => t6, a6 => t7, a7 => t8,
            a8 => t9, a9 => t10, a10 => t11, a11 => t12; t13);
        row!(a2; a3 => t5, a4 => t6, a5 => t7, a6 => t8, a7 => t9, a8 => t10,
            a9 => t11, a10 => t12, a11 => t13; t14);
        row!(a3; a4 => t7, a5 => t8, a6 => t9, a7 => t10, a8 => t11, a9 => t12,
            a10 => t13, a11 => t14; t15);
        row!(a4; a5 => t9, a6 => t10, a7 => t11, a8 => t12, a9 => t13, a10 => t14,
            a11 => t15; t16);
        row!(a5; a6 => t11, a7 => t12, a8 => t13, a9 => t14, a10 => t15, a11 => t16; t17);
        row!(a6; a7 => t13, a8 => t14, a9 => t15, a10 => t16, a11 => t17; t18);
        row!(a7; a8 => t15, a9 => t16, a10 => t17, a11 => t18; t19);
        row!(a8; a9 => t17, a10 => t18, a11 => t19; t20);
        row!(a9; a10 => t19, a11 => t20; t21);
        row!(a10; a11 => t21; t22);
        // 2 * cross + squares, limb by limb (see P-256's square).
        let mut c = 0u64;
        let mut limb = |cross: u64, half: u64| {
            let v = (cross << 1) + half + c;
            c = v >> 32;
            v & MASK
        };
        let [s0, s1, s2, s3, s4, s5] = [a0, a1, a2, a3, a4, a5].map(|a| a * a);
        let [s6, s7, s8, s9, s10, s11] = [a6, a7, a8, a9, a10, a11].map(|a| a * a);
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
            limb(t15, s7 >> 32),
            limb(t16, s8 & MASK),
            limb(t17, s8 >> 32),
            limb(t18, s9 & MASK),
            limb(t19, s9 >> 32),
            limb(t20, s10 & MASK),
            limb(t21, s10 >> 32),
            limb(t22, s11 & MASK),
            limb(0, s11 >> 32),
        ];
        redc(out)
    }
}

/// Montgomery reduction of a 768-bit product given as 24 limbs, each below
/// 2^32: returns `t / R mod p`, for `t < p * R`.
#[inline(always)]
fn redc(t: [u64; 24]) -> Fe {
    let mask = MASK as i64;
    // Step i adds m_i * p at limb i, where m_i is the running limb i: that
    // clears limb i and adds +m_i at limbs i+1 and i+12, -m_i at i+3 and i+4.
    // Carries are signed, so the subtractions need no borrow juggling.
    let t = t.map(|v| v as i64);
    let [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, ..] = t;
    let [.., t12, t13, t14, t15, t16, t17, t18, t19, t20, t21, t22, t23] = t;
    let mut acc = t0;
    let m0 = acc & mask;
    acc = (acc >> 32) + t1 + m0;
    let m1 = acc & mask;
    acc = (acc >> 32) + t2 + m1;
    let m2 = acc & mask;
    acc = (acc >> 32) + t3 + m2 - m0;
    let m3 = acc & mask;
    acc = (acc >> 32) + t4 + m3 - m1 - m0;
    let m4 = acc & mask;
    acc = (acc >> 32) + t5 + m4 - m2 - m1;
    let m5 = acc & mask;
    acc = (acc >> 32) + t6 + m5 - m3 - m2;
    let m6 = acc & mask;
    acc = (acc >> 32) + t7 + m6 - m4 - m3;
    let m7 = acc & mask;
    acc = (acc >> 32) + t8 + m7 - m5 - m4;
    let m8 = acc & mask;
    acc = (acc >> 32) + t9 + m8 - m6 - m5;
    let m9 = acc & mask;
    acc = (acc >> 32) + t10 + m9 - m7 - m6;
    let m10 = acc & mask;
    acc = (acc >> 32) + t11 + m10 - m8 - m7;
    let m11 = acc & mask;
    acc = (acc >> 32) + t12 + m11 - m9 - m8 + m0;
    let r0 = acc & mask;
    acc = (acc >> 32) + t13 - m10 - m9 + m1;
    let r1 = acc & mask;
    acc = (acc >> 32) + t14 - m11 - m10 + m2;
    let r2 = acc & mask;
    acc = (acc >> 32) + t15 - m11 + m3;
    let r3 = acc & mask;
    acc = (acc >> 32) + t16 + m4;
    let r4 = acc & mask;
    acc = (acc >> 32) + t17 + m5;
    let r5 = acc & mask;
    acc = (acc >> 32) + t18 + m6;
    let r6 = acc & mask;
    acc = (acc >> 32) + t19 + m7;
    let r7 = acc & mask;
    acc = (acc >> 32) + t20 + m8;
    let r8 = acc & mask;
    acc = (acc >> 32) + t21 + m9;
    let r9 = acc & mask;
    acc = (acc >> 32) + t22 + m10;
    let r10 = acc & mask;
    acc = (acc >> 32) + t23 + m11;
    let r11 = acc & mask;
    let top = acc >> 32;
    let r = [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11].map(|v| v as u32);
    // The result is below 2p: one conditional subtraction.
    let (less, borrow) = r.sub(&P);
    Fe(if top != 0 || !borrow { less } else { r })
}
