//! P-384's GF(p) for p = 2^384 - 2^128 - 2^96 + 2^32 - 1, in Montgomery
//! form (a stands for aR mod p, R = 2^406), as fourteen 29-bit limbs: the
//! same construction as P-256's field (see there for why). Elements are
//! any value below 2^385 (limbs 0-12 below 2^29, limb 13 below 2^8);
//! p = -1 mod 2^29 and p in base w = 2^29 is
//! -1 + 2^3 w - 2^9 w^3 - 2^12 w^4 + 2^7 w^13, so a reduction step is four
//! shifted additions (the products are in `product`).

use super::super::limbs29;
use super::super::uint::Uint;
use super::super::Field;
use super::product;

type U384 = [u32; 12];
type Limbs = [u32; 14];

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

/// p, 2p in 29-bit limbs.
const P29: Limbs = [
    0x1fff_ffff,
    0x7,
    0x0,
    0x1fff_fe00,
    0x1fff_efff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x7f,
];
const P29X2: Limbs = [
    0x1fff_fffe,
    0xf,
    0x0,
    0x1fff_fc00,
    0x1fff_dfff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0x1fff_ffff,
    0xff,
];
/// 4p with every limb but the top at least 2^29 - 1 (borrowed from the
/// limb above), so that `a - b + SUB_BIAS` has no negative limb.
const SUB_BIAS: Limbs = [
    0x3fff_fffc,
    0x2000_001e,
    0x1fff_ffff,
    0x3fff_f7ff,
    0x3fff_bffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x3fff_fffe,
    0x1fe,
];
/// R mod p.
const ONE_LIMBS: Limbs = [
    0x40_0000,
    0x1e00_0000,
    0x1fff_ffff,
    0x1fff_ffff,
    0x3,
    0x20,
    0x0,
    0x0,
    0x0,
    0x0,
    0x0,
    0x0,
    0x0,
    0x0,
];
/// R^2 mod p = 2^812 mod p: multiplying by it (Montgomery) enters the
/// Montgomery domain.
const R2_LIMBS: Limbs = [
    0x0,
    0x8000,
    0x1ff8_0000,
    0x1f_ffff,
    0x200_0000,
    0x0,
    0x0,
    0x1fff_fffc,
    0xf,
    0x100,
    0x400,
    0x0,
    0x0,
    0x0,
];

/// Field element, Montgomery form, any value below 2^385 (see above).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fe(pub(super) Limbs);

impl PartialEq for Fe {
    fn eq(&self, b: &Fe) -> bool {
        self.canonical() == b.canonical()
    }
}

impl Eq for Fe {}

impl Field for Fe {
    type Uint = U384;
    const P: U384 = P;
    const ZERO: Fe = Fe([0; 14]);
    const ONE: Fe = Fe(ONE_LIMBS);

    fn from_uint(a: &U384) -> Option<Fe> {
        a.less_than(&P)
            .then(|| Fe(limbs29::from_u32(a)).mul(&Fe(R2_LIMBS)))
    }

    fn is_zero(&self) -> bool {
        // Below 2^385 < 3p: zero mod p is 0, p or 2p.
        self.0 == [0; 14] || self.0 == P29 || self.0 == P29X2
    }

    #[inline]
    fn add(&self, b: &Fe) -> Fe {
        // Below 2^386, limbs below 2^30.
        normalize(limbs29::add(&self.0, &b.0))
    }

    #[inline]
    fn sub(&self, b: &Fe) -> Fe {
        // a - b + 4p: below 2^387, limbs in [0, 2^31).
        normalize(limbs29::sub_biased(&self.0, &b.0, &SUB_BIAS))
    }

    /// Limb by limb for k <= 8: below 2^388, limbs below 2^32.
    #[inline]
    fn mul_small(&self, k: u8) -> Fe {
        if k > 8 {
            return self.mul_small_by_adding(k);
        }
        normalize(limbs29::scale(&self.0, k))
    }

    #[inline]
    fn mul(&self, b: &Fe) -> Fe {
        product::mul(self, b)
    }

    #[inline]
    fn square(&self) -> Fe {
        product::square(self)
    }
}

impl Fe {
    /// The residue in [0, p), as limbs.
    fn canonical(&self) -> Limbs {
        // Below 2^385 < 3p: p subtracted at most twice.
        limbs29::reduce(self.0, &P29)
    }
}

/// Non-negative limbs (below 2^33, the top one below 2^11) of a value
/// below 2^389 into a loose element: the bits from 2^384 up are folded back
/// first (2^384 = 2^128 + 2^96 - 2^32 + 1 mod p, a positive amount), which
/// leaves below 2^384 + 2^381 for a single carry pass.
#[inline(always)]
fn normalize(mut t: [i64; 14]) -> Fe {
    let [t0, t1, _, t3, t4, .., t13] = &mut t;
    let top = *t13 >> 7;
    *t13 &= (1 << 7) - 1;
    *t0 += top;
    *t1 -= top << 3;
    *t3 += top << 9;
    *t4 += top << 12;
    carry(t)
}

/// Signed limbs of a value in [0, 2^385) into carried limbs.
#[inline(always)]
pub(super) fn carry(t: [i64; 14]) -> Fe {
    Fe(limbs29::carry(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose(f: &Fe) -> bool {
        f.0.iter().take(13).all(|&l| l < 1 << 29) && f.0[13] < 1 << 8
    }

    #[test]
    fn constants_are_p_and_its_multiples() {
        assert_eq!(limbs29::from_u32(&P), P29);
        assert!(Fe(P29).add(&Fe(P29)).is_zero());
        assert_eq!(Fe(P29X2).canonical(), [0; 14]);
        // SUB_BIAS is 4p, 2p + 2p carried, and its limbs cover any loose one.
        let four_p = Fe(P29X2).add(&Fe(P29X2));
        assert!(four_p.is_zero());
        let bias = Fe(SUB_BIAS).add(&Fe::ZERO);
        assert!(bias.is_zero());
        assert!(SUB_BIAS[..13].iter().all(|&l| l >= (1 << 29) - 1));
        assert!(SUB_BIAS[13] >= 1 << 8);
    }

    #[test]
    fn results_stay_below_2_385_at_the_extremes() {
        let mut max = [(1 << 29) - 1; 14];
        max[13] = (1 << 8) - 1;
        let near = [
            Fe(max),
            Fe(P29),
            Fe(P29X2),
            Fe::ZERO,
            Fe::ONE,
            Fe([1 << 7; 14]),
        ];
        for a in &near {
            assert!(loose(a));
            for b in &near {
                let small = [3, 4, 8].map(|k| a.mul_small(k));
                for r in [
                    a.mul(b),
                    a.add(b),
                    a.sub(b),
                    a.square(),
                    a.neg(),
                    a.double(),
                ]
                .into_iter()
                .chain(small)
                {
                    assert!(loose(&r), "{a:?} {b:?} -> {r:?}");
                }
                let (ca, cb) = (Fe(a.canonical()), Fe(b.canonical()));
                assert_eq!(a.mul(b), ca.mul(&cb));
                assert_eq!(a.sub(b), ca.sub(&cb));
                assert_eq!(a.add(b), ca.add(&cb));
                assert_eq!(a.square(), ca.mul(&ca));
            }
        }
    }
}
