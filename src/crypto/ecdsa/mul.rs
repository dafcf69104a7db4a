//! u1*G + u2*Q by interleaved wNAF over precomputed affine tables.
//!
//! Each scalar is cut into chunks (sixteen 16-bit chunks for P-256, eight
//! 48-bit ones for P-384), and each point P comes with a table for each
//! chunk's power-of-two multiple of P, so all the chunk sums share one run
//! of doublings (17 for P-256 instead of 256). The additions are about
//! bits/(w+1) per scalar whatever the chunking, so a wider window (more
//! table) is what cuts them: w = 8 for G (one table per process: 72 KiB for
//! P-256, 56 KiB for P-384) and w = 7 for keys (built once the key
//! has verified a few signatures: 36 KiB a P-256 key, 28 KiB a P-384 one;
//! until then w = 5, see `ecdsa::PublicKey`). Measured in V8 for
//! ES256 requests: 16 chunks 8% faster than 8 (4 were 16% slower than 8);
//! keys at w = 7 7% faster than at w = 5 (9% for P-384), w = 6 with 16
//! chunks would halve a P-256 key's table for 3.5% more time; G at w = 9
//! would gain 2% more for twice its table.

use super::point::{batch_to_affine, Affine, Jacobian};
use super::scalar::{wnaf, Naf};
use super::uint::Uint;
use super::{Curve, Field};

/// Odd multiples `[1, 3, 5, ..] * 2^(c * chunk_bits) P` for each chunk c,
/// affine, chunk after chunk.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Table<F> {
    points: Box<[Affine<F>]>,
    /// Entries per chunk: 2^(w-2) for window width w.
    per_chunk: usize,
    /// The window width w.
    window: usize,
}

impl<F: Field> Table<F> {
    #[cfg(test)]
    pub(super) fn points_len(&self) -> usize {
        self.points.len()
    }

    /// The point the table is for (its first entry).
    pub(super) fn point(&self) -> Option<&Affine<F>> {
        self.points.first()
    }

    fn get(&self, chunk: usize, index: usize) -> Option<&Affine<F>> {
        if index >= self.per_chunk {
            return None;
        }
        self.points.get(chunk * self.per_chunk + index)
    }
}

/// Builds `p`'s table; `None` only if a multiple is infinite, which cannot
/// happen for a point of prime order n.
pub(super) fn table<F: Field>(p: &Affine<F>, chunks: usize, window: usize) -> Option<Table<F>> {
    let chunk_bits = F::Uint::BITS / chunks;
    let per_chunk = 1 << (window - 2);
    // Each chunk's base and its double, all made affine with one inversion.
    let mut points = Vec::with_capacity(2 * chunks);
    let mut base = Jacobian::from(p);
    for c in 0..chunks {
        points.push(base);
        points.push(base.double());
        if c + 1 < chunks {
            for _ in 0..chunk_bits {
                base = base.double();
            }
        }
    }
    let points = batch_to_affine(&points)?;
    let mut multiples = Vec::with_capacity(chunks * per_chunk);
    for pair in points.chunks_exact(2) {
        let [b, t] = pair else { return None };
        let mut acc = Jacobian::from(b);
        multiples.push(acc);
        for _ in 1..per_chunk {
            acc = acc.add_affine(t);
            multiples.push(acc);
        }
    }
    Some(Table {
        points: batch_to_affine(&multiples)?.into(),
        per_chunk,
        window,
    })
}

/// The base point's table, for the curve's `generator_table` to keep.
pub(super) fn generator_table<C: Curve>() -> Option<Table<C::Fe>> {
    let fe = |v: &C::Uint| C::Fe::from_uint(v);
    let g = Affine::new(fe(&C::GX)?, fe(&C::GY)?, &fe(&C::B)?)?;
    table(&g, C::CHUNKS, C::G_WINDOW)
}

/// `u1 * G + u2 * Q`, where `q` is Q's table; `None` if G's table could
/// not be built (never, for the real base point).
pub(super) fn mul_add<C: Curve>(
    u1: &C::Uint,
    u2: &C::Uint,
    q: &Table<C::Fe>,
) -> Option<Jacobian<C::Fe>> {
    let g = C::generator_table()?;
    let chunk_bits = C::Uint::BITS / C::CHUNKS;
    let g_naf = wnaf(u1, C::G_WINDOW);
    let q_naf = wnaf(u2, q.window);
    let mut acc = Jacobian::INFINITY;
    for k in (0..=chunk_bits).rev() {
        if !acc.is_infinity() {
            acc = acc.double();
        }
        for c in 0..C::CHUNKS {
            // The position past a chunk's top belongs to the next chunk;
            // only the last chunk reaches the NAF's extra top digit.
            if k == chunk_bits && c + 1 < C::CHUNKS {
                continue;
            }
            let i = c * chunk_bits + k;
            acc = add_digit(acc, &g_naf, i, g, c);
            acc = add_digit(acc, &q_naf, i, q, c);
        }
    }
    Some(acc)
}

/// `acc + naf[i] * 2^(c * chunk_bits) P`, the odd multiple read from
/// `table`.
#[inline(always)]
fn add_digit<F: Field>(
    acc: Jacobian<F>,
    naf: &Naf,
    i: usize,
    table: &Table<F>,
    chunk: usize,
) -> Jacobian<F> {
    let d = naf.get(i).copied().unwrap_or(0);
    if d == 0 {
        return acc;
    }
    match table.get(chunk, usize::from(d.unsigned_abs() >> 1)) {
        Some(p) if d > 0 => acc.add_affine(p),
        Some(p) => acc.add_affine(&p.neg()),
        None => acc,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{P256, P384};
    use super::*;

    fn to_affine<F: Field>(p: &Jacobian<F>) -> Option<Affine<F>> {
        batch_to_affine(&[*p]).map(|v| v[0])
    }

    fn generator<C: Curve>() -> Affine<C::Fe> {
        let fe = |v: &C::Uint| C::Fe::from_uint(v).unwrap();
        Affine::new(fe(&C::GX), fe(&C::GY), &fe(&C::B)).unwrap()
    }

    /// Reference: plain double-and-add from the top bit.
    fn slow_mul<F: Field>(k: &F::Uint, p: &Affine<F>) -> Jacobian<F> {
        let mut acc = Jacobian::INFINITY;
        for i in (0..F::Uint::BITS).rev() {
            acc = acc.double();
            if k.bit(i) == 1 {
                acc = acc.add_affine(p);
            }
        }
        acc
    }

    fn add<F: Field>(a: Jacobian<F>, b: Jacobian<F>) -> Jacobian<F> {
        match to_affine(&b) {
            Some(b) => a.add_affine(&b),
            None => a,
        }
    }

    fn tables_hold_odd_multiples_of_shifted_points<C: Curve>() {
        assert_eq!(C::Uint::BITS % C::CHUNKS, 0);
        let chunk_bits = C::Uint::BITS / C::CHUNKS;
        let g = generator::<C>();
        let t = table(&g, C::CHUNKS, C::KEY_WINDOW).unwrap();
        assert_eq!(t.points.len(), C::CHUNKS << (C::KEY_WINDOW - 2));
        for c in 0..C::CHUNKS {
            for j in 0..t.per_chunk {
                // (2j + 1) * 2^(c * chunk_bits)
                let k = C::Uint::from_fn(|limb| {
                    let shift = c * chunk_bits;
                    let v = (2 * j as u64 + 1) << (shift % 32);
                    match limb.checked_sub(shift / 32) {
                        Some(0) => v as u32,
                        Some(1) => (v >> 32) as u32,
                        _ => 0,
                    }
                });
                let expected = to_affine(&slow_mul(&k, &g));
                assert_eq!(expected.as_ref(), t.get(c, j), "chunk {c}, {j}");
            }
        }
        assert!(t.get(0, t.per_chunk).is_none());
    }

    fn mul_add_matches_double_and_add<C: Curve>() {
        let g = generator::<C>();
        let one = C::Uint::ONE;
        let k = C::Uint::from_fn(|i| if i % 3 == 0 { 7 } else { 9 });
        let q = to_affine(&slow_mul(&k, &g)).unwrap();
        let qt = table(&q, C::CHUNKS, C::KEY_WINDOW).unwrap();
        let n1 = C::N.sub(&one).0;
        let cases = [
            (C::Uint::ZERO, one),
            (one.add(&one).0, C::Uint::ZERO),
            (n1, one.add(&one).0),
            (
                C::Uint::from_fn(|_| 0xdead_beef),
                C::Uint::from_fn(|_| 0x0bad_f00d),
            ),
            (
                C::Uint::from_fn(|i| if i % 2 == 0 { u32::MAX } else { 0 }),
                n1,
            ),
        ];
        for (u1, u2) in cases {
            let expected = add(slow_mul(&u1, &g), slow_mul(&u2, &q));
            let got = mul_add::<C>(&u1, &u2, &qt).unwrap();
            assert_eq!(to_affine(&got), to_affine(&expected));
        }
        // (n-1) G + 1 G is the point at infinity.
        let gt = table(&g, C::CHUNKS, C::KEY_WINDOW).unwrap();
        assert!(mul_add::<C>(&n1, &one, &gt).unwrap().is_infinity());
    }

    #[test]
    fn p256_tables_and_mul_add() {
        tables_hold_odd_multiples_of_shifted_points::<P256>();
        mul_add_matches_double_and_add::<P256>();
    }

    #[test]
    fn p384_tables_and_mul_add() {
        tables_hold_odd_multiples_of_shifted_points::<P384>();
        mul_add_matches_double_and_add::<P384>();
    }
}
