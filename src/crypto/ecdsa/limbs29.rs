//! The limb-wise steps the P-256 and P-384 fields share (29-bit limbs in
//! u32s, loosely reduced): each gives the unnormalized i64 limbs its
//! field's `normalize` carries. The bounds are argued at each field's use.

/// `a + b`, limb by limb.
#[inline(always)]
pub(super) fn add<const N: usize>(a: &[u32; N], b: &[u32; N]) -> [i64; N] {
    std::array::from_fn(|i| {
        let x = a.get(i).copied().unwrap_or(0);
        i64::from(x) + i64::from(b.get(i).copied().unwrap_or(0))
    })
}

/// `a - b + bias`, limb by limb; `bias` is a multiple of p whose limbs are
/// at least any operand's, so no limb goes negative.
#[inline(always)]
pub(super) fn sub_biased<const N: usize>(a: &[u32; N], b: &[u32; N], bias: &[u32; N]) -> [i64; N] {
    std::array::from_fn(|i| {
        let x = i64::from(a.get(i).copied().unwrap_or(0));
        let y = i64::from(b.get(i).copied().unwrap_or(0));
        x - y + i64::from(bias.get(i).copied().unwrap_or(0))
    })
}

/// `k * a`, limb by limb (`k` at most 8: the point formulas' 3, 4, 8).
#[inline(always)]
pub(super) fn scale<const N: usize>(a: &[u32; N], k: u8) -> [i64; N] {
    a.map(|x| i64::from(x) * i64::from(k))
}
