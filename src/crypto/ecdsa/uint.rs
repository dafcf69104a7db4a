//! Plain unsigned integers as little-endian 32-bit limbs (`[u32; L]`): the
//! curves' constants, scalars, and field elements on their way in.
//!
//! Limbs are 32 bits because wasm multiplies 32x32->64 natively, while a
//! 64x64->128 product is a library call. The length is a const generic, so
//! every loop has a fixed trip count that LLVM unrolls.

use std::fmt::Debug;

pub(super) const MASK: u64 = 0xffff_ffff;

/// What the generic code needs of an integer type.
pub(crate) trait Uint: Copy + Eq + Debug + 'static {
    const ZERO: Self;
    const ONE: Self;
    /// Width in bits (32 per limb).
    const BITS: usize;
    /// Width in bytes, the size of a coordinate or scalar encoding.
    const BYTES: usize;

    fn limbs(&self) -> &[u32];
    /// The integer whose limb `i` is `f(i)`.
    fn from_fn(f: impl FnMut(usize) -> u32) -> Self;
    /// Reads exactly `BYTES` big-endian bytes.
    fn from_be_bytes(bytes: &[u8]) -> Option<Self>;
    /// `self + b` and the carry out.
    fn add(&self, b: &Self) -> (Self, bool);
    /// `self - b` and the borrow out (set when `self < b`).
    fn sub(&self, b: &Self) -> (Self, bool);
    /// `self >> 1` with `top` shifted into the top bit.
    #[cfg(test)]
    fn shr1(&self, top: bool) -> Self;

    fn is_zero(&self) -> bool {
        self.limbs().iter().all(|&l| l == 0)
    }

    fn less_than(&self, b: &Self) -> bool {
        self.sub(b).1
    }

    /// `self - b mod m`, for `self, b < m` (the tests' reference inverse).
    #[cfg(test)]
    fn sub_mod(&self, b: &Self, m: &Self) -> Self {
        let (diff, borrow) = self.sub(b);
        if borrow {
            diff.add(m).0
        } else {
            diff
        }
    }

    /// Bit `i` (0 = least significant); bits past the top read as 0.
    fn bit(&self, i: usize) -> u32 {
        self.limbs().get(i / 32).map_or(0, |l| (l >> (i % 32)) & 1)
    }
}

impl<const L: usize> Uint for [u32; L] {
    const ZERO: Self = [0; L];
    const ONE: Self = {
        let mut one = [0; L];
        if let Some(low) = one.first_mut() {
            *low = 1;
        }
        one
    };
    const BITS: usize = 32 * L;
    const BYTES: usize = 4 * L;

    fn limbs(&self) -> &[u32] {
        self
    }

    fn from_fn(f: impl FnMut(usize) -> u32) -> Self {
        std::array::from_fn(f)
    }

    fn from_be_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 4 * L {
            return None;
        }
        let mut out = [0u32; L];
        for (limb, chunk) in out.iter_mut().rev().zip(bytes.chunks_exact(4)) {
            *limb = u32::from_be_bytes(chunk.try_into().ok()?);
        }
        Some(out)
    }

    #[inline(always)]
    fn add(&self, b: &Self) -> (Self, bool) {
        let mut out = [0u32; L];
        let mut carry = 0u64;
        for ((o, &x), &y) in out.iter_mut().zip(self).zip(b) {
            let v = u64::from(x) + u64::from(y) + carry;
            *o = v as u32;
            carry = v >> 32;
        }
        (out, carry != 0)
    }

    #[inline(always)]
    fn sub(&self, b: &Self) -> (Self, bool) {
        let mut out = [0u32; L];
        let mut borrow = 0u64;
        for ((o, &x), &y) in out.iter_mut().zip(self).zip(b) {
            let v = u64::from(x).wrapping_sub(u64::from(y)).wrapping_sub(borrow);
            *o = v as u32;
            borrow = v >> 63;
        }
        (out, borrow != 0)
    }

    #[cfg(test)]
    fn shr1(&self, top: bool) -> Self {
        let mut out = [0u32; L];
        let mut carry = u32::from(top);
        for (o, &x) in out.iter_mut().zip(self).rev() {
            *o = (x >> 1) | (carry << 31);
            carry = x & 1;
        }
        out
    }
}

/// Big-endian bytes of `a` (tests and key checks).
#[cfg(test)]
pub(super) fn to_be_bytes<U: Uint>(a: &U) -> Vec<u8> {
    a.limbs()
        .iter()
        .rev()
        .flat_map(|l| l.to_be_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_big_endian() {
        let bytes: Vec<u8> = (0..32).collect();
        let limbs = <[u32; 8]>::from_be_bytes(&bytes).unwrap();
        assert_eq!(limbs[0], 0x1c1d_1e1f);
        assert_eq!(limbs[7], 0x0001_0203);
        assert_eq!(to_be_bytes(&limbs), bytes);
        assert_eq!(<[u32; 8]>::from_be_bytes(&bytes[1..]), None);
        assert_eq!(<[u32; 12]>::from_be_bytes(&bytes), None);
    }

    #[test]
    fn add_and_sub_carry_and_borrow() {
        let max = [u32::MAX; 8];
        let one = <[u32; 8]>::ONE;
        assert_eq!(max.add(&one), ([0; 8], true));
        assert_eq!([0; 8].sub(&one), (max, true));
        assert_eq!(max.sub(&one).0[0], u32::MAX - 1);
        assert!(one.less_than(&max) && !max.less_than(&one) && !one.less_than(&one));
        assert_eq!(<[u32; 12]>::ONE, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn shift_and_bits() {
        let a = [1, 1, 0, 0, 0, 0, 0, 0x8000_0000];
        assert_eq!(a.shr1(true), [0x8000_0000, 0, 0, 0, 0, 0, 0, 0xc000_0000]);
        assert_eq!((a.bit(0), a.bit(32), a.bit(255), a.bit(256)), (1, 1, 1, 0));
        assert!([0u32; 12].is_zero() && !a.is_zero());
    }
}
