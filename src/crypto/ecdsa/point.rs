//! Points on an a = -3 curve: affine (for precomputed tables) and Jacobian
//! (X/Z^2, Y/Z^3; Z = 0 is the point at infinity). Variable-time: special
//! cases are plain branches.

use super::Field;

/// A finite point with affine coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Affine<F> {
    pub(super) x: F,
    pub(super) y: F,
}

impl<F: Field> Affine<F> {
    /// `None` unless (x, y) is on the curve y^2 = x^3 - 3x + b.
    pub(super) fn new(x: F, y: F, b: &F) -> Option<Affine<F>> {
        let rhs = x.square().mul(&x).sub(&x.double().add(&x)).add(b);
        (y.square() == rhs).then_some(Affine { x, y })
    }

    pub(super) fn neg(&self) -> Affine<F> {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Jacobian<F> {
    pub(super) x: F,
    pub(super) y: F,
    pub(super) z: F,
}

impl<F: Field> From<&Affine<F>> for Jacobian<F> {
    fn from(p: &Affine<F>) -> Jacobian<F> {
        Jacobian {
            x: p.x,
            y: p.y,
            z: F::ONE,
        }
    }
}

impl<F: Field> Jacobian<F> {
    pub(super) const INFINITY: Jacobian<F> = Jacobian {
        x: F::ONE,
        y: F::ONE,
        z: F::ZERO,
    };

    pub(super) fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// 2P ("dbl-2001-b", 3M + 5S). Infinity stays infinity (Z3 = 2YZ);
    /// The curves here have prime order, so Y is never zero otherwise.
    #[inline]
    pub(super) fn double(&self) -> Jacobian<F> {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.mul_small(3);
        let beta4 = beta.mul_small(4);
        let x = alpha.square().sub(&beta.mul_small(8));
        let z = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma_sq8 = gamma.square().mul_small(8);
        let y = alpha.mul(&beta4.sub(&x)).sub(&gamma_sq8);
        Jacobian { x, y, z }
    }

    /// P + Q for affine Q ("madd-2004-hmv", 8M + 3S), with the cases the
    /// formula cannot do (P infinite, P = Q, P = -Q) handled apart.
    #[inline]
    pub(super) fn add_affine(&self, q: &Affine<F>) -> Jacobian<F> {
        if self.is_infinity() {
            return Jacobian::from(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y);
        if h.is_zero() {
            return if r.is_zero() {
                Jacobian::from(q).double()
            } else {
                Jacobian::INFINITY
            };
        }
        let hh = h.square();
        let hhh = h.mul(&hh);
        let v = self.x.mul(&hh);
        let x = r.square().sub(&hhh).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&self.y.mul(&hhh));
        let z = self.z.mul(&h);
        Jacobian { x, y, z }
    }
}

/// Affine forms of `points` with one field inversion (Montgomery's trick);
/// `None` if any is the point at infinity.
pub(super) fn batch_to_affine<F: Field>(points: &[Jacobian<F>]) -> Option<Vec<Affine<F>>> {
    // before[i] = z_0 * ... * z_(i-1)
    let mut before = Vec::with_capacity(points.len());
    let mut product = F::ONE;
    for p in points {
        if p.is_infinity() {
            return None;
        }
        before.push(product);
        product = product.mul(&p.z);
    }
    let mut inv = product.invert();
    let mut out = vec![
        Affine {
            x: F::ZERO,
            y: F::ZERO,
        };
        points.len()
    ];
    for ((p, o), b) in points.iter().zip(out.iter_mut()).zip(&before).rev() {
        // inv is 1 / (z_0 * ... * z_i) here.
        let z_inv = inv.mul(b);
        inv = inv.mul(&p.z);
        let z_inv2 = z_inv.square();
        *o = Affine {
            x: p.x.mul(&z_inv2),
            y: p.y.mul(&z_inv2).mul(&z_inv),
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::p256::Fe;
    use super::super::{Curve, P256};
    use super::*;

    fn g() -> Affine<Fe> {
        let coordinate = |v| Fe::from_uint(v).unwrap();
        Affine::new(coordinate(&P256::GX), coordinate(&P256::GY), &b()).unwrap()
    }

    fn b() -> Fe {
        Fe::from_uint(&P256::B).unwrap()
    }

    fn affine(p: &Jacobian<Fe>) -> Affine<Fe> {
        batch_to_affine(&[*p]).unwrap()[0]
    }

    #[test]
    fn generator_is_on_the_curve_and_a_nudge_is_not() {
        let g = g();
        assert!(Affine::new(g.x, g.y.add(&Fe::ONE), &b()).is_none());
        assert!(Affine::new(g.x, g.y.neg(), &b()).is_some());
    }

    #[test]
    fn doubling_agrees_with_adding_to_itself() {
        let g = g();
        let two = Jacobian::from(&g).double();
        let three = two.add_affine(&g);
        let two_a = affine(&two);
        let four_by_double = affine(&two.double());
        let four_by_add = affine(&three.add_affine(&g));
        assert_eq!(four_by_double, four_by_add);
        assert_eq!(affine(&Jacobian::from(&g).add_affine(&g)), two_a);
        assert!(Affine::new(two_a.x, two_a.y, &b()).is_some());
    }

    #[test]
    fn special_cases_of_mixed_addition() {
        let g = g();
        assert!(Jacobian::from(&g).add_affine(&g.neg()).is_infinity());
        assert_eq!(affine(&Jacobian::INFINITY.add_affine(&g)), g);
        assert!(Jacobian::<Fe>::INFINITY.double().is_infinity());
        // P + P where P has Z != 1.
        let two = Jacobian::from(&g).double();
        let two_a = affine(&two);
        assert_eq!(affine(&two.add_affine(&two_a)), affine(&two.double()));
        assert!(two.add_affine(&two_a.neg()).is_infinity());
    }

    #[test]
    fn batch_conversion_refuses_infinity() {
        let p = Jacobian::from(&g());
        assert!(batch_to_affine(&[p, Jacobian::INFINITY]).is_none());
        assert_eq!(batch_to_affine::<Fe>(&[]).unwrap(), vec![]);
    }
}
