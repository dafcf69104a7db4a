//! Cross-checks against the `p256` crate, whose verdicts are the
//! specification here: random keys and messages with many corruptions, and
//! signatures built to reach the rare paths (x(R) >= n, R at infinity,
//! Q = +-G, doubling inside the table additions, hashes >= n).

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::Field;
use p256::{FieldBytes, ProjectivePoint, Scalar};

use super::*;

/// Random signatures per run, each also checked with eight corruptions.
/// A debug build verifies at about 300/s, so `cargo test` stays quick;
/// `cargo test --release --lib ecdsa_p256` runs the thorough version.
const ROUNDS: usize = if cfg!(debug_assertions) { 60 } else { 2000 };

const N_BYTES: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes<const L: usize>(&mut self) -> [u8; L] {
        let mut out = [0u8; L];
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        out
    }

    fn scalar(&mut self) -> Scalar {
        loop {
            let s = Scalar::reduce(&FieldBytes::from(self.bytes::<32>()));
            if !bool::from(s.is_zero()) {
                return s;
            }
        }
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn bytes(s: &Scalar) -> [u8; 32] {
    s.to_bytes().into()
}

/// The verdict of the code this module replaced (src/jws.rs before it).
fn reference(vk: &VerifyingKey, prehash: &[u8], r: &[u8; 32], s: &[u8; 32]) -> bool {
    Signature::from_scalars(*r, *s).is_ok_and(|sig| vk.verify_prehash(prehash, &sig).is_ok())
}

/// A key in both representations.
struct Pair {
    vk: VerifyingKey,
    ours: PublicKey,
}

impl Pair {
    fn from_point(p: &ProjectivePoint) -> Pair {
        let vk = VerifyingKey::from_affine(p.to_affine()).unwrap();
        let ours = PublicKey::from_sec1(vk.to_sec1_point(false).as_bytes()).unwrap();
        Pair { vk, ours }
    }

    fn from_secret(d: &Scalar) -> Pair {
        Pair::from_point(&(ProjectivePoint::GENERATOR * d))
    }

    /// Both verdicts, which must agree.
    fn verify(&self, prehash: &[u8], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let expected = reference(&self.vk, prehash, r, s);
        let got = self.ours.verify_prehash(prehash, r, s);
        assert_eq!(
            got, expected,
            "prehash {prehash:02x?}, r {r:02x?}, s {s:02x?}"
        );
        got
    }
}

fn x_mod_n(p: &ProjectivePoint) -> Scalar {
    Scalar::reduce(&p.to_affine().x())
}

/// A signature that makes the verifier compute exactly `u1 G + u2 Q`
/// (Q = dG): prehash e = u1 s, r = x(R) mod n, s = r / u2. `None` when R
/// is infinite or r is 0.
fn forge(d: &Scalar, u1: &Scalar, u2: &Scalar) -> Option<([u8; 32], [u8; 32], [u8; 32])> {
    let k = *u1 + *u2 * d;
    if bool::from(k.is_zero()) {
        return None;
    }
    let r = x_mod_n(&(ProjectivePoint::GENERATOR * k));
    let s = r * u2.invert().unwrap();
    let e = *u1 * s;
    (!bool::from(r.is_zero())).then(|| (bytes(&e), bytes(&r), bytes(&s)))
}

fn neg_bytes(s: &[u8; 32]) -> [u8; 32] {
    let v = u256::from_be_bytes(s);
    u256::to_be_bytes(&u256::sub(&scalar::N, &v).0)
}

#[test]
fn random_signatures_and_corruptions_agree_with_the_p256_crate() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut accepted = 0;
    let mut keys = vec![];
    for round in 0..ROUNDS {
        // A new key every 4 rounds: tables are per key.
        if round % 4 == 0 {
            let d = rng.scalar();
            keys.push((
                SigningKey::from_bytes(&d.to_bytes()).unwrap(),
                Pair::from_secret(&d),
            ));
        }
        let (sk, pair) = keys.last().unwrap();
        let len = [32, 48, 64][round % 3];
        let hash: [u8; 64] = rng.bytes();
        let prehash = &hash[..len];
        let sig: Signature = sk.sign_prehash(prehash).unwrap();
        let (r, s): ([u8; 32], [u8; 32]) = (sig.r().to_bytes().into(), sig.s().to_bytes().into());
        assert!(pair.verify(prehash, &r, &s));
        accepted += 1;
        // High S is accepted too.
        assert!(pair.verify(prehash, &r, &neg_bytes(&s)));
        let bit = rng.below(256);
        let flip = |v: &[u8; 32]| {
            let mut v = *v;
            v[bit / 8] ^= 1 << (bit % 8);
            v
        };
        pair.verify(prehash, &flip(&r), &s);
        pair.verify(prehash, &r, &flip(&s));
        pair.verify(prehash, &s, &r);
        pair.verify(prehash, &neg_bytes(&r), &s);
        let mut other = hash;
        other[rng.below(len)] ^= 1 << rng.below(8);
        pair.verify(&other[..len], &r, &s);
        // Truncation: bytes past the first 32 never matter.
        if len > 32 {
            assert!(pair.verify(&other[..32], &r, &s) == (other[..32] == hash[..32]));
        }
        if let Some((_, previous)) = keys.iter().rev().nth(1) {
            assert!(!previous.verify(prehash, &r, &s));
        }
    }
    assert_eq!(accepted, ROUNDS);
}

#[test]
fn out_of_range_r_and_s_are_refused() {
    let d = Scalar::from(0x1234_5678u64);
    let pair = Pair::from_secret(&d);
    let sk = SigningKey::from_bytes(&d.to_bytes()).unwrap();
    let prehash = [0x42u8; 32];
    let sig: Signature = sk.sign_prehash(&prehash).unwrap();
    let (r, s): ([u8; 32], [u8; 32]) = (sig.r().to_bytes().into(), sig.s().to_bytes().into());
    assert!(pair.verify(&prehash, &r, &s));
    let n_minus_1 = neg_bytes(&bytes(&Scalar::ONE));
    let mut one = [0u8; 32];
    one[31] = 1;
    for bad in [[0u8; 32], N_BYTES, [0xff; 32], n_minus_1, one] {
        assert!(!pair.verify(&prehash, &bad, &s));
        assert!(!pair.verify(&prehash, &r, &bad));
        assert!(!pair.verify(&prehash, &bad, &bad));
    }
    // r + n (still 256 bits when r is small) is not r.
    let small_r = bytes(&Scalar::from(5u64));
    let plus_n = u256::to_be_bytes(&u256::add(&u256::from_be_bytes(&small_r), &scalar::N).0);
    assert!(!pair.verify(&prehash, &plus_n, &s));
}

/// Points with x just above n (so r = x - n) or tiny x, by decompression.
fn points_with_x_from(start: [u8; 32], count: usize) -> Vec<(ProjectivePoint, [u8; 32])> {
    let mut out = vec![];
    let mut x = u256::from_be_bytes(&start);
    while out.len() < count {
        let xb = u256::to_be_bytes(&x);
        let mut sec1 = vec![0x02];
        sec1.extend_from_slice(&xb);
        if let Ok(vk) = VerifyingKey::from_sec1_bytes(&sec1) {
            out.push((ProjectivePoint::from(*vk.as_affine()), xb));
        }
        x = u256::add(&x, &[1, 0, 0, 0, 0, 0, 0, 0]).0;
    }
    out
}

#[test]
fn x_of_r_at_or_above_n_is_compared_mod_n() {
    let mut rng = Rng(77);
    for (point, x) in points_with_x_from(N_BYTES, 6) {
        // r = x - n, and a key Q that makes u1 G + u2 Q land on the point:
        // Q = (s R - e G) / r.
        let r_int = u256::sub(&u256::from_be_bytes(&x), &scalar::N).0;
        assert!(u256::lt(&r_int, &P_MINUS_N));
        let r = Scalar::reduce(&FieldBytes::from(u256::to_be_bytes(&r_int)));
        let (e, s) = (rng.scalar(), rng.scalar());
        let q = (point * s - ProjectivePoint::GENERATOR * e) * r.invert().unwrap();
        let pair = Pair::from_point(&q);
        let (e, r, s) = (bytes(&e), bytes(&r), bytes(&s));
        assert!(pair.verify(&e, &r, &s), "r + n = x(R) must verify");
        assert!(!pair.verify(&e, &x, &s), "x(R) itself is out of range");
        assert!(pair.verify(&e, &r, &neg_bytes(&s)), "and so does -R");
    }
}

#[test]
fn small_x_of_r_is_not_confused_with_x_minus_n() {
    let mut rng = Rng(78);
    let mut start = [0u8; 32];
    start[31] = 1;
    for (point, x) in points_with_x_from(start, 4) {
        let r = Scalar::reduce(&FieldBytes::from(x));
        let (e, s) = (rng.scalar(), rng.scalar());
        let q = (point * s - ProjectivePoint::GENERATOR * e) * r.invert().unwrap();
        let pair = Pair::from_point(&q);
        assert!(pair.verify(&bytes(&e), &x, &bytes(&s)));
    }
}

#[test]
fn r_at_infinity_is_refused() {
    let mut rng = Rng(79);
    for _ in 0..8 {
        // d = -e / r makes u1 G + u2 Q = (e + r d) / s G the identity.
        let (e, r, s) = (rng.scalar(), rng.scalar(), rng.scalar());
        let d = -(e * r.invert().unwrap());
        let pair = Pair::from_secret(&d);
        assert!(!pair.verify(&bytes(&e), &bytes(&r), &bytes(&s)));
    }
}

#[test]
fn keys_plus_and_minus_g_and_colliding_table_additions() {
    let mut rng = Rng(80);
    let small = |v: u64| Scalar::from(v);
    let two64 = small(1 << 32) * small(1 << 32);
    for d in [Scalar::ONE, -Scalar::ONE, small(3), small(5), two64, -two64] {
        let pair = Pair::from_secret(&d);
        let random = (0..6).map(|_| (rng.scalar(), rng.scalar()));
        let chosen = [1u64, 2, 3, 5, 31, 63, 255, (1 << 32) - 1, 1 << 32, 1 << 40]
            .map(|v| (small(v), small(v)));
        let mixed = [
            (small(3), small(1)),
            (small(1), small(3)),
            (two64, small(1)),
        ];
        for (u1, u2) in random.chain(chosen).chain(mixed) {
            match forge(&d, &u1, &u2) {
                Some((e, r, s)) => assert!(pair.verify(&e, &r, &s)),
                // R at infinity: any r and s that give these u1, u2.
                None => {
                    let r = small(7);
                    let s = r * u2.invert().unwrap();
                    assert!(!pair.verify(&bytes(&(u1 * s)), &bytes(&r), &bytes(&s)));
                }
            }
        }
    }
}

#[test]
fn hashes_at_or_above_n_and_zero_hashes() {
    let mut rng = Rng(81);
    let d = rng.scalar();
    let pair = Pair::from_secret(&d);
    for e in [
        Scalar::ZERO,
        Scalar::ONE,
        Scalar::from(12345u64),
        -Scalar::ONE,
    ] {
        // Sign e with nonce k: s = (e + r d) / k.
        let k = rng.scalar();
        let r = x_mod_n(&(ProjectivePoint::GENERATOR * k));
        let s = (e + r * d) * k.invert().unwrap();
        let (r, s) = (bytes(&r), bytes(&s));
        assert!(pair.verify(&bytes(&e), &r, &s));
        // e + n, when it fits in 256 bits, is the same hash.
        let (plus_n, carry) = u256::add(&u256::from_be_bytes(&bytes(&e)), &scalar::N);
        if !carry {
            assert!(pair.verify(&u256::to_be_bytes(&plus_n), &r, &s));
        }
    }
    let (r, s) = (bytes(&rng.scalar()), bytes(&rng.scalar()));
    pair.verify(&[0xff; 32], &r, &s);
    pair.verify(&N_BYTES, &r, &s);
}

#[test]
fn key_decoding_refuses_what_the_p256_crate_refuses() {
    let pair = Pair::from_secret(&Scalar::from(99u64));
    let point = pair.vk.to_sec1_point(false);
    let good = point.as_bytes();
    let compressed = pair.vk.to_sec1_point(true);
    let from_compressed = PublicKey::from_sec1(compressed.as_bytes()).unwrap();
    assert_eq!(from_compressed.table, pair.ours.table);
    let mut off_curve = good.to_vec();
    off_curve[64] ^= 1;
    assert_eq!(PublicKey::from_sec1(&off_curve).unwrap_err(), InvalidPoint);
    assert!(PublicKey::from_sec1(&[0x00]).is_err(), "identity");
    let mut big_x = vec![0x04];
    big_x.extend([0xff; 64]);
    assert!(PublicKey::from_sec1(&big_x).is_err());
    assert!(PublicKey::from_sec1(&good[..64]).is_err());
    // Our own coordinate checks, behind the crate's.
    let x: [u8; 32] = good[1..33].try_into().unwrap();
    let y: [u8; 32] = good[33..].try_into().unwrap();
    assert!(PublicKey::from_affine(&x, &y).is_ok());
    assert!(PublicKey::from_affine(&x, &x).is_err());
    assert!(PublicKey::from_affine(&[0xff; 32], &y).is_err());
    assert_eq!(format!("{:?}", pair.ours), "P-256 public key");
}

#[test]
fn hash_to_int_keeps_the_leftmost_256_bits() {
    let mut h = [0u8; 64];
    h[0] = 0xab;
    h[31] = 0x01;
    h[32] = 0xcd;
    let v = hash_to_int(&h);
    assert_eq!(u256::to_be_bytes(&v)[..], h[..32]);
    assert_eq!(hash_to_int(&[7])[0], 7);
}
