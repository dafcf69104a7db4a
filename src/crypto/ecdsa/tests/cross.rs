//! Verdicts of our verifier and the reference crate, which must agree, on
//! random and on constructed signatures. One macro, instantiated per curve
//! with that curve's crate (their APIs have the same shape).

use super::*;

/// Random signatures per run, each also checked with eight corruptions.
/// Debug builds verify slowly, so `cargo test` stays quick;
/// `cargo test --release --lib ecdsa` runs the thorough version.
const fn rounds(debug: usize, release: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

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

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn be<U: Uint>(v: &U) -> Vec<u8> {
    uint::to_be_bytes(v)
}

/// `n - v` (for s: the other of a high/low-S pair).
fn neg_mod_n<C: Curve>(v: &[u8]) -> Vec<u8> {
    be(&C::N.sub(&C::Uint::from_be_bytes(v).unwrap()).0)
}

macro_rules! cross_checks {
    ($name:ident, $krate:ident, $curve:ty, $bytes:literal, $rounds:expr, $chunk_bits:literal) => {
        mod $name {
            use ::$krate::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
            use ::$krate::ecdsa::{Signature, SigningKey, VerifyingKey};
            use ::$krate::elliptic_curve::ops::Reduce;
            use ::$krate::elliptic_curve::point::AffineCoordinates;
            use ::$krate::{FieldBytes, ProjectivePoint, Scalar};

            use super::*;

            type C = $curve;
            type Bytes = [u8; $bytes];

            fn scalar(rng: &mut Rng) -> Scalar {
                loop {
                    let s = Scalar::reduce(&FieldBytes::from(rng.bytes::<$bytes>()));
                    if !is_zero(&s) {
                        return s;
                    }
                }
            }

            fn is_zero(s: &Scalar) -> bool {
                bool::from(::$krate::elliptic_curve::Field::is_zero(s))
            }

            fn bytes(s: &Scalar) -> Bytes {
                s.to_bytes().into()
            }

            fn small(v: u64) -> Scalar {
                Scalar::from(v)
            }

            /// The verdict of the code this module replaced.
            fn reference(vk: &VerifyingKey, prehash: &[u8], r: &[u8], s: &[u8]) -> bool {
                let (Ok(r), Ok(s)) = (Bytes::try_from(r), Bytes::try_from(s)) else {
                    return false;
                };
                Signature::from_scalars(r, s)
                    .is_ok_and(|sig| vk.verify_prehash(prehash, &sig).is_ok())
            }

            /// A key in both representations.
            struct Pair {
                vk: VerifyingKey,
                ours: PublicKey<C>,
            }

            impl Pair {
                fn from_point(p: &ProjectivePoint) -> Pair {
                    let vk = VerifyingKey::from_affine(p.to_affine()).unwrap();
                    let sec1 = vk.to_sec1_point(false);
                    let ours = PublicKey::from_sec1(sec1.as_bytes()).unwrap();
                    Pair { vk, ours }
                }

                fn from_secret(d: &Scalar) -> Pair {
                    Pair::from_point(&(ProjectivePoint::GENERATOR * d))
                }

                /// Both verdicts, which must agree.
                fn verify(&self, prehash: &[u8], r: &[u8], s: &[u8]) -> bool {
                    let expected = reference(&self.vk, prehash, r, s);
                    let got = self.ours.verify_prehash(prehash, r, s);
                    assert_eq!(got, expected, "hash {prehash:02x?}, r {r:02x?}, s {s:02x?}");
                    got
                }
            }

            fn x_mod_n(p: &ProjectivePoint) -> Scalar {
                Scalar::reduce(&p.to_affine().x())
            }

            /// A signature that makes the verifier compute exactly
            /// `u1 G + u2 Q` (Q = dG): hash e = u1 s, r = x(R) mod n,
            /// s = r / u2. `None` when R is infinite or r is 0.
            fn forge(d: &Scalar, u1: &Scalar, u2: &Scalar) -> Option<(Bytes, Bytes, Bytes)> {
                let k = *u1 + *u2 * d;
                if is_zero(&k) {
                    return None;
                }
                let r = x_mod_n(&(ProjectivePoint::GENERATOR * k));
                let s = r * u2.invert().unwrap();
                let e = *u1 * s;
                (!is_zero(&r)).then(|| (bytes(&e), bytes(&r), bytes(&s)))
            }

            #[test]
            fn random_signatures_and_corruptions() {
                let mut rng = Rng(0x5eed_1234_abcd_0001);
                let mut keys = vec![];
                for round in 0..$rounds {
                    // A new key every 4 rounds: tables are per key.
                    if round % 4 == 0 {
                        let d = scalar(&mut rng);
                        let sk = SigningKey::from_bytes(&d.to_bytes()).unwrap();
                        keys.push((sk, Pair::from_secret(&d)));
                    }
                    let (sk, pair) = keys.last().unwrap();
                    let len = [32, 48, 64][round % 3];
                    let hash: [u8; 64] = rng.bytes();
                    let prehash = &hash[..len];
                    let sig: Signature = sk.sign_prehash(prehash).unwrap();
                    let (r, s): (Bytes, Bytes) =
                        (sig.r().to_bytes().into(), sig.s().to_bytes().into());
                    assert!(pair.verify(prehash, &r, &s));
                    // High S is accepted too.
                    assert!(pair.verify(prehash, &r, &neg_mod_n::<C>(&s)));
                    let bit = rng.below(8 * $bytes);
                    let flip = |v: &Bytes| {
                        let mut v = *v;
                        v[bit / 8] ^= 1 << (bit % 8);
                        v
                    };
                    pair.verify(prehash, &flip(&r), &s);
                    pair.verify(prehash, &r, &flip(&s));
                    pair.verify(prehash, &s, &r);
                    pair.verify(prehash, &neg_mod_n::<C>(&r), &s);
                    let mut other = hash;
                    other[rng.below(len)] ^= 1 << rng.below(8);
                    pair.verify(&other[..len], &r, &s);
                    // Bytes past the curve's size never matter.
                    if len > $bytes {
                        let same = other[..$bytes] == hash[..$bytes];
                        assert_eq!(pair.verify(&other[..$bytes], &r, &s), same);
                    }
                    if let Some((_, previous)) = keys.iter().rev().nth(1) {
                        assert!(!previous.verify(prehash, &r, &s));
                    }
                }
            }

            #[test]
            fn out_of_range_r_and_s_are_refused() {
                let d = small(0x1234_5678);
                let pair = Pair::from_secret(&d);
                let sk = SigningKey::from_bytes(&d.to_bytes()).unwrap();
                let prehash = [0x42u8; 48];
                let sig: Signature = sk.sign_prehash(&prehash).unwrap();
                let (r, s): (Bytes, Bytes) = (sig.r().to_bytes().into(), sig.s().to_bytes().into());
                assert!(pair.verify(&prehash, &r, &s));
                let n = be(&C::N);
                let n_minus_1 = neg_mod_n::<C>(&bytes(&Scalar::ONE));
                let one = bytes(&Scalar::ONE);
                for bad in [
                    vec![0u8; $bytes],
                    n,
                    vec![0xff; $bytes],
                    n_minus_1,
                    one.to_vec(),
                ] {
                    assert!(!pair.verify(&prehash, &bad, &s));
                    assert!(!pair.verify(&prehash, &r, &bad));
                    assert!(!pair.verify(&prehash, &bad, &bad));
                }
                // r + n (still in range of the encoding when r is small) is not r.
                let two = <C as Curve>::Uint::ONE.add(&<C as Curve>::Uint::ONE).0;
                let plus_n = be(&C::N.add(&two).0);
                assert!(!pair.verify(&prehash, &plus_n, &s));
                // Wrong lengths never verify (the dispatcher pads first).
                assert!(!pair.ours.verify_prehash(&prehash, &r[1..], &s));
            }

            /// Points whose x counts up from `start`, by decompression.
            fn points_with_x_from(start: &[u8], count: usize) -> Vec<(ProjectivePoint, Vec<u8>)> {
                let mut out = vec![];
                let mut x = <C as Curve>::Uint::from_be_bytes(start).unwrap();
                while out.len() < count {
                    let mut sec1 = vec![0x02];
                    sec1.extend(be(&x));
                    if let Ok(vk) = VerifyingKey::from_sec1_bytes(&sec1) {
                        out.push((ProjectivePoint::from(*vk.as_affine()), be(&x)));
                    }
                    x = x.add(&<C as Curve>::Uint::ONE).0;
                }
                out
            }

            /// A key Q that makes u1 G + u2 Q land on `point` for a given
            /// r, e and s: Q = (s R - e G) / r.
            fn key_through(point: &ProjectivePoint, r: &Scalar, e: &Scalar, s: &Scalar) -> Pair {
                let q = (*point * s - ProjectivePoint::GENERATOR * e) * r.invert().unwrap();
                Pair::from_point(&q)
            }

            #[test]
            fn x_of_r_at_or_above_n_is_compared_mod_n() {
                let mut rng = Rng(77);
                // From n + 1: x(R) = n would mean r = 0, never a signature.
                let n_plus_1 = C::N.add(&<C as Curve>::Uint::ONE).0;
                for (point, x) in points_with_x_from(&be(&n_plus_1), 6) {
                    let r_int = <C as Curve>::Uint::from_be_bytes(&x).unwrap().sub(&C::N).0;
                    assert!(r_int.less_than(&C::P_MINUS_N));
                    let r_bytes: Bytes = be(&r_int).try_into().unwrap();
                    let r = Scalar::reduce(&FieldBytes::from(r_bytes));
                    let (e, s) = (scalar(&mut rng), scalar(&mut rng));
                    let pair = key_through(&point, &r, &e, &s);
                    let (e, r, s) = (bytes(&e), bytes(&r), bytes(&s));
                    assert!(pair.verify(&e, &r, &s), "r + n = x(R) must verify");
                    assert!(!pair.verify(&e, &x, &s), "x(R) itself is out of range");
                    assert!(pair.verify(&e, &r, &neg_mod_n::<C>(&s)), "and so does -R");
                }
            }

            #[test]
            fn small_x_of_r_is_not_confused_with_x_minus_n() {
                let mut rng = Rng(78);
                let one = be(&<C as Curve>::Uint::ONE);
                for (point, x) in points_with_x_from(&one, 4) {
                    let x_bytes: Bytes = x.clone().try_into().unwrap();
                    let r = Scalar::reduce(&FieldBytes::from(x_bytes));
                    let (e, s) = (scalar(&mut rng), scalar(&mut rng));
                    let pair = key_through(&point, &r, &e, &s);
                    assert!(pair.verify(&bytes(&e), &x, &bytes(&s)));
                }
            }

            #[test]
            fn r_at_infinity_is_refused() {
                let mut rng = Rng(79);
                for _ in 0..8 {
                    // d = -e / r makes u1 G + u2 Q = (e + r d) / s G the identity.
                    let (e, r, s) = (scalar(&mut rng), scalar(&mut rng), scalar(&mut rng));
                    let d = -(e * r.invert().unwrap());
                    let pair = Pair::from_secret(&d);
                    assert!(!pair.verify(&bytes(&e), &bytes(&r), &bytes(&s)));
                }
            }

            #[test]
            fn keys_plus_and_minus_g_and_colliding_table_additions() {
                let mut rng = Rng(80);
                let boundary = small(1 << $chunk_bits);
                let keys = [
                    Scalar::ONE,
                    -Scalar::ONE,
                    small(3),
                    small(5),
                    boundary,
                    -boundary,
                ];
                for d in keys {
                    let pair = Pair::from_secret(&d);
                    let random: Vec<_> = (0..6)
                        .map(|_| (scalar(&mut rng), scalar(&mut rng)))
                        .collect();
                    let values = [
                        1,
                        2,
                        3,
                        5,
                        31,
                        63,
                        255,
                        (1 << $chunk_bits) - 1,
                        1 << $chunk_bits,
                    ];
                    let chosen = values.map(|v| (small(v), small(v)));
                    let mixed = [
                        (small(3), small(1)),
                        (small(1), small(3)),
                        (boundary, small(1)),
                    ];
                    for (u1, u2) in random.into_iter().chain(chosen).chain(mixed) {
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
                let d = scalar(&mut rng);
                let pair = Pair::from_secret(&d);
                for e in [Scalar::ZERO, Scalar::ONE, small(12345), -Scalar::ONE] {
                    // Sign e with nonce k: s = (e + r d) / k.
                    let k = scalar(&mut rng);
                    let r = x_mod_n(&(ProjectivePoint::GENERATOR * k));
                    let s = (e + r * d) * k.invert().unwrap();
                    let (r, s) = (bytes(&r), bytes(&s));
                    assert!(pair.verify(&bytes(&e), &r, &s));
                    // e + n, when it fits, is the same hash.
                    let e_int = <C as Curve>::Uint::from_be_bytes(&bytes(&e)).unwrap();
                    let (plus_n, carry) = e_int.add(&C::N);
                    if !carry {
                        assert!(pair.verify(&be(&plus_n), &r, &s));
                    }
                }
                let (r, s) = (bytes(&scalar(&mut rng)), bytes(&scalar(&mut rng)));
                pair.verify(&[0xff; $bytes], &r, &s);
                pair.verify(&be(&C::N), &r, &s);
            }

            #[test]
            fn a_key_verifies_the_same_before_and_after_its_table_widens() {
                let mut rng = Rng(83);
                let d = scalar(&mut rng);
                let pair = Pair::from_secret(&d);
                let e = scalar(&mut rng);
                let k = scalar(&mut rng);
                let r = x_mod_n(&(ProjectivePoint::GENERATOR * k));
                let s = (e + r * d) * k.invert().unwrap();
                let (e, r, s) = (bytes(&e), bytes(&r), bytes(&s));
                let (wrong_r, wrong_s) = (bytes(&scalar(&mut rng)), bytes(&scalar(&mut rng)));
                assert!(pair.ours.wide.get().is_none());
                for _ in 0..2 * WIDEN_AFTER {
                    assert!(pair.ours.verify_prehash(&e, &r, &s));
                    assert!(!pair.ours.verify_prehash(&e, &wrong_r, &s));
                    assert!(!pair.ours.verify_prehash(&e, &r, &wrong_s));
                }
                let wide = pair.ours.wide.get().expect("widened after use");
                assert!(wide.points_len() > pair.ours.narrow.points_len());
                // A clone shares the widened table.
                assert!(pair.ours.clone().wide.get().is_some());
            }

            #[test]
            fn key_decoding_refuses_what_the_crate_refuses() {
                let pair = Pair::from_secret(&small(99));
                let point = pair.vk.to_sec1_point(false);
                let good = point.as_bytes();
                let compressed = pair.vk.to_sec1_point(true);
                let from_compressed = PublicKey::<C>::from_sec1(compressed.as_bytes()).unwrap();
                assert_eq!(from_compressed.narrow, pair.ours.narrow);
                let mut off_curve = good.to_vec();
                off_curve[2 * $bytes] ^= 1;
                assert_eq!(
                    PublicKey::<C>::from_sec1(&off_curve).unwrap_err(),
                    InvalidPoint
                );
                assert!(PublicKey::<C>::from_sec1(&[0x00]).is_err(), "identity");
                let mut big = vec![0x04];
                big.extend([0xff; 2 * $bytes]);
                assert!(PublicKey::<C>::from_sec1(&big).is_err());
                assert!(PublicKey::<C>::from_sec1(&good[..2 * $bytes]).is_err());
                // Our own coordinate checks, behind the crate's.
                let (x, y) = (&good[1..1 + $bytes], &good[1 + $bytes..]);
                assert!(PublicKey::<C>::from_affine(x, y).is_ok());
                assert!(PublicKey::<C>::from_affine(x, x).is_err());
                assert!(PublicKey::<C>::from_affine(&[0xff; $bytes], y).is_err());
                assert!(PublicKey::<C>::from_affine(&x[1..], y).is_err());
            }
        }
    };
}

cross_checks!(p256_crate, p256, P256, 32, rounds(60, 2000), 32);
cross_checks!(p384_crate, p384, P384, 48, rounds(16, 600), 48);
