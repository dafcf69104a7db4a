//! Cross-checks of the fast RSA path against the `rsa` crate (the reference
//! this module replaced): raw exponentiation on random moduli, and full
//! PKCS#1 v1.5 / PSS verification on real keys with valid signatures, random
//! corruptions and Wycheproof-style malformed encodings.

use super::*;
use ::rsa::hazmat::{rsa_decrypt, rsa_encrypt};
use ::rsa::rand_core::{TryCryptoRng, TryRng};
use ::rsa::traits::PublicKeyParts;
use ::rsa::{BoxedUint, RsaPrivateKey, RsaPublicKey};
use sha2::digest::{const_oid::AssociatedOid, FixedOutputReset};

/// Fewer iterations in debug builds, where the reference crate is slow.
fn iters(debug: usize, release: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

/// Seeded splitmix64, so failures reproduce.
struct TestRng(u64);

impl TestRng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

impl TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.iter_mut().for_each(|b| *b = self.next() as u8);
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

fn hex(s: &str) -> Vec<u8> {
    let s = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn reference_key(n: &[u8], e: u64) -> RsaPublicKey {
    RsaPublicKey::new_with_size_limits(
        BoxedUint::from_be_slice_vartime(n),
        BoxedUint::from(e),
        34..=16384,
    )
    .unwrap()
}

/// Big-endian, left-padded to `k` bytes.
fn to_bytes(x: &BoxedUint, k: usize) -> Vec<u8> {
    let b = x.to_be_bytes();
    let b = strip_leading_zeros(&b);
    let mut out = vec![0u8; k - b.len()];
    out.extend_from_slice(b);
    out
}

/// A random odd `bits`-bit integer, big-endian.
fn random_odd(rng: &mut TestRng, bits: usize) -> Vec<u8> {
    let mut n = rng.bytes(bits.div_ceil(8));
    let top_bits = bits - 8 * (n.len() - 1);
    n[0] &= 0xff >> (8 - top_bits);
    n[0] |= 1 << (top_bits - 1);
    *n.last_mut().unwrap() |= 1;
    n
}

/// A random value below `n` (same length), sometimes close to it.
fn random_below(rng: &mut TestRng, n: &[u8]) -> Vec<u8> {
    loop {
        let mut s = rng.bytes(n.len());
        match rng.below(4) {
            0 => s[..n.len() / 2].copy_from_slice(&n[..n.len() / 2]),
            1 => s[0] = 0,
            _ => s[0] &= n[0],
        }
        if s.as_slice() < n {
            return s;
        }
    }
}

#[test]
fn limb_helpers() {
    assert_eq!(limbs_from_be(&[1, 2, 3, 4, 5]), [0x0203_0405, 1]);
    assert_eq!(limbs_to_be(&[0x0203_0405, 1], 5), [1, 2, 3, 4, 5]);
    for n in [1u32, 3, 0xffff_ffff, 0x8000_0001, 12345] {
        assert_eq!(n.wrapping_mul(neg_inv_u32(n)), u32::MAX, "{n}");
    }
    assert!(less_than(&[5, 1], &[4, 2]));
    assert!(!less_than(&[4, 2], &[4, 2]));
}

#[test]
fn key_checks() {
    assert!(RsaKey::new(&[0xc5; 64], &[1, 0, 1]).is_ok());
    assert!(RsaKey::new(&[0, 0, 0xc5, 0xc5], &[0, 3]).is_ok());
    assert_eq!(RsaKey::new(&[0, 0xc5, 0xc5], &[3]).unwrap().bits(), 16);
    assert_eq!(RsaKey::new(&[0xc4; 64], &[3]).unwrap_err(), InvalidKey);
    assert!(RsaKey::new(&[0xc5; 64], &[1]).is_err());
    assert!(RsaKey::new(&[0xc5; 64], &[2]).is_err());
    assert!(RsaKey::new(&[0xc5; 64], &[]).is_err());
    assert!(RsaKey::new(&[], &[3]).is_err());
    assert!(RsaKey::new(&[3], &[3]).is_err());
    assert!(RsaKey::new(&[5], &[3]).is_ok());
    assert!(RsaKey::new(&[0xc5; 64], &[1; 9]).is_err());
}

/// `s^e mod n` through the fast path and through the reference crate, on
/// random odd moduli (the arithmetic does not need primes) of many sizes,
/// including one-limb-above and one-bit-above word boundaries, and the
/// exponents the parser accepts.
#[test]
fn public_op_matches_reference_on_random_moduli() {
    let mut rng = TestRng(1);
    let sizes = [
        34, 35, 63, 64, 65, 95, 96, 97, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024,
        1025, 2047, 2048, 2049, 3072, 3080, 3081, 4096,
    ];
    let per_modulus = iters(3, 20);
    for round in 0..iters(2, 10) {
        for &bits in &sizes {
            let n = random_odd(&mut rng, bits);
            let e = match round % 3 {
                0 => 65537,
                1 => 3,
                _ => (rng.next() % (1 << 33)) | 1 | 2,
            };
            let e = if bits <= 34 { e.min(65537) } else { e };
            let fast = RsaKey::new(&n, &e.to_be_bytes()).unwrap();
            let reference = reference_key(&n, e);
            assert_eq!(fast.bits(), reference.n().bits() as usize);
            assert_eq!(fast.size(), reference.size());
            let k = fast.size();
            let mut inputs: Vec<Vec<u8>> = (0..per_modulus)
                .map(|_| random_below(&mut rng, &n))
                .collect();
            let n_minus = |d: u8| {
                let mut v = n.clone();
                let mut borrow = d;
                for b in v.iter_mut().rev() {
                    let (x, o) = b.overflowing_sub(borrow);
                    *b = x;
                    borrow = u8::from(o);
                }
                v
            };
            inputs.extend([vec![0; k], n_minus(1), n_minus(2)]);
            let mut one = vec![0; k];
            one[k - 1] = 1;
            inputs.push(one.clone());
            one[k - 1] = 2;
            inputs.push(one);
            for s in inputs {
                let s_int = BoxedUint::from_be_slice(&s, reference.n_bits_precision()).unwrap();
                let want = to_bytes(&rsa_encrypt(&reference, &s_int).unwrap(), k);
                assert_eq!(
                    fast.public_op(&s).as_deref(),
                    Some(want.as_slice()),
                    "bits {bits} e {e} n {n:02x?} s {s:02x?}"
                );
                // Both radix-2^28 kernels, whichever the build uses.
                if let Some(lazy) = &fast.lazy {
                    let mut s32 = limbs_from_be(&s);
                    s32.resize(fast.n.len(), 0);
                    let len = fast.n.len();
                    for got in [lazy.pow_rows(&s32, e, len), lazy.pow_columns(&s32, e, len)] {
                        assert_eq!(limbs_to_be(&got, k), want, "bits {bits} e {e}");
                    }
                }
            }
            // s >= n and wrong lengths are refused before exponentiation.
            assert_eq!(fast.public_op(&n), None);
            assert_eq!(fast.public_op(&vec![0xff; k]), None);
            assert_eq!(fast.public_op(&vec![0; k - 1]), None);
            assert_eq!(fast.public_op(&vec![0; k + 1]), None);
        }
    }
}

/// A test key: the fast key, the reference public key and the private key
/// to sign with.
struct Key {
    fast: RsaKey,
    reference: RsaPublicKey,
    private: RsaPrivateKey,
}

fn key(p: &str, q: &str, e: u64) -> Key {
    let private = RsaPrivateKey::from_p_q(
        BoxedUint::from_be_slice_vartime(&hex(p)),
        BoxedUint::from_be_slice_vartime(&hex(q)),
        BoxedUint::from(e),
    )
    .unwrap();
    let reference = private.to_public_key();
    let n = reference.n().to_be_bytes();
    let fast = RsaKey::new(&n, &e.to_be_bytes()).unwrap();
    assert_eq!(fast.bits(), reference.n().bits() as usize);
    Key {
        fast,
        reference,
        private,
    }
}

impl Key {
    fn k(&self) -> usize {
        self.reference.size()
    }

    /// The raw private operation on an encoded message of `k` bytes.
    fn sign_raw(&self, em: &[u8]) -> Vec<u8> {
        self.try_sign_raw(em).unwrap()
    }

    /// `None` when `em` is not below the modulus.
    fn try_sign_raw(&self, em: &[u8]) -> Option<Vec<u8>> {
        assert_eq!(em.len(), self.k());
        if em >= self.n().as_slice() {
            return None;
        }
        let m = BoxedUint::from_be_slice(em, self.reference.n_bits_precision()).unwrap();
        let s = rsa_decrypt(None::<&mut TestRng>, &self.private, &m).unwrap();
        Some(to_bytes(&s, self.k()))
    }

    fn n(&self) -> Vec<u8> {
        to_bytes(self.reference.n().as_ref(), self.k())
    }
}

/// The verification this module replaced (`rsa` 0.10 with auto PSS salt).
fn reference_verify<D>(key: &RsaPublicKey, padding: Padding, msg: &[u8], sig: &[u8]) -> bool
where
    D: Digest + FixedOutputReset + AssociatedOid,
{
    let hashed = D::digest(msg);
    match padding {
        Padding::Pss => {
            let scheme = ::rsa::pss::Pss {
                blinded: false,
                digest: D::new(),
                salt_len: None,
            };
            key.verify(scheme, &hashed, sig).is_ok()
        }
        Padding::Pkcs1v15 => key
            .verify(::rsa::pkcs1v15::Pkcs1v15Sign::new::<D>(), &hashed, sig)
            .is_ok(),
    }
}

#[derive(Clone, Copy, Debug)]
enum H {
    S256,
    S384,
    S512,
}

const HASHES: [H; 3] = [H::S256, H::S384, H::S512];

impl H {
    fn len(self) -> usize {
        match self {
            H::S256 => 32,
            H::S384 => 48,
            H::S512 => 64,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            H::S256 => Sha256::digest(data).to_vec(),
            H::S384 => Sha384::digest(data).to_vec(),
            H::S512 => Sha512::digest(data).to_vec(),
        }
    }

    fn digest_info(self) -> &'static [u8] {
        match self {
            H::S256 => Sha256::DIGEST_INFO,
            H::S384 => Sha384::DIGEST_INFO,
            H::S512 => Sha512::DIGEST_INFO,
        }
    }
}

/// Fast and reference agree on (padding, hash, msg, sig); returns the verdict.
fn agree(key: &Key, padding: Padding, h: H, msg: &[u8], sig: &[u8]) -> bool {
    let (fast, reference) = match h {
        H::S256 => (
            key.fast.verify::<Sha256>(padding, msg, sig),
            reference_verify::<Sha256>(&key.reference, padding, msg, sig),
        ),
        H::S384 => (
            key.fast.verify::<Sha384>(padding, msg, sig),
            reference_verify::<Sha384>(&key.reference, padding, msg, sig),
        ),
        H::S512 => (
            key.fast.verify::<Sha512>(padding, msg, sig),
            reference_verify::<Sha512>(&key.reference, padding, msg, sig),
        ),
    };
    assert_eq!(
        fast,
        reference,
        "{} bits {padding:?} {h:?} msg {msg:02x?} sig {sig:02x?}",
        key.fast.bits()
    );
    fast
}

/// EMSA-PKCS1-v1_5 with `ps_len` 0xff bytes (normally k - 3 - |T|).
fn pkcs1_em(k: usize, digest_info: &[u8], hashed: &[u8]) -> Vec<u8> {
    let mut em = vec![0, 1];
    em.resize(k - digest_info.len() - hashed.len() - 1, 0xff);
    em.push(0);
    em.extend_from_slice(digest_info);
    em.extend_from_slice(hashed);
    em
}

fn mgf1(h: H, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut counter = 0u32;
    while out.len() < len {
        let mut input = seed.to_vec();
        input.extend_from_slice(&counter.to_be_bytes());
        out.extend(h.digest(&input));
        counter += 1;
    }
    out.truncate(len);
    out
}

/// EMSA-PSS-ENCODE (RFC 8017 §9.1.1), left-padded to `k` bytes; `tweak`
/// edits DB (before masking) to build malformed encodings.
fn pss_em(
    k: usize,
    bits: usize,
    h: H,
    m_hash: &[u8],
    salt: &[u8],
    tweak: impl Fn(&mut Vec<u8>),
) -> Vec<u8> {
    let em_bits = bits - 1;
    let em_len = em_bits.div_ceil(8);
    let mut m_prime = vec![0u8; 8];
    m_prime.extend_from_slice(m_hash);
    m_prime.extend_from_slice(salt);
    let hh = h.digest(&m_prime);
    let db_len = em_len - h.len() - 1;
    let mut db = vec![0u8; db_len - salt.len() - 1];
    db.push(1);
    db.extend_from_slice(salt);
    tweak(&mut db);
    let mask = mgf1(h, &hh, db_len);
    let mut em: Vec<u8> = db.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
    em[0] &= 0xff >> (8 * em_len - em_bits);
    em.extend_from_slice(&hh);
    em.push(0xbc);
    let mut out = vec![0u8; k - em_len];
    out.extend(em);
    out
}

fn flip_bit(rng: &mut TestRng, v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    let i = rng.below(v.len() * 8);
    v[i / 8] ^= 1 << (i % 8);
    v
}

fn keys() -> Vec<Key> {
    KEYS.iter()
        .map(|(bits, e, p, q)| {
            let k = key(p, q, *e);
            assert_eq!(k.fast.bits(), *bits);
            k
        })
        .collect()
}

/// Valid PKCS#1 v1.5 and PSS signatures (PSS with salts of 0, 1, hLen and
/// the maximum length) on random messages verify on both paths, and so do
/// their random corruptions fail on both: bit flips in the signature or the
/// message, the other hashes, the other padding, truncated or extended
/// signatures, and s = 0, 1, n - 1, n, n + 1.
#[test]
fn signatures_match_reference_on_random_messages() {
    let mut rng = TestRng(2);
    let mut valid = 0;
    let mut total = 0;
    for key in keys() {
        let k = key.k();
        let bits = key.fast.bits();
        let rounds = iters(2, 40) * if bits > 2100 { 1 } else { 3 };
        for _ in 0..rounds {
            let h = HASHES[rng.below(3)];
            let len = rng.below(200);
            let msg = rng.bytes(len);
            let hashed = h.digest(&msg);
            let max_salt = (bits - 1).div_ceil(8) - h.len() - 2;
            let salt_len =
                [0, 1, h.len(), max_salt, rng.below(max_salt + 1)][rng.below(5)].min(max_salt);
            let salt = rng.bytes(salt_len);
            for padding in [Padding::Pkcs1v15, Padding::Pss] {
                let em = match padding {
                    Padding::Pkcs1v15 => pkcs1_em(k, h.digest_info(), &hashed),
                    Padding::Pss => pss_em(k, bits, h, &hashed, &salt, |_| {}),
                };
                let sig = key.sign_raw(&em);
                assert!(
                    agree(&key, padding, h, &msg, &sig),
                    "{bits} {padding:?} {h:?}"
                );
                valid += 1;
                let other_padding = match padding {
                    Padding::Pkcs1v15 => Padding::Pss,
                    Padding::Pss => Padding::Pkcs1v15,
                };
                let mut cases = vec![
                    (padding, h, msg.clone(), flip_bit(&mut rng, &sig)),
                    (
                        padding,
                        h,
                        flip_bit(&mut rng, &[msg.as_slice(), b"x"].concat()),
                        sig.clone(),
                    ),
                    (other_padding, h, msg.clone(), sig.clone()),
                    (
                        padding,
                        HASHES[(h as usize + 1) % 3],
                        msg.clone(),
                        sig.clone(),
                    ),
                    (padding, h, msg.clone(), sig[1..].to_vec()),
                    (padding, h, msg.clone(), [&[0u8][..], &sig].concat()),
                    (padding, h, msg.clone(), [&sig[..], &[0u8][..]].concat()),
                    (padding, h, msg.clone(), Vec::new()),
                    (padding, h, msg.clone(), vec![0; k]),
                    (padding, h, msg.clone(), vec![0xff; k]),
                    (padding, h, msg.clone(), key.n()),
                    (padding, h, msg.clone(), rng.bytes(k)),
                ];
                let mut n_plus_minus = key.n();
                *n_plus_minus.last_mut().unwrap() -= 1;
                cases.push((padding, h, msg.clone(), n_plus_minus.clone()));
                *n_plus_minus.last_mut().unwrap() += 2;
                cases.push((padding, h, msg.clone(), n_plus_minus));
                let mut one = vec![0; k];
                one[k - 1] = 1;
                cases.push((padding, h, msg.clone(), one));
                for (padding, h, msg, sig) in cases {
                    assert!(!agree(&key, padding, h, &msg, &sig));
                    total += 1;
                }
            }
        }
    }
    total += valid;
    assert!(valid >= iters(50, 1000), "{valid} valid of {total}");
}

/// Wycheproof-style malformed encodings, each signed with the private key so
/// that only the padding is wrong; both paths must agree (and reject, except
/// where noted).
/// Moduli too small for the hash: PKCS#1 v1.5 needs k >= |T| + 11 and PSS
/// emLen >= hLen + 2; both paths reject (the reference is not asked for
/// PSS when emLen < hLen + 2, where it would panic).
#[test]
fn small_moduli_are_rejected_for_large_hashes() {
    let mut rng = TestRng(4);
    for bits in [34, 64, 256, 400, 496, 512, 600, 752, 760, 768, 776, 1000] {
        let n = random_odd(&mut rng, bits);
        let fast = RsaKey::new(&n, &[3]).unwrap();
        let reference = reference_key(&n, 3);
        let k = fast.size();
        for _ in 0..iters(3, 30) {
            let sig = random_below(&mut rng, &n);
            let msg = rng.bytes(10);
            for h in HASHES {
                let pkcs1_ok = k >= h.digest_info().len() + h.len() + 11;
                let f = match h {
                    H::S256 => fast.verify::<Sha256>(Padding::Pkcs1v15, &msg, &sig),
                    H::S384 => fast.verify::<Sha384>(Padding::Pkcs1v15, &msg, &sig),
                    H::S512 => fast.verify::<Sha512>(Padding::Pkcs1v15, &msg, &sig),
                };
                let r = match h {
                    H::S256 => {
                        reference_verify::<Sha256>(&reference, Padding::Pkcs1v15, &msg, &sig)
                    }
                    H::S384 => {
                        reference_verify::<Sha384>(&reference, Padding::Pkcs1v15, &msg, &sig)
                    }
                    H::S512 => {
                        reference_verify::<Sha512>(&reference, Padding::Pkcs1v15, &msg, &sig)
                    }
                };
                assert_eq!(f, r);
                assert!(!f);
                let _ = pkcs1_ok;
                let pss = match h {
                    H::S256 => fast.verify::<Sha256>(Padding::Pss, &msg, &sig),
                    H::S384 => fast.verify::<Sha384>(Padding::Pss, &msg, &sig),
                    H::S512 => fast.verify::<Sha512>(Padding::Pss, &msg, &sig),
                };
                assert!(!pss);
                if (bits - 1).div_ceil(8) >= h.len() + 2 {
                    let r = match h {
                        H::S256 => reference_verify::<Sha256>(&reference, Padding::Pss, &msg, &sig),
                        H::S384 => reference_verify::<Sha384>(&reference, Padding::Pss, &msg, &sig),
                        H::S512 => reference_verify::<Sha512>(&reference, Padding::Pss, &msg, &sig),
                    };
                    assert!(!r);
                }
            }
        }
    }
}

/// Test keys (bits, e, p, q in hex), primes made with a seeded Python
/// Miller-Rabin so that the odd sizes come out exact.
pub(super) const KEYS: &[(usize, u64, &str, &str)] = &[
    (
        1024,
        3,
        "e115976234446b5927a075bb552cbbe079895d2e3680df909cdaf6d7a4bf43a3358ad2ff88bdf93146a9c63ab6233f485fcd8898f8ead6de4d6b71f013d40e8f",
        "f0e6101b4a660763a2015a5294c2cc805c4e96e2e9e9d9eaeeb4e576c8576e88609b6d0dbc4a6fc7afce6f53351b79436d6996c243cf2c47d760de96db9dd20d",
    ),
    (
        1025,
        65537,
        "d4cf69f5d84fff9167ea7daf7c52136442011edb3a7d521283d443eadf25194939e1a801f1de63f8fb7591b56803d756cebda555aa79ba4d8020a45f7445402d",
        "188ad164539f8ad4ae857726ec115c5fad9dba5c16ff8556265b4970cf7c1c66edbbcc1d8a006afb4d3a501a192d77c1faad63aacff050707b1ca11a708491417",
    ),
    (
        1031,
        3,
        "63e4b9119033c740a367ad2a8c83adc50741608d7173edcb6240bae6f517fca5178d5eacf71d98dc0b9c2c0a4c67f9f0101483285b10a3e42afc3715b578d92d7",
        "c0a333fc4ccb8eaff9cc6a9358ba2bd42531ec6b5844c942fd12109787e83599b67b4a2bba7ebd74d3196c9b07ae05c54fee4440842798a8054d7dab70b24746b",
    ),
    (
        2048,
        65537,
        "db0b5c545b50f8d35814669bc6d1cdbcd268d63d2365dda6c175e6b736f58c9f00de5a69dd83f5e1f61075739e0982d4be675d569c85b8fff80ae62419ba761d6c74107bfd352f8be8e54d3d6c12d2cbfa8367c641a9c80f05a6113a0cbd0d3bd613918192cc1779aa5980e42b5ea2715b8af04e13c243d3d4f158cbdc9fd67d",
        "cb47987daaa77515acab759f422c0588e35222dc8717354ce77ad294ab2c32490560ac873c50d177215de83eed28e4df13a337d389c1d99088e7c8571f3a2f1ec06f239c3be333cccbbabe5840f25fdc2a9e039156c26a79185c77e38eade175bc060891681c7a981f096a8829cb9af57e7b4c9c3b26d5b975c653683ad677d9",
    ),
    (
        2049,
        65537,
        "d99b1974e29b3425dd0c2e43ce04f0585adc53190ebe3f9e6f653e3b37c78e29163f867bd19d6ace684f2d04b372ba0b0b24d8f4767e3cb830937734c1ef9d5c7a88c95f4fb64d8770aa0d0ddaad71822851438804eafb79144c35ccb235597dc30df496a8f74798f141777295bb9ad335e57005b40a43dfdb3f99d534a63465",
        "1fcf68abb0ffbac68f9b7de83d88d7c40772b4f6f62efa7616ec2dc832dcd1cf3e362646373e292deb62523bbcde7538a5ed55fbb0fe1e903811e30cce3591b5e6278534cbd6c8eb429bb942255417a3c84182ab436ff29228aae80737566b1f8dadc9fd7cdf63288378d8cbc759d30d932a0415ce7409c0b0115c0d6133fa7d5",
    ),
    (
        3072,
        3,
        "f886a85216663ab4404a240e00b1abbd31de2f97e055b2d30b0f98a3c98b3abf2c28af86a0e4dfa80be28620007d5171570ec31c2a31bd50387fa2edb2245bdc7f367bc8d653e5c33d98210ee462399043c6e4e28c944930594094933e301f84fcaf920bff6e8870d0c2b8bb4bc44a543f0019296b032f09a16390a437f1d92855b9a6ab10bc2a7fa302e0bf0daec6de22d6c236c1866844d032f09daff52eae95c032a16b322c8d7e275d301944205958ef5d7c7d98457444a682b4b4648585",
        "d1312ca6ba9aeb79c6aa55f307cb1bbc55b637a06375e09847e9fa3ab9387e29f8cba5f3175324d355bdef8ada5cdb52cda123203c9310a5583ba82ef0862c6ef042d03b6466c52a595e894d4c0c63897a27957603a33675ff1e4d9920b35ee696397b12239421f9beb28e65cd35abf379fd558218ef3eb0561d6f20e4207313ae2bb84b22415a40c1c5b93533219c056de1a213b051757aee27b29c870f3d171b3be6c43b915a425227a97ce96c00d78069c025991617a1681559cd10b18c6b",
    ),
    (
        4096,
        65537,
        "d4160ad9c4bff6cbc28fb1704529fcada7ccec9ecf93186d5bd1dfa5f2fd88f5bd3d8bff53e3330c8cd665bb704bff4b7b9bdd2fd45adab5564eab3dfef3edf516498dc7383538bbe84c52cad259153120ecf91101fb4610dc32e05a48859172094f3dd76403321db7212bb04028867b9c79340c714ebfb9cfaa59a5d351b720faa82cc9e7947f6365b1e966fe01fe36db148d540c40f8bd6bb329d854061dafcf35c7335fe7eeec923c077b1ffd03ae2ecec3a714abeb10d12190e3f481105931fd78a28fc40f11a44d809635c3a060cc08225da0fe3f9c71816ce3c8e7bc9ac1d2235d2c5eb80c8ed23b9b99767199809b7e26235a1ab32338023f1c4a6bab",
        "e448609823ebbbd536ae9a609cf1dd9488da87e4be70192fa4a35d15aebfaa2569a18e7c3b34a64a67ec19de12d2f7b30ce0fea6f90c91ea77c470da6b92f558289b9d8ebcd1936294e1556b3c83a04464c5ba204f6ec3ca8c324ab201d7477dc27ed4ea50610dba0061a8ad9e39843e0e4ba574d36e49c16844d8d5bf76e5b573c8aa94a7e5bb64536cd3b7471e5c7d07e13bfa463e5ed1dea8d2b14dbb5ea6d1834a235d9078de18a2bcdef6aea272a85c350c9efe4917275e4baf6c2e561c39448656ffe0df57a4a7ae4c1d554552fae531bede48380cf2ea94b4a8ecebee00597923f9115c6627f7be8cdab61932646ae58df2748e2599d27b77cbfad98b",
    ),
];

mod encodings;
