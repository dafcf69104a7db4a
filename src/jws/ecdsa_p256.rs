//! ECDSA P-256 verification on our own variable-time arithmetic.
//!
//! Every input of a verification is public (key, message, signature), so
//! nothing here is constant-time. What makes it fast inside wasm:
//! 32-bit limbs (wasm multiplies 32x32->64 natively, 64x64->128 is a
//! library call); a multiplication-free Montgomery reduction for p; a
//! per-key table of precomputed multiples built once when the key is
//! parsed, and a larger one for the base point built once per process;
//! no field inversion per verification (x(R) is compared as r * Z^2 = X).
//!
//! Acceptance is exactly that of the `p256` crate this replaced, which the
//! unit tests cross-check on random keys, messages and corruptions:
//! r and s must be in [1, n) (high S is accepted), the hash is truncated to
//! its leftmost 256 bits and reduced mod n, and the signature is valid iff
//! R = u1 G + u2 Q is finite and x(R) mod n = r. The key is decoded and
//! validated (on the curve, not the identity) by the `p256` crate.

mod field;
mod mul;
mod point;
mod scalar;
mod u256;

use self::field::Fe;
use self::mul::{Table, KEY_TABLE_LEN};
use self::point::Affine;
use self::u256::U256;

/// p - n: when r is below it, r + n is another candidate for x(R).
const P_MINUS_N: U256 = [
    0x039c_daae,
    0x0c46_353d,
    0x58e8_617b,
    0x4319_0553,
    0,
    0,
    0,
    0,
];

/// A P-256 public key with its precomputed table (4 KiB).
#[derive(Clone)]
pub(crate) struct PublicKey {
    table: Box<Table<KEY_TABLE_LEN>>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P-256 public key")
    }
}

/// Why a point was refused as a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidPoint;

impl PublicKey {
    /// Decodes a SEC1 point (uncompressed or compressed); refuses the
    /// identity, off-curve points and coordinates of p or more.
    pub(crate) fn from_sec1(bytes: &[u8]) -> Result<PublicKey, InvalidPoint> {
        // The p256 crate does the decoding (and decompression) and checks.
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| InvalidPoint)?;
        let point = key.to_sec1_point(false);
        match point.as_bytes() {
            [0x04, xy @ ..] => {
                let (x, y) = xy.split_at_checked(32).ok_or(InvalidPoint)?;
                let x = x.try_into().map_err(|_| InvalidPoint)?;
                let y = y.try_into().map_err(|_| InvalidPoint)?;
                PublicKey::from_affine(x, y)
            }
            _ => Err(InvalidPoint),
        }
    }

    /// From big-endian affine coordinates, checked again here so that this
    /// type never holds a point off the curve.
    fn from_affine(x: &[u8; 32], y: &[u8; 32]) -> Result<PublicKey, InvalidPoint> {
        let x = Fe::from_be_bytes(x).ok_or(InvalidPoint)?;
        let y = Fe::from_be_bytes(y).ok_or(InvalidPoint)?;
        let q = Affine::new(x, y).ok_or(InvalidPoint)?;
        let table = mul::table(&q).ok_or(InvalidPoint)?;
        mul::warm_up();
        Ok(PublicKey { table })
    }

    /// Verifies `(r, s)` (big-endian, 32 bytes each) over a message hash.
    pub(crate) fn verify_prehash(&self, prehash: &[u8], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let (Some(r), Some(s)) = (scalar::nonzero_below_n(r), scalar::nonzero_below_n(s)) else {
            return false;
        };
        let e = scalar::reduce(&hash_to_int(prehash));
        let Some(w) = scalar::invert(&s) else {
            return false;
        };
        let u1 = scalar::mul(&e, &w);
        let u2 = scalar::mul(&r, &w);
        let Some(point) = mul::mul_add(&u1, &u2, &self.table) else {
            return false;
        };
        if point.is_infinity() {
            return false;
        }
        // x(R) = X / Z^2 and x(R) < p; x(R) mod n = r means x(R) is r or,
        // if that is still below p, r + n.
        let z2 = point.z.square();
        let matches =
            |candidate: &U256| Fe::from_u256(candidate).is_some_and(|c| c.mul(&z2) == point.x);
        matches(&r) || (u256::lt(&r, &P_MINUS_N) && matches(&u256::add(&r, &scalar::N).0))
    }
}

/// The leftmost 256 bits of the hash as an integer (FIPS 186-4 6.4); a
/// shorter hash is read as is.
fn hash_to_int(prehash: &[u8]) -> U256 {
    let bytes = prehash.get(..32).unwrap_or(prehash);
    let mut padded = [0u8; 32];
    if let Some(dst) = padded.get_mut(32 - bytes.len()..) {
        dst.copy_from_slice(bytes);
    }
    u256::from_be_bytes(&padded)
}

#[cfg(test)]
mod tests;
