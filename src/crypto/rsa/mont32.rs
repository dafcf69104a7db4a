//! The public-key operation on 32-bit limbs with 64-bit products (what
//! wasm32 multiplies natively), for moduli of any size, and the limb helpers
//! both arithmetics share. Keys up to 3,080 bits use `lazy` instead.

use super::{RsaKey, MASK};

impl RsaKey {
    /// `pow_e` on 32-bit limbs, for any modulus size.
    pub(super) fn pow_e_32(&self, s: &[u32]) -> Vec<u32> {
        let len = self.n.len();
        let mut tmp = vec![0u32; len];
        // base = s * R mod n (Montgomery form of s).
        let mut base = vec![0u32; len];
        self.mont_mul(s, &self.rr, &mut base);
        let mut acc = base.clone();
        let top_bit = 63 - self.e.leading_zeros();
        for i in (0..top_bit).rev() {
            self.mont_mul(&acc, &acc, &mut tmp);
            std::mem::swap(&mut acc, &mut tmp);
            if i == 0 {
                // e is odd: the last multiplication is by s itself, which
                // also leaves the Montgomery domain (acc * s / R = s^e).
                self.mont_mul(&acc, s, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            } else if (self.e >> i) & 1 == 1 {
                self.mont_mul(&acc, &base, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            }
        }
        acc
    }

    /// `out = a * b / R mod n`, fully reduced, for `a < n` and `b < R`
    /// (coarsely integrated operand scanning). All slices have `n`'s length.
    ///
    /// Bounds: every partial result `t` stays below `2n` (`t + a*b_i + m*n`
    /// over `2^32` is below `(2n + 2(2^32-1)n) / 2^32 = 2n`), so its top word
    /// is 0 or 1, and each `x + y*z + c` with 32-bit `x, y, z, c` is at most
    /// `2^64 - 1`: no 64-bit operation below overflows.
    pub(super) fn mont_mul(&self, a: &[u32], b: &[u32], out: &mut [u32]) {
        out.fill(0);
        let (Some((&a0, a_rest)), Some((&n0, n_rest))) = (a.split_first(), self.n.split_first())
        else {
            return;
        };
        let a0 = u64::from(a0);
        let n0 = u64::from(n0);
        let mut top: u64 = 0;
        for &bi in b {
            let bi = u64::from(bi);
            let Some((t0, t_rest)) = out.split_first_mut() else {
                return;
            };
            let p = u64::from(*t0).wrapping_add(a0.wrapping_mul(bi));
            let m = u64::from((p as u32).wrapping_mul(self.n0_inv));
            let mut c1 = p >> 32;
            // The low word is zero by the choice of m.
            let mut c2 = m.wrapping_mul(n0).wrapping_add(p & MASK) >> 32;
            let mut prev = t0;
            for ((tj, &aj), &nj) in t_rest.iter_mut().zip(a_rest).zip(n_rest) {
                let p = u64::from(*tj)
                    .wrapping_add(u64::from(aj).wrapping_mul(bi))
                    .wrapping_add(c1);
                c1 = p >> 32;
                let q = u64::from(nj)
                    .wrapping_mul(m)
                    .wrapping_add(p & MASK)
                    .wrapping_add(c2);
                c2 = q >> 32;
                *prev = q as u32;
                prev = tj;
            }
            let p = top.wrapping_add(c1).wrapping_add(c2);
            *prev = p as u32;
            top = p >> 32;
        }
        if top != 0 || !less_than(out, &self.n) {
            sub_in_place(out, &self.n);
        }
    }

    /// `R^2 mod n`: `R mod n` by doubling from the top bit of `n`, then the
    /// Montgomery form of `2^(32 len)` (which is `R^2 mod n`) by raising the
    /// Montgomery form of 2 to that power.
    pub(super) fn compute_rr(&self) -> Box<[u32]> {
        let len = self.n.len();
        let r_bits = 32 * len;
        // x = 2^(bits - 1) < n (n is odd, so not a power of two).
        let mut x = vec![0u32; len];
        let top = self.bits.saturating_sub(1);
        if let Some(limb) = x.get_mut(top / 32) {
            *limb = 1 << (top % 32);
        }
        // Double up to 2^(r_bits + 1) mod n: the Montgomery form of 2.
        for _ in top..=r_bits {
            self.double_mod(&mut x);
        }
        let two = x.clone();
        let mut tmp = vec![0u32; len];
        let exp = r_bits as u64;
        let top_bit = 63 - exp.leading_zeros();
        for i in (0..top_bit).rev() {
            self.mont_mul(&x, &x, &mut tmp);
            std::mem::swap(&mut x, &mut tmp);
            if (exp >> i) & 1 == 1 {
                self.mont_mul(&x, &two, &mut tmp);
                std::mem::swap(&mut x, &mut tmp);
            }
        }
        x.into_boxed_slice()
    }

    /// `x = 2x mod n` for `x < n`.
    pub(super) fn double_mod(&self, x: &mut [u32]) {
        let mut carry = 0u32;
        for limb in x.iter_mut() {
            let next = *limb >> 31;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 || !less_than(x, &self.n) {
            sub_in_place(x, &self.n);
        }
    }
}

/// `a < b` for equal-length limb slices.
pub(super) fn less_than(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b` modulo `2^(32 len)`.
pub(super) fn sub_in_place(a: &mut [u32], b: &[u32]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(u32::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
}

/// `-n^-1 mod 2^32` for odd `n` (Newton iteration: each step doubles the
/// number of correct low bits, starting from 3 since `n * n = 1 mod 8`).
pub(super) fn neg_inv_u32(n: u32) -> u32 {
    let mut inv = n;
    for _ in 0..4 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(n.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}
