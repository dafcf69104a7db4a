//! The radix-2^28 Montgomery product and square in two passes (separated
//! operand scanning): the plain product by columns, then the reduction by
//! rows, two products per lane step in both.
//!
//! The first pass sums each column of `a b` (of `a^2`: twice the terms with
//! `i < k - i` and `a_(k/2)^2`, half the products) with the quads of
//! `columns`, without carrying, so no column waits for another. The second
//! adds `m_i n` to the column sums, row by row: `m_i` needs only column `i`
//! and the carry from below, which the row before has just finished, so the
//! rows overlap. The sums are kept two columns to a [`Wide`]
//! (`T_h = (t_2h, t_2h+1)`); a row multiplies `m_i` by four limbs of `n` at
//! a time, shifted by one limb for odd rows so that they land on the pairs.
//!
//! Bounds (for `len <= MAX_LIMBS = 110`): column `k` receives at most `len`
//! products below 2^56 in the first pass (a square: twice at most `len / 2`,
//! plus one) and `len` in the second, and the carry from below (below 2^36)
//! is added to it on its own: below `220 * 2^56 + 2^36 < 2^64`.

use super::columns::{dot, pad, Phased, OFF, PAD};
use super::lanes::{Quad, Wide};

const BITS: u32 = 28;
const M: u64 = (1 << BITS) - 1;

/// Scratch and per-modulus quads for one modulus.
pub(super) struct Sos {
    /// `F_i` of `a`.
    a_up: Phased,
    /// `R_j` of `b` (of `a` for a square).
    b_down: Phased,
    /// Padded limbs, for filling the quads.
    buf: Vec<u32>,
    /// `n` by four limbs for even rows, `(n_4q, .., n_4q+3)`, and odd rows,
    /// `(n_4q-1, .., n_4q+2)` (zero outside `n`).
    n_rows: [Vec<Quad>; 2],
    /// Column sums, two to a lane pair.
    t: Vec<Wide>,
    /// `m_i` in every lane, once per quad of a row.
    m_splat: Vec<Quad>,
}

impl Sos {
    pub(super) fn new(n: &[u64]) -> Sos {
        let len = n.len();
        let a_up = Phased::new(len);
        let mut buf = vec![0; 4 * a_up.per() + PAD];
        pad(&mut buf, n);
        let quads = |from: usize, count: usize| -> Vec<Quad> {
            buf.get(from..)
                .unwrap_or(&[])
                .chunks_exact(4)
                .take(count)
                .map(|c| match c {
                    &[c0, c1, c2, c3] => Quad::new(c0, c1, c2, c3),
                    _ => Quad::new(0, 0, 0, 0),
                })
                .collect()
        };
        let n_rows = [quads(PAD, len.div_ceil(4)), quads(PAD - 1, len / 4 + 1)];
        Sos {
            a_up,
            b_down: Phased::new(len),
            buf,
            n_rows,
            t: vec![Wide::zero(); len + 4],
            m_splat: vec![Quad::new(0, 0, 0, 0); len / 4 + 1],
        }
    }

    /// `out = a * b / R mod n` (`a * a` when `b` is `None`), fully
    /// reduced, for normalized `a, b < n` (`R = 2^(28 len)`);
    /// `n0_inv = -n^-1 mod 2^28`.
    pub(super) fn mont_mul(
        &mut self,
        n: &[u64],
        n0_inv: u64,
        a: &[u64],
        b: Option<&[u64]>,
        out: &mut [u64],
    ) {
        let len = n.len();
        let Some(&n0) = n.first() else { return };
        pad(&mut self.buf, a);
        self.a_up.fill_up(&self.buf);
        if let Some(b) = b {
            pad(&mut self.buf, b);
        }
        self.b_down.fill_down(&self.buf);
        self.columns(a, b.is_none(), len);
        // Reduction, row by row; `carry` goes into the column above.
        let mut carry = 0u64;
        for i in 0..len {
            let h = i / 2;
            let Some(&t_h) = self.t.get(h) else { return };
            let (even, odd) = t_h.lanes();
            let v = if i % 2 == 0 { even } else { odd }.wrapping_add(carry);
            let m = ((v & M).wrapping_mul(n0_inv)) & M;
            carry = v.wrapping_add(m.wrapping_mul(n0)) >> BITS;
            let m = m as u32;
            // Read from memory in the loop: with a loop-invariant splat,
            // LLVM turns the multiplications into 64x64-bit ones, which
            // V8 expands into three multiplies each.
            self.m_splat.fill(Quad::new(m, m, m, m));
            let (Some(ns), Some(ts)) = (self.n_rows.get(i % 2), self.t.get_mut(h..)) else {
                return;
            };
            for ((pair, &nq), &mq) in ts.chunks_exact_mut(2).zip(ns).zip(&self.m_splat) {
                if let [t0, t1] = pair {
                    (*t0, *t1) = t0.mul_add2(*t1, nq, mq);
                }
            }
        }
        // Columns len.. are the result, once carried.
        let high = self
            .t
            .iter()
            .flat_map(|w| {
                let (x, y) = w.lanes();
                [x, y]
            })
            .skip(len);
        for (o, t) in out.iter_mut().zip(high) {
            let total = t.wrapping_add(carry);
            *o = total & M;
            carry = total >> BITS;
        }
        // A carry left means >= R.
        if carry != 0 || !super::lazy::less_than(out, n) {
            super::lazy::sub_in_place(out, n);
        }
    }

    /// Fills `t` with the column sums of `a b` (or `a^2`), uncarried.
    fn columns(&mut self, a: &[u64], square: bool, len: usize) {
        self.t.fill(Wide::zero());
        let mut even = 0u64;
        for k in 0..2 * len - 1 {
            let lo = k.saturating_sub(len - 1);
            let hi = k.min(len - 1);
            let sum = if square {
                // i from lo while i < k - i, aligned to end there.
                let end = k.div_ceil(2);
                let count = end.saturating_sub(lo).div_ceil(4);
                let from = end + OFF - 4 * count;
                let half = dot(&self.a_up, from, &self.b_down, k + 2 * OFF - from, count);
                let diag = if k % 2 == 0 {
                    a.get(k / 2).map_or(0, |&x| x * x)
                } else {
                    0
                };
                2 * half + diag
            } else {
                let count = (hi - lo) / 4 + 1;
                dot(&self.a_up, lo + OFF, &self.b_down, k - lo + OFF, count)
            };
            if k % 2 == 0 {
                even = sum;
                // The last column (2 len - 2) is even: stored without a pair.
                if k == 2 * len - 2 {
                    if let Some(t) = self.t.get_mut(k / 2) {
                        *t = Wide::new(even, 0);
                    }
                }
            } else if let Some(t) = self.t.get_mut(k / 2) {
                *t = Wide::new(even, sum);
            }
        }
    }
}
