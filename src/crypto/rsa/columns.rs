//! The radix-2^28 Montgomery product by columns (product scanning), two
//! products per lane step: what the module runs when built with simd128.
//!
//! Column `k` of `a b + m n` is the sum of `a_i b_(k-i) + n_i m_(k-i)`. The
//! operands are laid out so that one [`Quad`] pair multiplies four of those
//! terms: `X_p = (a_2p, n_2p, a_2p+1, n_2p+1)` times
//! `Y_q = (b_j, m_j, b_j-1, m_j-1)` with `j = k - 2p`, the `a b` terms in
//! lane 0 and the `m n` terms in lane 1. A column needs the `Y`s of every
//! other `j`, so they are kept split by the parity of `q = j + 1` and each
//! column reads one contiguous run backwards. `m_k` is only known after
//! column `k` is summed (with `m_k` still 0 in `Y`): it is then added as
//! `m_k n_0` and written into the two `Y`s that hold it.
//!
//! Bounds (for `len <= MAX_LIMBS = 110`): each lane of a column receives at
//! most `len` products below 2^56; the column total adds the other lane,
//! `m_k n_0` and the carry from the column before (below 2^36), so it stays
//! below `221 * 2^56 + 2^36 < 2^64`. Terms outside `0..len` meet zero padding
//! (`a_len = n_len = 0`, `b_-1 = m_-1 = b_len = m_len = 0`).

use super::lanes::{Quad, Wide};

const BITS: u32 = 28;
const M: u64 = (1 << BITS) - 1;

/// Per-modulus-length scratch for [`mont_mul`].
pub(super) struct Scratch {
    /// `X_p` for `p` in `0..ceil(len / 2)`.
    x: Vec<Quad>,
    /// `Y_q` for even `q` (`ys[0][t] = Y_2t`) and odd `q` (`ys[1][t] =
    /// Y_2t+1`), `q` in `0..len + 2`.
    ys: [Vec<Quad>; 2],
}

impl Scratch {
    pub(super) fn new(len: usize) -> Scratch {
        let zero = Quad::new(0, 0, 0, 0);
        Scratch {
            x: vec![zero; len.div_ceil(2)],
            ys: [vec![zero; len / 2 + 2], vec![zero; len / 2 + 2]],
        }
    }
}

/// Limb `i` of `v` as a u32 lane, 0 outside (limbs are below 2^28).
fn limb(v: &[u64], i: usize) -> u32 {
    v.get(i).map_or(0, |&l| l as u32)
}

/// Writes `m_k` into `Y_k+1` (lane 1) and `Y_k+2` (lane 3).
fn set_m(ys: &mut [Vec<Quad>; 2], k: usize, m: u32) {
    let (q1, q2) = (k + 1, k + 2);
    if let Some(y) = ys.get_mut(q1 % 2).and_then(|v| v.get_mut(q1 / 2)) {
        *y = y.with_lane1(m);
    }
    if let Some(y) = ys.get_mut(q2 % 2).and_then(|v| v.get_mut(q2 / 2)) {
        *y = y.with_lane3(m);
    }
}

/// `out = a * b / R mod n`, fully reduced, for normalized `a, b < n` of
/// `n`'s length (`R = 2^(28 len)`), with `s` made for that length;
/// `n0_inv = -n^-1 mod 2^28`.
pub(super) fn mont_mul(
    n: &[u64],
    n0_inv: u64,
    a: &[u64],
    b: &[u64],
    s: &mut Scratch,
    out: &mut [u64],
) {
    let len = n.len();
    let Some(&n0) = n.first() else { return };
    for (p, x) in s.x.iter_mut().enumerate() {
        let i = 2 * p;
        *x = Quad::new(limb(a, i), limb(n, i), limb(a, i + 1), limb(n, i + 1));
    }
    for (par, ys) in s.ys.iter_mut().enumerate() {
        for (t, y) in ys.iter_mut().enumerate() {
            // Y_q = (b_q-1, 0, b_q-2, 0); the m lanes are filled in later.
            let q = 2 * t + par;
            let lo = q.checked_sub(2).map_or(0, |j| limb(b, j));
            *y = Quad::new(q.checked_sub(1).map_or(0, |j| limb(b, j)), 0, lo, 0);
        }
    }
    let mut carry = 0u64;
    for k in 0..2 * len - 1 {
        let lo = k.saturating_sub(len - 1);
        let hi = k.min(len - 1);
        let (p_lo, p_hi) = (lo / 2, hi / 2);
        let c = k + 1;
        let (Some(xs), Some(ys)) = (
            s.x.get(p_lo..=p_hi),
            s.ys.get(c % 2)
                .and_then(|ys| ys.get(c / 2 - p_hi..=c / 2 - p_lo)),
        ) else {
            return;
        };
        // Two accumulators, two steps per pass: half the loop overhead.
        let (mut acc0, mut acc1) = (Wide::zero(), Wide::zero());
        let mut xs2 = xs.chunks_exact(2);
        let mut ys2 = ys.rchunks_exact(2);
        for (x, y) in (&mut xs2).zip(&mut ys2) {
            if let (&[x0, x1], &[y1, y0]) = (x, y) {
                acc0 = acc0.mul_add(x0, y0);
                acc1 = acc1.mul_add(x1, y1);
            }
        }
        if let (&[x], &[y]) = (xs2.remainder(), ys2.remainder()) {
            acc0 = acc0.mul_add(x, y);
        }
        let mut total = acc0.sum().wrapping_add(acc1.sum()).wrapping_add(carry);
        if k < len {
            let m = ((total & M).wrapping_mul(n0_inv)) & M;
            total = total.wrapping_add(m.wrapping_mul(n0));
            set_m(&mut s.ys, k, m as u32);
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
