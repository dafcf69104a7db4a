//! Plain 256-bit integers as eight little-endian 32-bit limbs, the one
//! representation the field and scalar code share.
//!
//! Limbs are 32 bits because wasm multiplies 32x32->64 natively, while a
//! 64x64->128 product is a library call.

pub(super) type U256 = [u32; 8];

pub(super) const MASK: u64 = 0xffff_ffff;

/// Reads 32 big-endian bytes.
pub(super) fn from_be_bytes(bytes: &[u8; 32]) -> U256 {
    let mut out = [0u32; 8];
    for (limb, chunk) in out.iter_mut().rev().zip(bytes.chunks_exact(4)) {
        if let Ok(word) = <[u8; 4]>::try_from(chunk) {
            *limb = u32::from_be_bytes(word);
        }
    }
    out
}

/// Writes 32 big-endian bytes.
#[cfg(test)]
pub(super) fn to_be_bytes(a: &U256) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(4).zip(a.iter().rev()) {
        chunk.copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// `a + b` and the carry out.
#[inline(always)]
pub(super) fn add(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u32; 8];
    let mut carry = 0u64;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let v = u64::from(x) + u64::from(y) + carry;
        *o = v as u32;
        carry = v >> 32;
    }
    (out, carry != 0)
}

/// `a - b` and the borrow out (set when `a < b`).
#[inline(always)]
pub(super) fn sub(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u32; 8];
    let mut borrow = 0u64;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let v = u64::from(x).wrapping_sub(u64::from(y)).wrapping_sub(borrow);
        *o = v as u32;
        borrow = v >> 63;
    }
    (out, borrow != 0)
}

pub(super) fn is_zero(a: &U256) -> bool {
    a.iter().all(|&l| l == 0)
}

/// `a < b`.
pub(super) fn lt(a: &U256, b: &U256) -> bool {
    sub(a, b).1
}

/// `a >> 1` with `top` shifted into bit 255.
pub(super) fn shr1(a: &U256, top: bool) -> U256 {
    let mut out = [0u32; 8];
    let mut carry = u32::from(top);
    for (o, &x) in out.iter_mut().zip(a).rev() {
        *o = (x >> 1) | (carry << 31);
        carry = x & 1;
    }
    out
}

/// Bit `i` (0 = least significant); bits past 255 read as 0.
pub(super) fn bit(a: &U256, i: usize) -> u32 {
    a.get(i / 32).map_or(0, |l| (l >> (i % 32)) & 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_big_endian() {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let limbs = from_be_bytes(&bytes);
        assert_eq!(limbs[0], 0x1c1d_1e1f);
        assert_eq!(limbs[7], 0x0001_0203);
        assert_eq!(to_be_bytes(&limbs), bytes);
    }

    #[test]
    fn add_and_sub_carry_and_borrow() {
        let max = [u32::MAX; 8];
        let one = [1, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(add(&max, &one), ([0; 8], true));
        assert_eq!(sub(&[0; 8], &one), (max, true));
        assert_eq!(sub(&max, &one).0[0], u32::MAX - 1);
        assert!(lt(&one, &max) && !lt(&max, &one) && !lt(&one, &one));
    }

    #[test]
    fn shift_and_bits() {
        let a = [1, 1, 0, 0, 0, 0, 0, 0x8000_0000];
        assert_eq!(shr1(&a, true), [0x8000_0000, 0, 0, 0, 0, 0, 0, 0xc000_0000]);
        assert_eq!(
            (bit(&a, 0), bit(&a, 32), bit(&a, 255), bit(&a, 256)),
            (1, 1, 1, 0)
        );
    }
}
