//! The radix-2^28 Montgomery product and square by columns (product
//! scanning), four products per lane step.
//!
//! Column `k` of `a b + m n` is `sum a_i b_(k-i) + sum n_i m_(k-i)`. Both
//! sums are taken four terms at a time: a [`Quad`] of four consecutive limbs
//! going up (`F_i = (u_i, u_i+1, u_i+2, u_i+3)`) times one going down
//! (`R_j = (v_j, v_j-1, v_j-2, v_j-3)`) gives four terms of column `i + j`.
//! A column steps `i` by 4, so the quads are stored by `i mod 4`
//! ([`Phased`]) and every run is contiguous. A square sums only the terms
//! with `i < k - i`, doubles them and adds `a_(k/2)^2`: half the products of
//! `a b`. `m_k` is only known once column `k` is summed (without the
//! `n_0 m_k` term, which is then added); `R_k` of `m` is written then.
//!
//! A run may start or end up to three terms outside its range: those terms
//! meet zero limbs (indices below 0 or from `len` up), so they add nothing.
//!
//! Bounds (for `len <= MAX_LIMBS = 110`): a column adds at most `len`
//! products below 2^56 for `a b` (a square: twice at most `len / 2` of
//! them, plus one), `len` for `m n` and the carry from the column before
//! (below 2^36): below `220 * 2^56 + 2^36 < 2^64`.

use super::lanes::{Quad, Wide};

const BITS: u32 = 28;
const M: u64 = (1 << BITS) - 1;

/// Stored index of limb index `i` (runs reach down to `i = -3`).
pub(super) const OFF: usize = 4;

/// Quads for indices `-OFF..len + 4`, by index mod 4.
pub(super) struct Phased([Vec<Quad>; 4]);

impl Phased {
    pub(super) fn new(len: usize) -> Phased {
        let zero = Quad::new(0, 0, 0, 0);
        let per = (len + OFF + 4).div_ceil(4);
        Phased([
            vec![zero; per],
            vec![zero; per],
            vec![zero; per],
            vec![zero; per],
        ])
    }

    /// Quads per phase.
    pub(super) fn per(&self) -> usize {
        self.0[0].len()
    }

    fn set(&mut self, stored: usize, q: Quad) {
        if let Some(slot) = self
            .0
            .get_mut(stored % 4)
            .and_then(|v| v.get_mut(stored / 4))
        {
            *slot = q;
        }
    }

    /// Going up: `F_i` for the limbs in `padded` (see [`pad`]).
    pub(super) fn fill_up(&mut self, padded: &[u32]) {
        for (r, phase) in self.0.iter_mut().enumerate() {
            let src = padded.get(r + PAD - OFF..).unwrap_or(&[]).chunks_exact(4);
            for (slot, c) in phase.iter_mut().zip(src) {
                if let &[c0, c1, c2, c3] = c {
                    *slot = Quad::new(c0, c1, c2, c3);
                }
            }
        }
    }

    /// Going down: `R_j` for the limbs in `padded` (see [`pad`]).
    pub(super) fn fill_down(&mut self, padded: &[u32]) {
        for (r, phase) in self.0.iter_mut().enumerate() {
            let src = padded
                .get(r + PAD - OFF - 3..)
                .unwrap_or(&[])
                .chunks_exact(4);
            for (slot, c) in phase.iter_mut().zip(src) {
                if let &[c0, c1, c2, c3] = c {
                    *slot = Quad::new(c3, c2, c1, c0);
                }
            }
        }
    }

    /// Stored indices `from, from + 4, ..` (`count` of them).
    fn run(&self, from: usize, count: usize) -> &[Quad] {
        let t = from / 4;
        self.0
            .get(from % 4)
            .and_then(|v| v.get(t..t + count))
            .unwrap_or(&[])
    }

    /// Stored indices `from, from - 4, ..` (`count` of them), lowest first.
    fn run_down(&self, from: usize, count: usize) -> &[Quad] {
        let t = from / 4;
        self.0
            .get(from % 4)
            .and_then(|v| v.get((t + 1).saturating_sub(count)..=t))
            .unwrap_or(&[])
    }
}

/// Zero limbs before limb 0 in [`pad`]'s buffer.
pub(super) const PAD: usize = 8;

/// `v`'s limbs as u32 lanes after `PAD` zeros, zeros after them up to the
/// buffer's end (made long enough for every quad in [`Phased`]).
pub(super) fn pad(buf: &mut [u32], v: &[u64]) {
    buf.fill(0);
    if let Some(dst) = buf.get_mut(PAD..) {
        for (d, &l) in dst.iter_mut().zip(v) {
            *d = l as u32;
        }
    }
}

/// `sum F_i R_j` over `count` steps from `F_i` up and `R_j` down, as stored
/// indices.
pub(super) fn dot(up: &Phased, i: usize, down: &Phased, j: usize, count: usize) -> u64 {
    let ups = up.run(i, count);
    let downs = down.run_down(j, count);
    // Two accumulators, two steps per pass: half the loop overhead.
    let (mut acc0, mut acc1) = (Wide::zero(), Wide::zero());
    let mut ups2 = ups.chunks_exact(2);
    let mut downs2 = downs.rchunks_exact(2);
    for (x, y) in (&mut ups2).zip(&mut downs2) {
        if let (&[x0, x1], &[y1, y0]) = (x, y) {
            acc0 = acc0.mul_add(x0, y0);
            acc1 = acc1.mul_add(x1, y1);
        }
    }
    if let (&[x], &[y]) = (ups2.remainder(), downs2.remainder()) {
        acc0 = acc0.mul_add(x, y);
    }
    acc0.sum().wrapping_add(acc1.sum())
}

/// Scratch and per-modulus quads for one modulus.
pub(super) struct Columns {
    /// `F_i` of `n`.
    n_up: Phased,
    /// `F_i` of `a`.
    a_up: Phased,
    /// `R_j` of `b` (of `a` for a square).
    b_down: Phased,
    /// `R_j` of `m`, written column by column (the quads below `j = 0`
    /// stay zero, and every other one is written before it is read).
    m_down: Phased,
    /// Padded limbs, for filling the quads.
    buf: Vec<u32>,
}

impl Columns {
    pub(super) fn new(n: &[u64]) -> Columns {
        let len = n.len();
        let mut n_up = Phased::new(len);
        let mut buf = vec![0; 4 * n_up.per() + PAD];
        pad(&mut buf, n);
        n_up.fill_up(&buf);
        Columns {
            n_up,
            a_up: Phased::new(len),
            b_down: Phased::new(len),
            m_down: Phased::new(len),
            buf,
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
        // m_(k-1), m_(k-2), m_(k-3).
        let (mut m1, mut m2, mut m3) = (0u32, 0u32, 0u32);
        let mut carry = 0u64;
        for k in 0..2 * len - 1 {
            let lo = k.saturating_sub(len - 1);
            let hi = k.min(len - 1);
            let ab = if b.is_some() {
                let count = (hi - lo) / 4 + 1;
                dot(&self.a_up, lo + OFF, &self.b_down, k - lo + OFF, count)
            } else {
                // i from lo while i < k - i, aligned to end there.
                let end = k.div_ceil(2);
                let count = end.saturating_sub(lo).div_ceil(4);
                let from = end + OFF - 4 * count;
                let half = dot(&self.a_up, from, &self.b_down, k + 2 * OFF - from, count);
                let diag = if k % 2 == 0 {
                    let x = a.get(k / 2).map_or(0, |&x| x);
                    x * x
                } else {
                    0
                };
                2 * half + diag
            };
            // m_i n_(k-i) for i >= 1 (m_k is not known yet).
            let lo_n = lo.max(1);
            let nm = if lo_n <= hi {
                let count = (hi - lo_n) / 4 + 1;
                dot(&self.n_up, lo_n + OFF, &self.m_down, k - lo_n + OFF, count)
            } else {
                0
            };
            let mut total = ab.wrapping_add(nm).wrapping_add(carry);
            if k < len {
                let m = ((total & M).wrapping_mul(n0_inv)) & M;
                total = total.wrapping_add(m.wrapping_mul(n0));
                let m = m as u32;
                self.m_down.set(k + OFF, Quad::new(m, m1, m2, m3));
                (m1, m2, m3) = (m, m1, m2);
            } else if let Some(o) = out.get_mut(k - len) {
                *o = total & M;
            }
            carry = total >> BITS;
        }
        // The last limb takes the final carry; a bit above it means >= R.
        if let Some(o) = out.last_mut() {
            *o = carry & M;
        }
        if carry >> BITS != 0 || !super::lazy::less_than(out, n) {
            super::lazy::sub_in_place(out, n);
        }
    }
}
