//! Public-key arithmetic written for this filter: RSA (PKCS#1 v1.5 and PSS)
//! and ECDSA on P-256 and P-384. The RustCrypto crates verify several times
//! slower inside V8 (no 64x64->128 multiply in wasm); these use 32-bit or
//! radix-2^28 limbs, precomputed per-key tables and variable-time code,
//! which is safe here because everything a verification sees is public.
//! Both are cross-checked in their tests against the `rsa`, `p256` and
//! `p384` crates. `jws` verifies with them; `jwks` builds their keys.

pub(crate) mod ecdsa;
pub(crate) mod rsa;
