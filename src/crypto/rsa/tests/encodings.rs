//! Wycheproof-style malformed encodings: signatures made with the reference
//! private key over deliberately broken PKCS#1 v1.5 and PSS encodings, so
//! only the padding is wrong; the fast path must agree with the reference.

use super::*;

#[test]
fn malformed_encodings_match_reference() {
    let mut rng = TestRng(3);
    for (i, key) in keys().into_iter().enumerate() {
        let k = key.k();
        let bits = key.fast.bits();
        // Debug builds (slow private operations) take one hash per key.
        let hashes = if cfg!(debug_assertions) {
            vec![HASHES[i % 3]]
        } else {
            HASHES.to_vec()
        };
        for h in hashes {
            let msg = rng.bytes(32);
            let hashed = h.digest(&msg);
            let di = h.digest_info();
            let good = pkcs1_em(k, di, &hashed);
            assert!(agree(
                &key,
                Padding::Pkcs1v15,
                h,
                &msg,
                &key.sign_raw(&good)
            ));
            let t_len = di.len() + hashed.len();
            let mut bad: Vec<(&str, Vec<u8>)> = Vec::new();
            let edit = |f: &dyn Fn(&mut Vec<u8>)| {
                let mut em = good.clone();
                f(&mut em);
                em
            };
            bad.push(("block type 2", edit(&|em| em[1] = 2)));
            bad.push(("block type 0", edit(&|em| em[1] = 0)));
            bad.push(("leading 01", edit(&|em| em[0] = 1)));
            bad.push(("no separator", edit(&|em| em[k - t_len - 1] = 0xff)));
            let at = 2 + rng.below(k - t_len - 3);
            bad.push(("ps has 0xfe", edit(&|em| em[at] = 0xfe)));
            bad.push(("ps has 0x00", edit(&|em| em[5] = 0)));
            bad.push(("wrong hash", edit(&|em| em[k - 1] ^= 1)));
            bad.push(("wrong oid", edit(&|em| em[k - hashed.len() - 6] ^= 1)));
            bad.push((
                "digest length byte",
                edit(&|em| em[k - hashed.len() - 1] ^= 1),
            ));
            bad.push(("sequence length", edit(&|em| em[k - t_len + 1] ^= 1)));
            // DigestInfo without the NULL parameters (RFC 8017 note 2): not
            // accepted by the reference (nor by BoringSSL's RSA_verify).
            let mut no_null = vec![0x30, di[1] - 2, 0x30, di[3] - 2];
            no_null.extend_from_slice(&di[4..15]);
            no_null.extend_from_slice(&di[17..]);
            bad.push(("no NULL params", pkcs1_em(k, &no_null, &hashed)));
            // Hash moved left with trailing garbage; PS too short.
            let mut garbage = pkcs1_em(k - 1, di, &hashed);
            garbage.push(0);
            bad.push(("trailing byte", garbage));
            let mut short_ps = vec![0, 1];
            short_ps.extend(vec![0xff; 7]);
            short_ps.push(0);
            short_ps.extend_from_slice(di);
            short_ps.extend_from_slice(&hashed);
            let pad = k - short_ps.len();
            short_ps.splice(2..2, vec![0; pad]);
            bad.push(("7 ff then zeros", short_ps));
            let mut other_hash = pkcs1_em(k, HASHES[(h as usize + 1) % 3].digest_info(), &hashed);
            other_hash.truncate(k);
            if other_hash.len() == k {
                bad.push(("other DigestInfo", other_hash));
            }
            for (what, em) in bad {
                assert_eq!(em.len(), k, "{what}");
                // An encoding above n cannot be signed at all.
                if let Some(sig) = key.try_sign_raw(&em) {
                    assert!(!agree(&key, Padding::Pkcs1v15, h, &msg, &sig), "{what}");
                }
            }

            // PSS.
            let max_salt = (bits - 1).div_ceil(8) - h.len() - 2;
            let em_len = (bits - 1).div_ceil(8);
            let salts = if cfg!(debug_assertions) {
                vec![i % 2, max_salt]
            } else {
                vec![0, 1, 20, h.len(), max_salt]
            };
            for salt_len in salts.into_iter().map(|l| l.min(max_salt)) {
                let salt = rng.bytes(salt_len);
                let ok = pss_em(k, bits, h, &hashed, &salt, |_| {});
                assert!(
                    agree(&key, Padding::Pss, h, &msg, &key.sign_raw(&ok)),
                    "salt {salt_len}"
                );
                let mut cases: Vec<(&str, Vec<u8>)> = vec![
                    (
                        "no 0x01",
                        pss_em(k, bits, h, &hashed, &salt, |db| {
                            let i = db.len() - salt_len - 1;
                            db[i] = 0;
                        }),
                    ),
                    (
                        "0x02 separator",
                        pss_em(k, bits, h, &hashed, &salt, |db| {
                            let i = db.len() - salt_len - 1;
                            db[i] = 2;
                        }),
                    ),
                    (
                        "top DB bits set",
                        pss_em(k, bits, h, &hashed, &salt, |db| db[0] |= 0x80),
                    ),
                    (
                        "nonzero PS",
                        pss_em(k, bits, h, &hashed, &salt, |db| {
                            if db.len() > salt_len + 2 {
                                db[0] = 1;
                                let i = db.len() - salt_len - 1;
                                db[i] = 0xff;
                            } else {
                                db[0] ^= 0x02;
                            }
                        }),
                    ),
                    (
                        "salt edited",
                        pss_em(k, bits, h, &hashed, &salt, |db| {
                            let l = db.len();
                            db[l - 1] ^= 1;
                        }),
                    ),
                ];
                let mut edit = |what, f: &dyn Fn(&mut Vec<u8>)| {
                    let mut em = ok.clone();
                    f(&mut em);
                    cases.push((what, em));
                };
                edit("trailer 0xbd", &|em| em[k - 1] = 0xbd);
                edit("H edited", &|em| em[k - 2] ^= 1);
                edit("top masked bit flipped", &|em| em[k - em_len] ^= 0x80);
                if k > em_len {
                    edit("nonzero extra octet", &|em| em[0] = 1);
                }
                for (what, em) in cases {
                    if let Some(sig) = key.try_sign_raw(&em) {
                        let verdict = agree(&key, Padding::Pss, h, &msg, &sig);
                        // Step 9 clears DB's bits above emBits before the
                        // padding check, so a set top bit only counts when
                        // there are none (emBits a multiple of 8).
                        let cleared = what == "top DB bits set" && (bits - 1) % 8 != 0;
                        assert_eq!(verdict, cleared, "{what} salt {salt_len} bits {bits} {h:?}");
                    }
                }
            }
        }
    }
}
