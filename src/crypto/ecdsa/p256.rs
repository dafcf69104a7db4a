//! NIST P-256 (secp256r1): constants and tuning.

mod field;

use std::sync::OnceLock;

pub(crate) use self::field::Fe;
use super::mul::{self, Table};
use super::{scalar, Curve};

// The scalar code's buffers are sized for at most MAX_LIMBS limbs.
const _: () = assert!(8 <= scalar::MAX_LIMBS);

#[derive(Clone, Copy, Debug)]
pub(crate) struct P256;

impl Curve for P256 {
    type Uint = [u32; 8];
    type Fe = Fe;
    const NAME: &'static str = "P-256";
    const B: [u32; 8] = [
        0x27d2_604b,
        0x3bce_3c3e,
        0xcc53_b0f6,
        0x651d_06b0,
        0x7698_86bc,
        0xb3eb_bd55,
        0xaa3a_93e7,
        0x5ac6_35d8,
    ];
    const GX: [u32; 8] = [
        0xd898_c296,
        0xf4a1_3945,
        0x2deb_33a0,
        0x7703_7d81,
        0x63a4_40f2,
        0xf8bc_e6e5,
        0xe12c_4247,
        0x6b17_d1f2,
    ];
    const GY: [u32; 8] = [
        0x37bf_51f5,
        0xcbb6_4068,
        0x6b31_5ece,
        0x2bce_3357,
        0x7c0f_9e16,
        0x8ee7_eb4a,
        0xfe1a_7f9b,
        0x4fe3_42e2,
    ];
    const N: [u32; 8] = [
        0xfc63_2551,
        0xf3b9_cac2,
        0xa717_9e84,
        0xbce6_faad,
        0xffff_ffff,
        0xffff_ffff,
        0x0000_0000,
        0xffff_ffff,
    ];
    const N0: u64 = 0xee00_bc4f;
    const N_R2: [u32; 8] = [
        0xbe79_eea2,
        0x8324_4c95,
        0x49bd_6fa6,
        0x4699_799c,
        0x2b6b_ec59,
        0x2845_b239,
        0xf3d9_5620,
        0x66e1_2d94,
    ];
    const P_MINUS_N: [u32; 8] = [
        0x039c_daae,
        0x0c46_353d,
        0x58e8_617b,
        0x4319_0553,
        0,
        0,
        0,
        0,
    ];
    const CHUNKS: usize = 16;
    const KEY_WINDOW: usize = 7;
    const G_WINDOW: usize = 8;

    fn generator_table() -> Option<&'static Table<Fe>> {
        static TABLE: OnceLock<Option<Table<Fe>>> = OnceLock::new();
        TABLE.get_or_init(mul::generator_table::<P256>).as_ref()
    }

    fn decode_sec1(bytes: &[u8]) -> Option<Vec<u8>> {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).ok()?;
        Some(key.to_sec1_point(false).as_bytes().to_vec())
    }
}
