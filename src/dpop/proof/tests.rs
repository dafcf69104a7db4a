//! Proofs signed here with Ed25519, one failed check at a time.

use super::*;
use crate::dpop::keys::{proof_keys, NoKeyCache, ProofKeys};
use crate::fixtures::b64url;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use std::cell::RefCell;

const NOW_MS: u64 = 1_700_000_000_000;
const TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
const HTU: &str = "https://api.example.com/orders";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn public_jwk(k: &SigningKey) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(k.verifying_key().as_bytes())})
}

fn header() -> Value {
    json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": public_jwk(&key())})
}

fn claims() -> Value {
    json!({"jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": HTU,
           "iat": NOW_MS / 1000, "ath": ath(TOKEN)})
}

fn sign(header: &Value, claims: &Value, k: &SigningKey) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = k.sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig.to_bytes()))
}

/// `base` with `changes` applied; a null change removes the member.
fn with(base: Value, changes: Value) -> Value {
    let mut out = base;
    if let (Some(o), Value::Object(c)) = (out.as_object_mut(), changes) {
        for (k, v) in c {
            if v.is_null() {
                o.remove(&k);
            } else {
                o.insert(k, v);
            }
        }
    }
    out
}

fn expect(nonces: Option<&Nonces>) -> Expect<'_> {
    Expect {
        method: "GET",
        htu: HTU,
        access_token: TOKEN,
        algorithms: &[Alg::ES256, Alg::EdDSA],
        max_age_s: 300,
        future_skew_s: 5,
        max_jti_len: 64,
        nonces,
        keys: &NoKeyCache,
    }
}

fn check(header: Value, claims: Value) -> Result<Proof, Status> {
    verify(&sign(&header, &claims, &key()), &expect(None), NOW_MS)
}

#[test]
fn a_valid_proof_gives_its_keys_thumbprint_jti_and_iat() {
    let p = check(header(), claims()).expect("valid");
    let jwk = crate::fixtures::object(public_jwk(&key()));
    assert_eq!(p.jkt, thumbprint(&jwk).unwrap());
    assert_eq!((p.jti.as_str(), p.iat), ("e1j3V_bKic8-LAEB", NOW_MS / 1000));
    // htu compares after normalisation; typ ignores case.
    let c = with(
        claims(),
        json!({"htu": "HTTPS://API.example.com:443/orders?x=1"}),
    );
    assert!(check(with(header(), json!({"typ": "DPoP+JWT"})), c).is_ok());
}

#[test]
fn each_header_check_refuses_on_its_own() {
    for (h, want) in [
        (json!({"typ": "JWT"}), Status::DpopProofBadTyp),
        (json!({"typ": null}), Status::DpopProofBadTyp),
        (json!({"alg": "RS256"}), Status::DpopProofBadAlg),
        (json!({"alg": "HS256"}), Status::DpopProofBadAlg),
        (json!({"alg": "none"}), Status::DpopProofBadAlg),
        (json!({"jwk": null}), Status::DpopProofNoKey),
        (json!({"jwk": "a key"}), Status::DpopProofNoKey),
        (
            json!({"jwk": with(public_jwk(&key()), json!({"d": b64url(&[7; 32])}))}),
            Status::DpopProofPrivateKey,
        ),
        (
            json!({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}),
            Status::DpopProofPrivateKey,
        ),
    ] {
        assert_eq!(check(with(header(), h.clone()), claims()), Err(want), "{h}");
    }
    let other = SigningKey::from_bytes(&[9; 32]);
    let h = with(header(), json!({"jwk": public_jwk(&other)}));
    assert_eq!(
        verify(&sign(&h, &claims(), &key()), &expect(None), NOW_MS),
        Err(Status::DpopProofBadSignature),
        "signed by another key than its jwk"
    );
    let ec = json!({"kty": "EC", "crv": "P-256",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"});
    assert_eq!(
        check(with(header(), json!({"jwk": ec})), claims()),
        Err(Status::DpopProofUnusableKey),
        "a P-256 key is not an EdDSA key"
    );
    for (alg, jwk) in [
        (
            "ES256",
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(key().verifying_key().as_bytes())}),
        ),
        (
            "ES256",
            json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
        ),
        ("ES256", json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"})),
    ] {
        let h = with(header(), json!({"alg": alg, "jwk": jwk}));
        assert_eq!(
            check(h, claims()),
            Err(Status::DpopProofUnusableKey),
            "{alg}"
        );
    }
    let rsa_small = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert_eq!(
        check(with(header(), json!({"jwk": rsa_small})), claims()),
        Err(Status::DpopProofUnusableKey)
    );
}

#[test]
fn an_unsecured_proof_fails_on_its_alg_whatever_its_case() {
    for alg in ["none", "None", "NONE", ""] {
        let h = with(header(), json!({"alg": alg}));
        let unsigned = format!(
            "{}.{}.",
            b64url(h.to_string().as_bytes()),
            b64url(claims().to_string().as_bytes())
        );
        let got = verify(&unsigned, &expect(None), NOW_MS);
        assert_eq!(got, Err(Status::DpopProofBadAlg), "{alg:?}");
    }
    // An empty signature under a real algorithm is just malformed.
    let h = with(header(), json!({"alg": "ES256"}));
    let cut = format!("{}.{}.", b64url(h.to_string().as_bytes()), b64url(b"{}"));
    assert_eq!(
        verify(&cut, &expect(None), NOW_MS),
        Err(Status::DpopProofMalformed)
    );
}

#[test]
fn each_claim_check_refuses_on_its_own() {
    for (c, want) in [
        (json!({"jti": null}), Status::DpopProofBadJti),
        (json!({"jti": ""}), Status::DpopProofBadJti),
        (json!({"jti": 7}), Status::DpopProofBadJti),
        (json!({"jti": "x".repeat(65)}), Status::DpopProofBadJti),
        (json!({"htm": null}), Status::DpopProofBadHtm),
        (json!({"htm": "POST"}), Status::DpopProofBadHtm),
        (json!({"htm": "get"}), Status::DpopProofBadHtm),
        (
            json!({"htu": "https://api.example.com/other"}),
            Status::DpopProofBadHtu,
        ),
        (
            json!({"htu": "https://evil.example.com/orders"}),
            Status::DpopProofBadHtu,
        ),
        (json!({"htu": "not a uri"}), Status::DpopProofBadHtu),
        (json!({"iat": null}), Status::DpopProofBadIat),
        (json!({"iat": "now"}), Status::DpopProofBadIat),
        (json!({"iat": NOW_MS / 1000 - 301}), Status::DpopProofBadIat),
        (json!({"iat": NOW_MS / 1000 + 6}), Status::DpopProofBadIat),
        (json!({"ath": null}), Status::DpopProofBadAth),
        (
            json!({"ath": ath("another token")}),
            Status::DpopProofBadAth,
        ),
    ] {
        assert_eq!(check(header(), with(claims(), c.clone())), Err(want), "{c}");
    }
    for ok in [
        json!({"iat": NOW_MS / 1000 - 300}),
        json!({"iat": NOW_MS / 1000 + 5}),
    ] {
        assert!(check(header(), with(claims(), ok.clone())).is_ok(), "{ok}");
    }
}

#[test]
fn with_nonces_on_a_proof_needs_a_fresh_one_of_ours() {
    let nonces = Nonces::new(b"secret", 60_000).expect("a lifetime");
    let e = expect(Some(&nonces));
    let proof = |c: Value| sign(&header(), &with(claims(), c), &key());
    assert_eq!(
        verify(&proof(json!({})), &e, NOW_MS),
        Err(Status::DpopNonceRequired)
    );
    let good = nonces.issue(NOW_MS);
    assert!(verify(&proof(json!({"nonce": good})), &e, NOW_MS).is_ok());
    let stale = nonces.issue(NOW_MS - 120_000);
    assert_eq!(
        verify(&proof(json!({"nonce": stale})), &e, NOW_MS),
        Err(Status::DpopNonceRequired)
    );
    let theirs = Nonces::new(b"other", 60_000)
        .expect("a lifetime")
        .issue(NOW_MS);
    assert_eq!(
        verify(&proof(json!({"nonce": theirs})), &e, NOW_MS),
        Err(Status::DpopNonceRequired)
    );
}

#[test]
fn anything_but_a_jws_is_malformed() {
    for p in ["", "a.b", "a.b.c", "e30.e30.", &"x".repeat(100)] {
        assert_eq!(
            verify(p, &expect(None), NOW_MS),
            Err(Status::DpopProofMalformed),
            "{p}"
        );
    }
}

/// A worker's proof-key cache that counts its lookups' hits.
struct Counting(RefCell<ProofKeys>, std::cell::Cell<usize>);

impl KeyCache for Counting {
    fn get(&self, header: &str) -> Option<Rc<ProofKey>> {
        let hit = self.0.borrow().get(header);
        self.1.set(self.1.get() + usize::from(hit.is_some()));
        hit
    }
    fn put(&self, header: &str, key: Rc<ProofKey>) {
        self.0.borrow_mut().insert(header, key);
    }
}

#[test]
fn a_key_that_verified_is_parsed_once_for_the_proofs_that_repeat_its_header() {
    let cache = Counting(RefCell::new(proof_keys()), Default::default());
    let e = Expect {
        keys: &cache,
        ..expect(None)
    };
    // A proof that does not verify leaves nothing behind.
    let other = SigningKey::from_bytes(&[8; 32]);
    assert_eq!(
        verify(&sign(&header(), &claims(), &other), &e, NOW_MS),
        Err(Status::DpopProofBadSignature)
    );
    assert!(cache.0.borrow().is_empty());
    let first = verify(&sign(&header(), &claims(), &key()), &e, NOW_MS).expect("valid");
    let next = with(claims(), json!({"jti": "another"}));
    let second = verify(&sign(&header(), &next, &key()), &e, NOW_MS).expect("valid");
    assert_eq!((cache.1.get(), first.jkt), (1, second.jkt));
    // A known key still checks every signature.
    let forged = sign(&header(), &with(claims(), json!({"jti": "x"})), &other);
    assert_eq!(
        verify(&forged, &e, NOW_MS),
        Err(Status::DpopProofBadSignature)
    );
    assert_eq!(cache.1.get(), 2);
}
