//! The public-key operation in radix 2^28 with lazy carries, for moduli up
//! to [`MAX_LIMBS`] limbs (3,080 bits: every common RSA key).
//!
//! With 32-bit limbs each step of a Montgomery product waits for the carry
//! of the step before, and V8 spends its time on that chain. With 28-bit
//! limbs in 64-bit words, a product is below 2^56 and a word can take many
//! of them before it overflows, so a row adds `a_j b_i + m n_j` into each
//! word with no carry at all; carries move once per row. More products
//! (74 limbs instead of 64 for 2048 bits), but independent ones.
//! Variable time is fine: every input of a verification is public.

#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
use super::columns;
use super::RsaKey;

const BITS: u32 = 28;
const M: u64 = (1 << BITS) - 1;

/// Bound for the accumulators: word `k` of a product receives at most
/// `MAX_LIMBS` rows of two products below 2^56 (< 2^63.8), plus a carry
/// below 2^37: it stays below 2^64.
pub(super) const MAX_LIMBS: usize = 110;

/// The Montgomery parameters of one modulus in radix 2^28.
#[derive(Clone)]
pub(super) struct Lazy {
    /// Modulus, little-endian 28-bit limbs (one per u64).
    n: Box<[u64]>,
    /// `-n^-1 mod 2^28`.
    n0_inv: u64,
    /// `R^2 mod n` with `R = 2^(28 * n.len())`.
    rr: Box<[u64]>,
}

/// Little-endian 32-bit limbs to `len` 28-bit limbs (value must fit).
fn to_28(x: &[u32], len: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(len + 2);
    let (mut buf, mut have) = (0u64, 0u32);
    for &w in x {
        buf |= u64::from(w) << have;
        have += 32;
        while have >= BITS {
            out.push(buf & M);
            buf >>= BITS;
            have -= BITS;
        }
    }
    out.push(buf);
    out.resize(len, 0);
    out
}

/// 28-bit limbs to `len` little-endian 32-bit limbs (value must fit).
fn to_32(x: &[u64], len: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(len + 2);
    let (mut buf, mut have) = (0u64, 0u32);
    for &w in x {
        buf |= w << have;
        have += BITS;
        while have >= 32 {
            out.push(buf as u32);
            buf >>= 32;
            have -= 32;
        }
    }
    out.push(buf as u32);
    out.resize(len, 0);
    out
}

/// `a < b` for equal-length normalized limb slices.
pub(super) fn less_than(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b` modulo `2^(28 len)`, normalized.
pub(super) fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = 0u64;
    for (x, &y) in a.iter_mut().zip(b) {
        let d = x.wrapping_sub(y).wrapping_sub(borrow);
        *x = d & M;
        borrow = d >> 63;
    }
}

/// Adds word `k`'s value above 2^28 to word `k + 1` (word `k` is a multiple
/// of 2^28 here, so nothing is lost).
fn carry_up(words: &mut [u64], k: usize) {
    let carry = words.get(k).map_or(0, |w| w >> BITS);
    if let Some(w) = words.get_mut(k + 1) {
        *w = w.wrapping_add(carry);
    }
}

impl Lazy {
    /// For `key` (32-bit limbs), if its modulus is short enough.
    pub(super) fn new(key: &RsaKey) -> Option<Lazy> {
        let len = (key.bits as u32).div_ceil(BITS) as usize;
        if len > MAX_LIMBS {
            return None;
        }
        let n = to_28(&key.n, len).into_boxed_slice();
        let n0 = *n.first()?;
        // Newton iteration for n^-1 mod 2^28 (n odd), then negate.
        let mut inv = n0;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n0.wrapping_mul(inv))) & M;
        }
        let n0_inv = inv.wrapping_neg() & M;
        // R^2 mod n with R = 2^l: double from 2^(bits - 1) to
        // 2^(l + l / 2^j) mod n, the Montgomery form of 2^(l / 2^j), then
        // square that j times in Montgomery form: 2^l R = R^2. A doubling
        // costs about a hundredth of a product: j is the cheapest split.
        // (Doubling all the way to 2^(2l) took some 2,000 passes over the
        // modulus for 2048 bits: more than the key's every later use.)
        let l = BITS as usize * len;
        let j = (0..=l.trailing_zeros() as usize)
            .min_by_key(|&j| (l >> j) + 100 * j)
            .unwrap_or(0);
        let top = key.bits.saturating_sub(1);
        let mut x = vec![0u32; key.n.len()];
        if let Some(limb) = x.get_mut(top / 32) {
            *limb = 1 << (top % 32);
        }
        for _ in top..l + (l >> j) {
            key.double_mod(&mut x);
        }
        let mut lazy = Lazy {
            n,
            n0_inv,
            rr: Box::default(),
        };
        let mut r2 = to_28(&x, len);
        let mut acc = vec![0u64; 2 * len + 1];
        let mut tmp = vec![0u64; len];
        for _ in 0..j {
            lazy.mont_mul(&r2, &r2, &mut acc, &mut tmp);
            std::mem::swap(&mut r2, &mut tmp);
        }
        lazy.rr = r2.into_boxed_slice();
        Some(lazy)
    }

    /// `out = a * b / R mod n`, fully reduced, for normalized `a, b < n`;
    /// `acc` is scratch of `2 len + 1` words. (Measured in V8: unrolling the
    /// row loop, or taking two rows per pass, gains nothing.)
    fn mont_mul(&self, a: &[u64], b: &[u64], acc: &mut [u64], out: &mut [u64]) {
        let len = self.n.len();
        acc.fill(0);
        let Some(&a0) = a.first() else { return };
        for (i, &bi) in b.iter().enumerate() {
            let Some(row) = acc.get_mut(i..) else { return };
            let Some(&t0) = row.first() else { return };
            let m = ((t0.wrapping_add(a0.wrapping_mul(bi)) & M).wrapping_mul(self.n0_inv)) & M;
            for (w, (&aj, &nj)) in row.iter_mut().zip(a.iter().zip(self.n.iter())) {
                *w = w
                    .wrapping_add(aj.wrapping_mul(bi))
                    .wrapping_add(m.wrapping_mul(nj));
            }
            // Word i is now a multiple of 2^28: move it up.
            carry_up(row, 0);
        }
        // Normalize words len.. into `out`; a carry left means >= R.
        let mut carry = 0u64;
        for (o, &w) in out.iter_mut().zip(acc.iter().skip(len)) {
            let t = w.wrapping_add(carry);
            *o = t & M;
            carry = t >> BITS;
        }
        if carry != 0 || !less_than(out, &self.n) {
            sub_in_place(out, &self.n);
        }
    }

    /// `s^e mod n` for `s < n`, 32-bit limbs in and `out_len` of them out.
    /// With simd128 the products go by columns on two lanes (`columns`:
    /// a 2048-bit verification 1.6x faster in V8); otherwise by rows (the
    /// column kernel on emulated lanes is 1.3x slower than rows there).
    pub(super) fn pow(&self, s: &[u32], e: u64, out_len: usize) -> Vec<u32> {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            self.pow_columns(s, e, out_len)
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            self.pow_rows(s, e, out_len)
        }
    }

    /// [`Lazy::pow`] with [`Lazy::mont_mul`].
    #[cfg_attr(
        all(target_arch = "wasm32", target_feature = "simd128"),
        allow(dead_code)
    )]
    pub(super) fn pow_rows(&self, s: &[u32], e: u64, out_len: usize) -> Vec<u32> {
        let mut acc = vec![0u64; 2 * self.n.len() + 1];
        self.pow_with(s, e, out_len, |a, b, out| {
            self.mont_mul(a, b.unwrap_or(a), &mut acc, out)
        })
    }

    /// [`Lazy::pow`] with [`columns::mont_mul`].
    #[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
    pub(super) fn pow_columns(&self, s: &[u32], e: u64, out_len: usize) -> Vec<u32> {
        let mut scratch = columns::Scratch::new(self.n.len());
        self.pow_with(s, e, out_len, |a, b, out| {
            columns::mont_mul(&self.n, self.n0_inv, a, b.unwrap_or(a), &mut scratch, out)
        })
    }

    /// Left-to-right square-and-multiply over the bits of `e` (odd, > 1)
    /// with the Montgomery product `mul(a, b, out)` (`b` is `None` for
    /// `a^2`).
    fn pow_with(
        &self,
        s: &[u32],
        e: u64,
        out_len: usize,
        mut mul: impl FnMut(&[u64], Option<&[u64]>, &mut [u64]),
    ) -> Vec<u32> {
        let len = self.n.len();
        let s = to_28(s, len);
        let mut tmp = vec![0u64; len];
        let mut base = vec![0u64; len];
        mul(&s, Some(&self.rr), &mut base);
        let mut x = base.clone();
        let top_bit = 63 - e.leading_zeros();
        for i in (0..top_bit).rev() {
            mul(&x, None, &mut tmp);
            std::mem::swap(&mut x, &mut tmp);
            // e is odd: the last multiplication is by s itself, which also
            // leaves the Montgomery domain (x * s / R = s^e).
            let factor = if i == 0 {
                &s
            } else if (e >> i) & 1 == 1 {
                &base
            } else {
                continue;
            };
            mul(&x, Some(factor), &mut tmp);
            std::mem::swap(&mut x, &mut tmp);
        }
        to_32(&x, out_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both arithmetics agree where the accumulators run fullest: all-ones
    /// moduli (every limb at its maximum) at the largest lazy size, and
    /// inputs at n - 1; and moduli just past the bound fall back.
    #[test]
    fn lazy_and_32_bit_arithmetic_agree_at_the_bounds() {
        for bits in [34usize, 57, 2048, 3079, 3080] {
            let mut n = vec![0xffu8; bits.div_ceil(8)];
            if bits % 8 != 0 {
                n[0] = (1u8 << (bits % 8)) - 1;
            }
            let mut key = RsaKey::new(&n, &[1, 0, 1]).unwrap();
            assert_eq!(key.bits, bits);
            // The 32-bit arithmetic's own constant, for the comparison.
            key.rr = key.compute_rr();
            let lazy = key.lazy.as_ref().expect("short enough for radix 2^28");
            let mut inputs = vec![key.n.to_vec()];
            inputs[0][0] -= 1; // n - 1
            inputs.push(vec![0x5555_5555; key.n.len()]);
            inputs.push({
                let mut one = vec![0u32; key.n.len()];
                one[0] = 1;
                one
            });
            for s in inputs {
                let s: Vec<u32> = s.iter().zip(key.n.iter()).map(|(x, n)| x & n).collect();
                let want = key.pow_e_32(&s);
                let len = key.n.len();
                assert_eq!(lazy.pow_rows(&s, key.e, len), want, "rows, bits {bits}");
                assert_eq!(
                    lazy.pow_columns(&s, key.e, len),
                    want,
                    "columns, bits {bits}"
                );
            }
        }
        let past = vec![0xffu8; 3081usize.div_ceil(8)];
        let mut past = past;
        past[0] = 1;
        assert!(RsaKey::new(&past, &[1, 0, 1]).unwrap().lazy.is_none());
    }

    /// Single products of the two kernels agree where the column sums run
    /// fullest: every limb of `n`, `a` and `b` at its maximum (all-ones
    /// moduli, `a = b = n - 1`) at sizes up to the largest one accepted
    /// (`MAX_LIMBS` limbs), squares and products of unequal operands alike.
    #[test]
    fn column_and_row_products_agree_at_the_bounds() {
        for bits in [34usize, 56, 57, 2048, 3052, 3080] {
            let mut n = vec![0xffu8; bits.div_ceil(8)];
            if bits % 8 != 0 {
                n[0] = (1u8 << (bits % 8)) - 1;
            }
            let key = RsaKey::new(&n, &[1, 0, 1]).unwrap();
            let lazy = key.lazy.as_ref().expect("short enough for radix 2^28");
            let len = lazy.n.len();
            let mut n_minus_1 = lazy.n.to_vec();
            n_minus_1[0] -= 1;
            let half: Vec<u64> = lazy.n.iter().map(|l| l >> 1).collect();
            let mut acc = vec![0u64; 2 * len + 1];
            let mut scratch = columns::Scratch::new(len);
            for (a, b) in [
                (&n_minus_1, &n_minus_1),
                (&n_minus_1, &half),
                (&half, &lazy.rr.to_vec()),
            ] {
                let (mut rows, mut cols) = (vec![0u64; len], vec![0u64; len]);
                lazy.mont_mul(a, b, &mut acc, &mut rows);
                columns::mont_mul(&lazy.n, lazy.n0_inv, a, b, &mut scratch, &mut cols);
                assert_eq!(cols, rows, "bits {bits}");
            }
        }
        assert_eq!((3080u32.div_ceil(BITS)) as usize, MAX_LIMBS);
    }
}
