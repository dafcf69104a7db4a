//! RSA signature verification (RSASSA-PKCS1-v1_5 and RSASSA-PSS, RFC 8017)
//! on our own Montgomery arithmetic.
//!
//! Everything here is public (key, signature, message), so nothing needs to
//! be constant-time: the public exponent is applied with plain
//! square-and-multiply over its bits (16 squarings and 2 multiplications for
//! 65537). Keys up to 3,080 bits use radix 2^28 with lazy carries
//! (`lazy`, 12% faster in V8; built with simd128, by columns two
//! products per instruction, `columns`); longer ones 32-bit limbs with
//! 64-bit products, which is what wasm32 (and V8) multiplies natively. The per-key
//! Montgomery constants are computed once, when the key is parsed.
//!
//! Acceptance is exactly that of the `rsa` crate (0.10) this replaced, which
//! the unit tests cross-check on random keys, messages and corruptions:
//! the signature must be exactly as long as the modulus and below it;
//! PKCS#1 v1.5 compares the whole encoded message with
//! `00 01 FF.. 00 DigestInfo(NULL parameters) hash`; PSS uses MGF1 with the
//! token's hash and recovers the salt length from the padding (BoringSSL's
//! `RSA_PSS_SALTLEN_AUTO`).

// Multi-precision limb arithmetic: the bound of every step is argued where
// it happens, and the results are cross-checked against reference crates in
// the tests. Checked or wrapping forms everywhere would only hide that.
#![allow(clippy::arithmetic_side_effects)]

use mont32::{less_than, neg_inv_u32};
use sha2::digest::Digest;
use sha2::{Sha256, Sha384, Sha512};

/// A hash with its PKCS#1 v1.5 DigestInfo prefix (RFC 8017 §9.2 note 1).
pub(crate) trait RsaHash: Digest {
    const DIGEST_INFO: &'static [u8];
}

impl RsaHash for Sha256 {
    const DIGEST_INFO: &'static [u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
}

impl RsaHash for Sha384 {
    const DIGEST_INFO: &'static [u8] = &[
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        0x05, 0x00, 0x04, 0x30,
    ];
}

impl RsaHash for Sha512 {
    const DIGEST_INFO: &'static [u8] = &[
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        0x05, 0x00, 0x04, 0x40,
    ];
}

/// Padding scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Padding {
    Pkcs1v15,
    Pss,
}

/// An RSA public key with its precomputed Montgomery parameters.
#[derive(Clone)]
pub(crate) struct RsaKey {
    /// Modulus, little-endian 32-bit limbs, the top limb nonzero.
    n: Box<[u32]>,
    /// `-n^-1 mod 2^32`.
    n0_inv: u32,
    /// `R^2 mod n` with `R = 2^(32 * n.len())`; only computed (and used)
    /// where `lazy` is `None`.
    rr: Box<[u32]>,
    /// Public exponent, odd and above 1.
    e: u64,
    /// Modulus size in bits.
    bits: usize,
    /// The same modulus in radix 2^28, used when it is short enough.
    lazy: Option<lazy::Lazy>,
}

/// Why [`RsaKey::new`] refused a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidKey;

const MASK: u64 = 0xffff_ffff;

impl RsaKey {
    /// Precomputes the key from big-endian `n` and `e` (leading zeros
    /// allowed). Only checks what the arithmetic needs: `n` odd and above
    /// `e`, `e` odd, above 1 and at most 64 bits; the parser applies
    /// BoringSSL's limits first.
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Result<RsaKey, InvalidKey> {
        let n = limbs_from_be(n);
        let n = n
            .get(..significant_len(&n))
            .ok_or(InvalidKey)?
            .to_vec()
            .into_boxed_slice();
        let e_bytes = strip_leading_zeros(e);
        if e_bytes.len() > 8 {
            return Err(InvalidKey);
        }
        let e = e_bytes
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let n_low = *n.first().ok_or(InvalidKey)?;
        if n_low % 2 == 0 || e % 2 == 0 || e < 3 {
            return Err(InvalidKey);
        }
        // n > e: n has more than one limb, or its single limb is above e.
        if n.len() < 3 && limbs_value_u64(&n) <= e {
            return Err(InvalidKey);
        }
        let top = *n.last().ok_or(InvalidKey)?;
        let bits = (n.len() - 1) * 32 + (32 - top.leading_zeros() as usize);
        let mut key = RsaKey {
            n0_inv: neg_inv_u32(n_low),
            rr: vec![0; n.len()].into_boxed_slice(),
            n,
            e,
            bits,
            lazy: None,
        };
        key.lazy = lazy::Lazy::new(&key);
        if key.lazy.is_none() {
            key.rr = key.compute_rr();
        }
        Ok(key)
    }

    /// Modulus size in bits.
    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// Modulus size in bytes: the length a signature must have.
    fn size(&self) -> usize {
        self.bits.div_ceil(8)
    }

    /// Verifies `sig` over `msg` hashed with `D`.
    pub(crate) fn verify<D: RsaHash>(&self, padding: Padding, msg: &[u8], sig: &[u8]) -> bool {
        let hashed = D::digest(msg);
        let Some(em) = self.public_op(sig) else {
            return false;
        };
        match padding {
            Padding::Pkcs1v15 => pkcs1v15_matches(&em, D::DIGEST_INFO, &hashed),
            Padding::Pss => self.pss_matches::<D>(&em, &hashed),
        }
    }

    /// RSAVP1 with the length checks of RFC 8017 §8.2.2 step 1-2: `sig` must
    /// be exactly the modulus length and below the modulus. Returns
    /// `sig^e mod n` as big-endian bytes of the modulus length.
    fn public_op(&self, sig: &[u8]) -> Option<Vec<u8>> {
        let k = self.size();
        if sig.len() != k {
            return None;
        }
        let mut s = limbs_from_be(sig);
        s.resize(self.n.len(), 0);
        if !less_than(&s, &self.n) {
            return None;
        }
        let m = self.pow_e(&s);
        Some(limbs_to_be(&m, k))
    }

    /// `s^e mod n` for `s < n`, left-to-right over the bits of `e`.
    fn pow_e(&self, s: &[u32]) -> Vec<u32> {
        let len = self.n.len();
        match &self.lazy {
            Some(lazy) => lazy.pow(s, self.e, len),
            None => self.pow_e_32(s),
        }
    }

    /// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with MGF1(`D`) and the salt length
    /// recovered from the padding, on `em`, the modulus-length output of
    /// RSAVP1.
    fn pss_matches<D: Digest>(&self, em: &[u8], m_hash: &[u8]) -> bool {
        let em_bits = self.bits.saturating_sub(1);
        let em_len = em_bits.div_ceil(8);
        // I2OSP(m, emLen) needs m below 2^(8 emLen): when emLen is one
        // octet short of the modulus length, that octet must be zero.
        let Some(extra) = em.len().checked_sub(em_len) else {
            return false;
        };
        let Some((head, em)) = em.split_at_checked(extra) else {
            return false;
        };
        if head.iter().any(|b| *b != 0) {
            return false;
        }
        let h_len = <D as Digest>::output_size();
        // EM = maskedDB || H || 0xbc, with a nonempty maskedDB.
        let Some(db_len) = em_len.checked_sub(h_len + 1).filter(|l| *l >= 1) else {
            return false;
        };
        let Some((&0xbc, rest)) = em.split_last() else {
            return false;
        };
        let Some((masked_db, h)) = rest.split_at_checked(db_len) else {
            return false;
        };
        // The leftmost 8 emLen - emBits bits of EM must be zero.
        let keep = 0xffu8 >> (8 * em_len - em_bits);
        if masked_db.first().is_none_or(|b| b & !keep != 0) {
            return false;
        }
        let mut db = masked_db.to_vec();
        for (counter, chunk) in db.chunks_mut(h_len).enumerate() {
            let Ok(counter) = u32::try_from(counter) else {
                return false;
            };
            let mask = D::new()
                .chain_update(h)
                .chain_update(counter.to_be_bytes())
                .finalize();
            for (byte, m) in chunk.iter_mut().zip(mask.iter()) {
                *byte ^= m;
            }
        }
        if let Some(first) = db.first_mut() {
            *first &= keep;
        }
        // DB = PS (zeros) || 0x01 || salt.
        let Some(sep) = db.iter().position(|b| *b != 0) else {
            return false;
        };
        let (Some(&1), Some(salt)) = (db.get(sep), db.get(sep + 1..)) else {
            return false;
        };
        let h2 = D::new()
            .chain_update([0u8; 8])
            .chain_update(m_hash)
            .chain_update(salt)
            .finalize();
        h2.as_slice() == h
    }
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RSA({} bits)", self.bits)
    }
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2) compared as a whole:
/// `00 01 FF..FF 00 DigestInfo hash`, at least 8 `FF`s.
fn pkcs1v15_matches(em: &[u8], prefix: &[u8], hashed: &[u8]) -> bool {
    let k = em.len();
    let t_len = prefix.len() + hashed.len();
    let Some(ps_len) = k.checked_sub(t_len + 3).filter(|l| *l >= 8) else {
        return false;
    };
    let mut expected = Vec::with_capacity(k);
    expected.extend_from_slice(&[0, 1]);
    expected.resize(2 + ps_len, 0xff);
    expected.push(0);
    expected.extend_from_slice(prefix);
    expected.extend_from_slice(hashed);
    expected == em
}

fn strip_leading_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

/// Big-endian bytes to little-endian 32-bit limbs (`ceil(len / 4)` of them).
fn limbs_from_be(bytes: &[u8]) -> Vec<u32> {
    bytes
        .rchunks(4)
        .map(|chunk| chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
        .collect()
}

/// Little-endian limbs to `k` big-endian bytes; `x` must be below `2^(8k)`.
fn limbs_to_be(x: &[u32], k: usize) -> Vec<u8> {
    let mut out: Vec<u8> = x.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    let skip = out.len().saturating_sub(k);
    out.drain(..skip);
    out
}

/// Number of limbs without the high zero ones.
fn significant_len(x: &[u32]) -> usize {
    x.iter().rposition(|l| *l != 0).map_or(0, |i| i + 1)
}

fn limbs_value_u64(x: &[u32]) -> u64 {
    x.iter()
        .rev()
        .fold(0u64, |acc, l| (acc << 32) | u64::from(*l))
}

#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
mod columns;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes;
mod lazy;
mod mont32;
#[cfg(test)]
mod tests;
