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

/// A limb's bits.
pub(super) const MASK: i64 = (1 << 29) - 1;

/// Signed limbs into carried 29-bit ones (the last limb's carry dropped:
/// each field calls it only for values its top limb holds).
#[inline(always)]
pub(super) fn carry<const N: usize>(t: [i64; N]) -> [u32; N] {
    let mut c = 0i64;
    t.map(|x| {
        let v = x + c;
        c = v >> 29;
        (v & MASK) as u32
    })
}

/// `a < b` for carried 29-bit limbs.
pub(super) fn less_than<const N: usize>(a: &[u32; N], b: &[u32; N]) -> bool {
    for (x, y) in a.iter().zip(b).rev() {
        if x != y {
            return x < y;
        }
    }
    false
}

/// 32-bit limbs to 29-bit ones (as many as fit in `N`).
pub(super) fn from_u32<const M: usize, const N: usize>(a: &[u32; M]) -> [u32; N] {
    let (mut acc, mut bits) = (0u64, 0u32);
    let mut limbs = a.iter();
    std::array::from_fn(|_| {
        if bits < 29 {
            acc |= u64::from(limbs.next().copied().unwrap_or(0)) << bits;
            bits += 32;
        }
        let out = (acc & MASK as u64) as u32;
        acc >>= 29;
        bits = bits.saturating_sub(29);
        out
    })
}

/// `v mod p` for carried limbs of a value below a few times p (`p` as
/// carried limbs too): p subtracted while `v` is not below it.
pub(super) fn reduce<const N: usize>(mut v: [u32; N], p: &[u32; N]) -> [u32; N] {
    while !less_than(&v, p) {
        let mut borrow = 0i32;
        for (x, &m) in v.iter_mut().zip(p) {
            let d = *x as i32 - m as i32 + borrow;
            *x = (d & MASK as i32) as u32;
            borrow = d >> 29;
        }
    }
    v
}
