//! `a^-1 mod n` by Bernstein-Yang "safegcd" divsteps, variable-time, after
//! libsecp256k1's `modinv32_var`: 30 divsteps at a time run on the low bits
//! of f and g alone, and their 2x2 transition matrix is then applied to the
//! full-width f, g (and to d, e, tracking the inverse). Numbers are signed
//! 30-bit limbs so that a limb times a matrix entry fits an i64. About 20
//! batches for a 256-bit n, where bit-at-a-time binary Euclid made ~700
//! passes over the limbs (10% of an ES256 request in V8).

use super::uint::Uint;
use super::Curve;

/// Limbs for the widest n (P-384: 13 * 30 = 390 bits, room for the sign).
const LIMBS: usize = 13;
const M30: i32 = (1 << 30) - 1;

type Signed30 = [i32; LIMBS];

/// `-f^-1 mod 2^12` for odd f (only 8 bits are used): Newton from
/// f * f = 1 mod 8, each step doubling the correct bits.
fn neg_inverse(f: u32) -> u32 {
    let mut y = f;
    y = y.wrapping_mul(2u32.wrapping_sub(f.wrapping_mul(y)));
    y = y.wrapping_mul(2u32.wrapping_sub(f.wrapping_mul(y)));
    y.wrapping_neg()
}

/// The 2x2 matrix of a batch, scaled by 2^30: [u v; q r].
#[derive(Clone, Copy)]
struct Trans {
    u: i64,
    v: i64,
    q: i64,
    r: i64,
}

/// 30 divsteps on the low 32 bits of f and g; returns the new eta.
fn divsteps_30(mut eta: i32, f0: u32, g0: u32) -> (i32, Trans) {
    let (mut u, mut v, mut q, mut r) = (1u32, 0u32, 0u32, 1u32);
    let (mut f, mut g) = (f0, g0);
    let mut i = 30u32;
    loop {
        // The sentinel bit at i stops the count at the steps left.
        let zeros = (g | (u32::MAX << i)).trailing_zeros();
        g >>= zeros;
        u <<= zeros;
        v <<= zeros;
        eta -= zeros as i32;
        i -= zeros;
        if i == 0 {
            break;
        }
        if eta < 0 {
            eta = -eta;
            (f, g) = (g, f.wrapping_neg());
            (u, q) = (q, u.wrapping_neg());
            (v, r) = (r, v.wrapping_neg());
        }
        // Cancel up to min(eta + 1, i, 8) low bits of g with a multiple of f.
        let limit = (eta + 1).min(i as i32) as u32;
        let mask = (u32::MAX >> (32 - limit)) & 0xff;
        let w = g.wrapping_mul(neg_inverse(f)) & mask;
        g = g.wrapping_add(f.wrapping_mul(w));
        q = q.wrapping_add(u.wrapping_mul(w));
        r = r.wrapping_add(v.wrapping_mul(w));
    }
    let t = Trans {
        u: i64::from(u as i32),
        v: i64::from(v as i32),
        q: i64::from(q as i32),
        r: i64::from(r as i32),
    };
    (eta, t)
}

/// `[f, g] = t [f, g] / 2^30` over the first `len` limbs (exact: the low
/// 30 bits of both products are zero by construction).
fn update_fg(len: usize, f: &mut Signed30, g: &mut Signed30, t: Trans) {
    let (mut cf, mut cg) = (0i64, 0i64);
    let mut prev: Option<(&mut i32, &mut i32)> = None;
    for (fi, gi) in f.iter_mut().zip(g.iter_mut()).take(len) {
        let (a, b) = (i64::from(*fi), i64::from(*gi));
        cf += t.u * a + t.v * b;
        cg += t.q * a + t.r * b;
        if let Some((pf, pg)) = prev.take() {
            *pf = cf as i32 & M30;
            *pg = cg as i32 & M30;
        }
        cf >>= 30;
        cg >>= 30;
        prev = Some((fi, gi));
    }
    if let Some((pf, pg)) = prev {
        *pf = cf as i32;
        *pg = cg as i32;
    }
}

/// `[d, e] = (t [d, e] + n [md, me]) / 2^30`, with md, me chosen to make
/// the division exact and to keep d, e in (-2n, n).
fn update_de(len: usize, d: &mut Signed30, e: &mut Signed30, t: Trans, n: &Modulus) {
    let top = |v: &Signed30| v.get(len - 1).copied().unwrap_or(0) >> 31;
    let (sd, se) = (i64::from(top(d)), i64::from(top(e)));
    let mut md = (t.u & sd) + (t.v & se);
    let mut me = (t.q & sd) + (t.r & se);
    let (d0, e0) = (i64::from(d[0]), i64::from(e[0]));
    let cd0 = t.u * d0 + t.v * e0;
    let ce0 = t.q * d0 + t.r * e0;
    let m30 = i64::from(M30);
    md -= (i64::from(n.inv30.wrapping_mul(cd0 as u32)) + md) & m30;
    me -= (i64::from(n.inv30.wrapping_mul(ce0 as u32)) + me) & m30;
    let (mut cd, mut ce) = (0i64, 0i64);
    let mut prev: Option<(&mut i32, &mut i32)> = None;
    for ((di, ei), &ni) in d.iter_mut().zip(e.iter_mut()).zip(&n.limbs).take(len) {
        let (a, b, m) = (i64::from(*di), i64::from(*ei), i64::from(ni));
        cd += t.u * a + t.v * b + m * md;
        ce += t.q * a + t.r * b + m * me;
        if let Some((pd, pe)) = prev.take() {
            *pd = cd as i32 & M30;
            *pe = ce as i32 & M30;
        }
        cd >>= 30;
        ce >>= 30;
        prev = Some((di, ei));
    }
    if let Some((pd, pe)) = prev {
        *pd = cd as i32;
        *pe = ce as i32;
    }
}

/// n as signed 30-bit limbs, with n^-1 mod 2^30.
struct Modulus {
    limbs: Signed30,
    inv30: u32,
}

/// Limbs in [0, 2^30) but the top one, which takes the sign and the rest.
fn carry(v: &mut Signed30, len: usize) {
    let mut c = 0i32;
    for x in v.iter_mut().take(len - 1) {
        let s = *x + c;
        *x = s & M30;
        c = s >> 30;
    }
    if let Some(x) = v.get_mut(len - 1) {
        *x += c;
    }
}

fn is_negative(v: &Signed30, len: usize) -> bool {
    v.get(len - 1).is_some_and(|&t| t < 0)
}

/// `v + sign * n`, carried.
fn add_n(v: &mut Signed30, n: &Signed30, len: usize, sign: i32) {
    for (x, &m) in v.iter_mut().zip(n).take(len) {
        *x += sign * m;
    }
    carry(v, len);
}

fn to_signed30<U: Uint>(a: &U) -> Signed30 {
    let mut out = [0i32; LIMBS];
    let (mut acc, mut bits) = (0u64, 0u32);
    let mut limbs = a.limbs().iter();
    for o in &mut out {
        if bits < 30 {
            acc |= u64::from(limbs.next().copied().unwrap_or(0)) << bits;
            bits += 32;
        }
        *o = (acc as i32) & M30;
        acc >>= 30;
        bits -= 30;
    }
    out
}

/// From limbs all in [0, 2^30) of a value below 2^BITS.
fn from_signed30<U: Uint>(v: &Signed30) -> U {
    let (mut acc, mut bits) = (0u64, 0u32);
    let mut limbs = v.iter();
    U::from_fn(|_| {
        while bits < 32 {
            acc |= u64::from(limbs.next().copied().unwrap_or(0) as u32) << bits;
            bits += 30;
        }
        let out = acc as u32;
        acc >>= 32;
        bits -= 32;
        out
    })
}

/// `a^-1 mod n` for `a` in [1, n); `None` for 0.
pub(super) fn invert<C: Curve>(a: &C::Uint) -> Option<C::Uint> {
    if a.is_zero() {
        return None;
    }
    let len0 = C::Uint::BITS / 30 + 1;
    let limbs = to_signed30(&C::N);
    let n0 = limbs[0] as u32;
    // Newton for n^-1 mod 2^30: n * n = 1 mod 8, each step doubles the bits.
    let mut inv30 = n0;
    for _ in 0..4 {
        inv30 = inv30.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv30)));
    }
    let n = Modulus {
        limbs,
        inv30: inv30 & M30 as u32,
    };
    let (mut d, mut e) = ([0i32; LIMBS], [0i32; LIMBS]);
    e[0] = 1;
    let (mut f, mut g) = (n.limbs, to_signed30(a));
    let mut len = len0;
    let mut eta = -1;
    loop {
        let (next_eta, t) = divsteps_30(eta, f[0] as u32, g[0] as u32);
        eta = next_eta;
        update_de(len0, &mut d, &mut e, t, &n);
        update_fg(len, &mut f, &mut g, t);
        if g.iter().take(len).all(|&x| x == 0) {
            break;
        }
        // Drop a top limb that is only sign in both f and g.
        let top = |v: &Signed30| v.get(len - 1).copied().unwrap_or(0);
        let (fn_, gn) = (top(&f), top(&g));
        if len > 1 && (fn_ == 0 || fn_ == -1) && (gn == 0 || gn == -1) {
            if let (Some(fl), Some(gl)) = (f.get_mut(len - 2), g.get_mut(len - 2)) {
                *fl |= ((fn_ as u32) << 30) as i32;
                *gl |= ((gn as u32) << 30) as i32;
            }
            len -= 1;
        }
    }
    // g = 0, f = +-gcd = +-1 (n is prime), and d a = f: the inverse is +-d.
    let f_negative = f.get(len - 1).is_some_and(|&x| x < 0);
    if f_negative {
        for x in d.iter_mut().take(len0) {
            *x = -*x;
        }
    }
    carry(&mut d, len0);
    // d is in (-2n, 2n) now: into [0, n).
    while is_negative(&d, len0) {
        add_n(&mut d, &n.limbs, len0, 1);
    }
    loop {
        let mut less = d;
        add_n(&mut less, &n.limbs, len0, -1);
        if is_negative(&less, len0) {
            break;
        }
        d = less;
    }
    Some(from_signed30(&d))
}

#[cfg(test)]
mod tests {
    use super::super::{P256, P384};
    use super::*;

    fn xorshift<U: Uint>(x: &mut u64) -> U {
        U::from_fn(|_| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x as u32
        })
    }

    fn matches_binary_euclid<C: Curve>() {
        let one = C::Uint::ONE;
        let mut cases = vec![
            one,
            one.add(&one).0,
            C::N.sub(&one).0,
            C::N.shr1(false),
            C::Uint::from_fn(|i| u32::from(i == 0) << 31),
        ];
        let mut x = 0x0123_4567_89ab_cdefu64;
        cases.extend((0..300).map(|_| super::super::scalar::reduce::<C>(&xorshift(&mut x))));
        for a in cases.iter().filter(|a| !a.is_zero()) {
            let inv = invert::<C>(a).unwrap();
            assert!(inv.less_than(&C::N));
            assert_eq!(
                Some(inv),
                super::super::scalar::invert_slow::<C>(a),
                "{a:x?}"
            );
        }
        assert_eq!(invert::<C>(&C::Uint::ZERO), None);
    }

    #[test]
    fn p256_inverse_matches_binary_euclid() {
        matches_binary_euclid::<P256>();
    }

    #[test]
    fn p384_inverse_matches_binary_euclid() {
        matches_binary_euclid::<P384>();
    }

    #[test]
    fn signed30_round_trip() {
        let a: [u32; 12] = [0xdead_beef; 12];
        assert_eq!(from_signed30::<[u32; 12]>(&to_signed30(&a)), a);
        let b: [u32; 8] = [u32::MAX; 8];
        assert_eq!(from_signed30::<[u32; 8]>(&to_signed30(&b)), b);
    }
}
