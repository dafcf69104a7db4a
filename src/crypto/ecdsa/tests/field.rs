//! The field arithmetic of both curves against a double-and-add reference
//! built on `add` alone.

use super::super::p256::Fe as Fe256;
use super::super::p384::Fe as Fe384;
use super::*;

/// `a * k` for a plain integer `k`, by doubling and adding.
fn slow_mul<F: Field>(a: &F, k: &F::Uint) -> F {
    let mut acc = F::ZERO;
    for i in (0..F::Uint::BITS).rev() {
        acc = acc.double();
        if k.bit(i) == 1 {
            acc = acc.add(a);
        }
    }
    acc
}

fn samples<F: Field>() -> Vec<F::Uint> {
    let one = F::Uint::ONE;
    let mut out = vec![
        F::Uint::ZERO,
        one,
        one.add(&one).0,
        F::P.sub(&one).0,
        F::P.sub(&one.add(&one).0).0,
        F::P.shr1(false),
        F::Uint::from_fn(|i| if i < 4 { u32::MAX } else { 0 }),
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    while out.len() < 40 {
        let v = F::Uint::from_fn(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u32
        });
        if v.less_than(&F::P) {
            out.push(v);
        }
    }
    out
}

fn check_field<F: Field>() {
    let one = F::Uint::ONE;
    assert_eq!(F::from_uint(&one), Some(F::ONE));
    assert_eq!(F::from_uint(&F::P), None);
    assert_eq!(F::from_uint(&F::Uint::ZERO.sub(&one).0), None);
    assert!(F::from_uint(&F::P.sub(&one).0).is_some());
    let xs = samples::<F>();
    for a in &xs {
        let fa = F::from_uint(a).unwrap();
        // from_uint(x) is x c for some scale c and mul divides by some K;
        // mul(a c, b c) = a b c says c = K, so mul is the product of the
        // integers (and ONE = from_uint(1) above checks the constant).
        assert_eq!(fa.square(), slow_mul(&fa, a));
        for b in &xs {
            let fb = F::from_uint(b).unwrap();
            assert_eq!(fa.mul(&fb), slow_mul(&fa, b));
        }
        assert_eq!(fa.add(&fa.neg()), F::ZERO);
        assert_eq!(fa.sub(&fa), F::ZERO);
        assert_eq!(fa.double().sub(&fa), fa);
        for k in [0u8, 1, 3, 4, 5, 8, 9, 22] {
            let by_adding = (0..k).fold(F::ZERO, |acc, _| acc.add(&fa));
            assert_eq!(fa.mul_small(k), by_adding, "{k}");
        }
        assert_eq!(fa.is_zero(), a.is_zero());
        if !fa.is_zero() {
            assert_eq!(fa.mul(&fa.invert()), F::ONE);
        }
    }
    assert_eq!(F::ZERO.invert(), F::ZERO);
}

#[test]
fn p256_field_arithmetic() {
    check_field::<Fe256>();
}

#[test]
fn p384_field_arithmetic() {
    check_field::<Fe384>();
}
