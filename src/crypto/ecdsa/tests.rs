//! Field checks for both curves, and cross-checks against the `p256` and
//! `p384` crates, whose verdicts are the specification here: random keys
//! and messages with many corruptions, and signatures built to reach the
//! rare paths (x(R) >= n, R at infinity, Q = +-G, doubling inside the table
//! additions, hashes >= n).

use super::*;

mod cross;
mod field;

#[test]
fn hash_to_int_keeps_the_leftmost_bits() {
    let mut h = [0u8; 64];
    h[0] = 0xab;
    h[31] = 0x01;
    h[32] = 0xcd;
    h[47] = 0xef;
    let v: [u32; 8] = hash_to_int(&h);
    assert_eq!(uint::to_be_bytes(&v), h[..32]);
    let v: [u32; 12] = hash_to_int(&h);
    assert_eq!(uint::to_be_bytes(&v), h[..48]);
    // Shorter hashes (SHA-256 on P-384) are read as integers.
    let v: [u32; 12] = hash_to_int(&h[..32]);
    assert_eq!(uint::to_be_bytes(&v)[16..], h[..32]);
    assert_eq!(hash_to_int::<[u32; 8]>(&[7])[0], 7);
}

#[test]
fn debug_names_the_curve() {
    let g = |c: &[u32]| {
        c.iter()
            .rev()
            .flat_map(|l| l.to_be_bytes())
            .collect::<Vec<u8>>()
    };
    let mut sec1 = vec![0x04];
    sec1.extend(g(&P256::GX));
    sec1.extend(g(&P256::GY));
    let key = PublicKey::<P256>::from_sec1(&sec1).unwrap();
    assert_eq!(format!("{key:?}"), "P-256 public key");
    let mut sec1 = vec![0x04];
    sec1.extend(g(&P384::GX));
    sec1.extend(g(&P384::GY));
    let key = PublicKey::<P384>::from_sec1(&sec1).unwrap();
    assert_eq!(format!("{key:?}"), "P-384 public key");
}
