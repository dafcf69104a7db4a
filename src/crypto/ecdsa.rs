//! ECDSA verification (P-256, P-384) on our own variable-time arithmetic.
//!
//! Every input of a verification is public (key, message, signature), so
//! nothing here is constant-time. What makes it fast inside wasm:
//! field elements as 29-bit limbs, loosely reduced (products of limbs sum
//! in i64 columns without carries; wasm multiplies 64-bit integers natively,
//! 64x64->128 would be a library call); multiplication-free Montgomery
//! reductions (p = -1 mod 2^29 for both curves, and p's other digits are
//! a few signed powers of two); a per-key table of precomputed multiples,
//! narrow when the key is parsed and widened once it has verified a few
//! signatures, and a larger one for the base point built once per process; no field inversion per verification (x(R) is
//! compared as r * Z^2 = X); the scalar inverse by safegcd divsteps.
//!
//! Acceptance is exactly that of the `p256`/`p384` crates this replaced,
//! which the unit tests cross-check on random keys, messages and
//! corruptions: r and s must be in [1, n) (high S is accepted), the hash is
//! truncated to its leftmost bits (as many as n has) and reduced mod n, and
//! the signature is valid iff R = u1 G + u2 Q is finite and x(R) mod n = r.
//! Keys are decoded and validated (on the curve, not the identity) by those
//! crates, then checked again here.

// Multi-precision limb arithmetic: the bound of every step is argued where
// it happens, and the results are cross-checked against reference crates in
// the tests. Checked or wrapping forms everywhere would only hide that.
#![allow(clippy::arithmetic_side_effects)]

mod limbs29;
mod modinv;
mod mul;
mod p256;
mod p384;
mod point;
mod scalar;
mod uint;

use std::fmt::Debug;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use self::mul::Table;
use self::point::Affine;
use self::uint::Uint;

pub(crate) use self::p256::P256;
pub(crate) use self::p384::P384;

/// Field arithmetic mod a curve's p, on fully reduced elements.
pub(crate) trait Field: Copy + PartialEq + Debug + 'static {
    type Uint: Uint;
    const P: Self::Uint;
    const ZERO: Self;
    const ONE: Self;
    /// From a plain integer; `None` unless below p.
    fn from_uint(a: &Self::Uint) -> Option<Self>;
    fn is_zero(&self) -> bool;
    fn add(&self, b: &Self) -> Self;
    fn sub(&self, b: &Self) -> Self;
    fn mul(&self, b: &Self) -> Self;
    fn square(&self) -> Self;

    /// `self^(p-2)`, the inverse of a nonzero element (0 gives 0). Only used
    /// when keys and tables are built, so plain square-and-multiply.
    fn invert(&self) -> Self {
        let two = Self::Uint::ONE.add(&Self::Uint::ONE).0;
        let exp = Self::P.sub(&two).0;
        let mut acc = Self::ONE;
        for i in (0..Self::Uint::BITS).rev() {
            acc = acc.square();
            if exp.bit(i) == 1 {
                acc = acc.mul(self);
            }
        }
        acc
    }

    fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    fn double(&self) -> Self {
        self.add(self)
    }

    /// `k * self` for a small k (the point formulas' 3, 4 and 8).
    fn mul_small(&self, k: u8) -> Self {
        match k {
            3 => self.double().add(self),
            4 => self.double().double(),
            8 => self.double().double().double(),
            _ => self.mul_small_by_adding(k),
        }
    }

    /// `k * self` by doublings and additions: any k, for fields whose own
    /// `mul_small` only takes some.
    fn mul_small_by_adding(&self, k: u8) -> Self {
        let mut acc = Self::ZERO;
        for bit in (0..8).rev() {
            acc = acc.double();
            if (k >> bit) & 1 == 1 {
                acc = acc.add(self);
            }
        }
        acc
    }
}

/// A short-Weierstrass curve with a = -3, its group and its tuning.
pub(crate) trait Curve: Clone + 'static {
    type Uint: Uint;
    type Fe: Field<Uint = Self::Uint>;
    const NAME: &'static str;
    /// The curve's b and base point, as plain integers.
    const B: Self::Uint;
    const GX: Self::Uint;
    const GY: Self::Uint;
    /// The group order n, -n^-1 mod 2^32 and 2^(2 * BITS) mod n.
    const N: Self::Uint;
    const N0: u64;
    const N_R2: Self::Uint;
    /// p - n: when r is below it, r + n is another candidate for x(R).
    const P_MINUS_N: Self::Uint;
    /// Scalar chunks (shared doublings = bits / chunks) and wNAF window
    /// widths for key and base-point tables; see `mul`.
    const CHUNKS: usize;
    const KEY_WINDOW: usize;
    const G_WINDOW: usize;

    /// The base point's table, built once.
    fn generator_table() -> Option<&'static Table<Self::Fe>>;
    /// Decodes and validates a SEC1 point with the reference crate,
    /// returning it uncompressed (`04 || x || y`).
    fn decode_sec1(bytes: &[u8]) -> Option<Vec<u8>>;
}

/// A public key with its precomputed table. It starts narrow (w = 5: 9 KiB
/// for P-256, 6 KiB for P-384, fast to build) and is rebuilt at the curve's
/// `KEY_WINDOW` (36 KiB, 28 KiB) by the verification that finds it used
/// [`WIDEN_AFTER`] times: an IdP's key signs many tokens, and repays its
/// wide table (three times the building time, natively 430 µs against
/// 190 µs for P-256) within a few dozen; a DPoP proof's key often signs
/// once and would not.
/// (Atomics and a `OnceLock`, not cells: keys are shared with `Arc`, and
/// these cost wasm nothing more.)
#[derive(Clone)]
pub(crate) struct PublicKey<C: Curve> {
    narrow: Table<C::Fe>,
    wide: Arc<OnceLock<Table<C::Fe>>>,
    verified: Arc<AtomicU32>,
}

/// Window width of a key's first table.
const NARROW_WINDOW: usize = 5;

/// Verifications with the narrow table before the wide one is built.
const WIDEN_AFTER: u32 = 4;

impl<C: Curve> Debug for PublicKey<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} public key", C::NAME)
    }
}

/// Why a point was refused as a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidPoint;

impl<C: Curve> PublicKey<C> {
    /// Decodes a SEC1 point (uncompressed or compressed); refuses the
    /// identity, off-curve points and coordinates of p or more.
    pub(crate) fn from_sec1(bytes: &[u8]) -> Result<Self, InvalidPoint> {
        let point = C::decode_sec1(bytes).ok_or(InvalidPoint)?;
        match point.as_slice() {
            [0x04, xy @ ..] => {
                let (x, y) = xy.split_at_checked(C::Uint::BYTES).ok_or(InvalidPoint)?;
                Self::from_affine(x, y)
            }
            _ => Err(InvalidPoint),
        }
    }

    /// From big-endian affine coordinates, checked again here so that this
    /// type never holds a point off the curve.
    fn from_affine(x: &[u8], y: &[u8]) -> Result<Self, InvalidPoint> {
        let coordinate = |v: &[u8]| C::Uint::from_be_bytes(v).and_then(|v| C::Fe::from_uint(&v));
        let (x, y) = (coordinate(x), coordinate(y));
        let b = C::Fe::from_uint(&C::B);
        let (Some(x), Some(y), Some(b)) = (x, y, b) else {
            return Err(InvalidPoint);
        };
        let q = Affine::new(x, y, &b).ok_or(InvalidPoint)?;
        let window = NARROW_WINDOW.min(C::KEY_WINDOW);
        let table = mul::table(&q, C::CHUNKS, window).ok_or(InvalidPoint)?;
        // Built now so that the first request does not pay for it.
        let _ = C::generator_table();
        Ok(PublicKey {
            narrow: table,
            wide: Arc::default(),
            verified: Arc::default(),
        })
    }

    /// The table to verify with, widened once the key has been used enough.
    fn table(&self) -> &Table<C::Fe> {
        if let Some(wide) = self.wide.get() {
            return wide;
        }
        let used = self.verified.fetch_add(1, Ordering::Relaxed);
        if used < WIDEN_AFTER || C::KEY_WINDOW <= NARROW_WINDOW {
            return &self.narrow;
        }
        let wide = self
            .narrow
            .point()
            .and_then(|q| mul::table(q, C::CHUNKS, C::KEY_WINDOW));
        match wide {
            Some(wide) => self.wide.get_or_init(|| wide),
            None => &self.narrow,
        }
    }

    /// Verifies `(r, s)` (big-endian, exactly the curve's size each) over
    /// a message hash.
    pub(crate) fn verify_prehash(&self, prehash: &[u8], r: &[u8], s: &[u8]) -> bool {
        let in_range =
            |v: &[u8]| C::Uint::from_be_bytes(v).filter(|v| scalar::nonzero_below_n::<C>(v));
        let (Some(r), Some(s)) = (in_range(r), in_range(s)) else {
            return false;
        };
        let e = scalar::reduce::<C>(&hash_to_int::<C::Uint>(prehash));
        let Some(w) = scalar::invert::<C>(&s) else {
            return false;
        };
        let u1 = scalar::mul::<C>(&e, &w);
        let u2 = scalar::mul::<C>(&r, &w);
        let Some(point) = mul::mul_add::<C>(&u1, &u2, self.table()) else {
            return false;
        };
        if point.is_infinity() {
            return false;
        }
        // x(R) = X / Z^2 and x(R) < p; x(R) mod n = r means x(R) is r or,
        // if that is still below p, r + n.
        let z2 = point.z.square();
        let matches = |candidate: &C::Uint| {
            C::Fe::from_uint(candidate).is_some_and(|c| c.mul(&z2) == point.x)
        };
        matches(&r) || (r.less_than(&C::P_MINUS_N) && matches(&r.add(&C::N).0))
    }
}

/// The hash's leftmost bits, as many as n has (FIPS 186-4 6.4; n's size is
/// a whole number of bytes here), as an integer; a shorter hash is read as
/// is, like the reference crates do.
fn hash_to_int<U: Uint>(prehash: &[u8]) -> U {
    let bytes = prehash.get(..U::BYTES).unwrap_or(prehash);
    let mut buf = [0u8; 64];
    let Some(padded) = buf.get_mut(..U::BYTES) else {
        return U::ZERO;
    };
    if let Some(low) = padded.get_mut(U::BYTES - bytes.len()..) {
        low.copy_from_slice(bytes);
    }
    U::from_be_bytes(padded).unwrap_or(U::ZERO)
}

#[cfg(test)]
mod tests;
