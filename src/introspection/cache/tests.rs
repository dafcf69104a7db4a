//! Lifetimes of remembered answers, the shared-data record, the bounds.

use super::*;
use crate::fixtures::object as obj;
use crate::introspection::cache_key;
use serde_json::json;

const NOW: u64 = 1_700_000_000_000; // ms
const MAX_TTL: u64 = 300_000;

fn read(text: &str) -> Rc<Active> {
    Rc::new(Active::read(text).expect("a JSON object"))
}

fn active(exp: Option<u64>) -> Rc<Active> {
    let mut o = obj(json!({"active": true, "scope": "orders:read", "sub": "alice"}));
    if let Some(e) = exp {
        o.insert("exp".into(), json!(e));
    }
    read(&serde_json::Value::Object(o).to_string())
}

#[test]
fn an_active_answer_is_fresh_until_exp_or_max_ttl_and_stale_until_exp() {
    let soon = Remembered::of_active(active(Some(NOW / 1000 + 60)), NOW, MAX_TTL).expect("cached");
    assert_eq!(
        (soon.fresh_until, soon.stale_until),
        (NOW + 60_000, NOW + 60_000)
    );
    let late =
        Remembered::of_active(active(Some(NOW / 1000 + 3600)), NOW, MAX_TTL).expect("cached");
    assert_eq!(late.fresh_until, NOW + MAX_TTL);
    assert_eq!(late.stale_until, NOW + 3_600_000, "stale, never past exp");
    let no_exp = Remembered::of_active(active(None), NOW, MAX_TTL).expect("cached");
    assert_eq!(
        (no_exp.fresh_until, no_exp.stale_until),
        (NOW + MAX_TTL, NOW + MAX_TTL)
    );
    assert_eq!(
        Remembered::of_active(active(Some(NOW / 1000)), NOW, MAX_TTL),
        None
    );
}

#[test]
fn an_inactive_answer_lives_negative_ttl_and_is_never_stale() {
    let key = cache_key("p", "revoked");
    let mut cache = AnswerCache::new(10);
    cache.insert(key, Remembered::inactive(NOW, 10_000));
    assert!(cache.fresh(&key, NOW + 9_999).is_some());
    assert!(cache.fresh(&key, NOW + 10_000).is_none());
    assert!(cache.stale(&key, NOW + 1).is_none());
}

#[test]
fn fresh_then_stale_then_gone() {
    let key = cache_key("p", "t");
    let mut cache = AnswerCache::new(10);
    let r = Remembered::of_active(active(Some(NOW / 1000 + 3600)), NOW, MAX_TTL).expect("cached");
    cache.insert(key, r);
    assert!(cache.fresh(&key, NOW + MAX_TTL - 1).is_some());
    assert!(cache.fresh(&key, NOW + MAX_TTL).is_none());
    assert!(cache.stale(&key, NOW + MAX_TTL).is_some());
    assert!(cache.stale(&key, NOW + 3_600_000).is_none());
    assert!(cache.fresh(&cache_key("p", "other"), NOW).is_none());
}

#[test]
fn records_round_trip_and_anything_malformed_is_refused() {
    let a = Remembered::of_active(active(Some(NOW / 1000 + 3600)), NOW, MAX_TTL).expect("cached");
    assert_eq!(Remembered::from_record(&a.to_record()), Some(a.clone()));
    let i = Remembered::inactive(NOW, 10_000);
    assert_eq!(
        i.to_record(),
        format!("{} {} i", NOW + 10_000, NOW + 10_000).into_bytes()
    );
    assert_eq!(Remembered::from_record(&i.to_record()), Some(i));
    let bad: &[&[u8]] = &[
        b"",
        b"1 2",
        b"1 2 x",
        b"1 2 i\n{}",
        b"1 2 a",
        b"1 2 a\nnot json",
        b"1 2 a\n{\"a\":1,\"a\":2}",
        b"-1 2 i",
        b"1 2 i extra",
        b"\xff 2 i",
    ];
    for r in bad {
        assert_eq!(
            Remembered::from_record(r),
            None,
            "{}",
            String::from_utf8_lossy(r)
        );
    }
}

#[test]
fn a_record_carries_the_answers_own_text_so_every_worker_reads_the_same_numbers() {
    // Found by the fuzzer: 148 digits parse (without correct rounding) to
    // a double whose shortest form reads back one step away. Written again
    // from the claims, another worker would see a different `iat`.
    let iat = format!("{}6999.9999", "1".repeat(140));
    let text = format!("{{\"active\":true,\"iat\":{iat}}}");
    let r = Remembered::of_active(read(&text), NOW, MAX_TTL).expect("cached");
    let record = r.to_record();
    assert!(record.ends_with(text.as_bytes()), "the answer as it came");
    assert_eq!(Remembered::from_record(&record), Some(r));
}

#[test]
fn the_cache_is_bounded_and_zero_turns_it_off() {
    let mut cache = AnswerCache::new(3);
    for i in 0..3 {
        cache.insert(
            cache_key("p", &i.to_string()),
            Remembered::inactive(NOW, 1_000),
        );
    }
    assert_eq!(cache.len(), 3);
    cache.insert(cache_key("p", "2"), Remembered::inactive(NOW, 2_000));
    assert_eq!(cache.len(), 3, "replacing an entry is no growth");
    cache.insert(cache_key("p", "new"), Remembered::inactive(NOW, 1_000));
    assert_eq!(cache.len(), 1, "full: starts over");
    let mut off = AnswerCache::new(0);
    off.insert(cache_key("p", "t"), Remembered::inactive(NOW, 1_000));
    assert!(off.is_empty());
}

#[test]
fn an_active_answers_payload_is_its_json_in_base64url_made_once() {
    let a = read(r#"{"sub": "a/b?", "active": true, "n": 1}"#);
    let payload = a.payload();
    assert!(!payload.contains(['=', '+', '/']), "{payload}");
    let json = crate::b64::decode_url(payload.as_bytes()).expect("base64url");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&json).expect("json"),
        json!({"sub": "a/b?", "active": true, "n": 1})
    );
    assert!(std::ptr::eq(payload, a.payload()), "made once");
}
