//! The JSON objects inside a token (header and payload): strict parsing and
//! typed access to claims, including the formatting Envoy uses when it copies
//! a claim into a request header.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// A parsed JSON object (token header or payload).
pub type Object = Map<String, Value>;

/// A JSON value that refuses duplicate object members at any depth, as the
/// protobuf JSON parser Envoy uses does. Last-one-wins parsing would let a
/// token say two different things to two different readers.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            let Strict(v) = map.next_value()?;
            obj.insert(key, v);
        }
        Ok(Strict(Value::Object(obj)))
    }
}

/// Parses bytes that must hold exactly one JSON object with no duplicate
/// members. `None` for anything else (array, string, invalid UTF-8, ...).
pub fn parse_object(bytes: &[u8]) -> Option<Object> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(Value::Object(obj))) => Some(obj),
        _ => None,
    }
}

/// Result of looking a member up, keeping "absent" apart from "wrong type".
#[derive(Debug, PartialEq)]
pub enum Lookup<T> {
    Missing,
    WrongType,
    OutOfRange,
    Found(T),
}

/// Finds a value by a dotted path (`org.id`): every step but the last must be
/// an object, as Envoy's claim lookup requires.
pub fn get_path<'a>(obj: &'a Object, path: &str) -> Lookup<&'a Value> {
    let mut current = obj;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(v) = current.get(part) else {
            return Lookup::Missing;
        };
        if parts.peek().is_none() {
            return Lookup::Found(v);
        }
        match v {
            Value::Object(inner) => current = inner,
            _ => return Lookup::WrongType,
        }
    }
    Lookup::Missing
}

/// A string member (`iss`, `sub`, `kid`, ...).
pub fn get_str<'a>(obj: &'a Object, name: &str) -> Lookup<&'a str> {
    match obj.get(name) {
        None => Lookup::Missing,
        Some(Value::String(s)) => Lookup::Found(s),
        Some(_) => Lookup::WrongType,
    }
}

/// A numeric time claim as a non-negative 64-bit integer. Fractions are
/// truncated, matching jwt_verify_lib's conversion from a JSON double.
pub fn get_u64(obj: &Object, name: &str) -> Lookup<u64> {
    match obj.get(name) {
        None => Lookup::Missing,
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                return Lookup::Found(u);
            }
            match n.as_f64() {
                Some(d) if (0.0..18_446_744_073_709_551_616.0).contains(&d) => {
                    Lookup::Found(d as u64)
                }
                _ => Lookup::OutOfRange,
            }
        }
        Some(_) => Lookup::WrongType,
    }
}

/// `aud`: a string or a list of strings.
pub fn get_audiences(obj: &Object) -> Lookup<Vec<String>> {
    match obj.get("aud") {
        None => Lookup::Missing,
        Some(Value::String(s)) => Lookup::Found(vec![s.clone()]),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    _ => return Lookup::WrongType,
                }
            }
            Lookup::Found(out)
        }
        Some(_) => Lookup::WrongType,
    }
}

/// Formats a number the way Envoy writes a numeric claim into a header:
/// non-negative integral values as integers, everything else like C's `%f`.
pub fn format_number(d: f64) -> String {
    if (0.0..18_446_744_073_709_551_616.0).contains(&d) && d.fract() == 0.0 {
        format!("{}", d as u64)
    } else {
        format!("{d:.6}")
    }
}

/// The header value Envoy's `claim_to_headers` produces for a claim, or
/// `None` when it adds no header (null, or an empty string).
pub fn header_value(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => format_number(n.as_f64().unwrap_or(0.0)),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => {
            crate::b64::encode_std(serde_json::to_string(v).ok()?.as_bytes())
        }
        Value::Null => return None,
    };
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        assert!(parse_object(br#"{"exp":1,"exp":2}"#).is_none());
        assert!(parse_object(br#"{"a":{"b":1,"b":1}}"#).is_none());
        assert!(parse_object(br#"[{"a":[{"c":1,"c":2}]}]"#).is_none());
        assert!(parse_object(br#"{"a":{"b":1},"c":[1,{"b":2}]}"#).is_some());
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_object(deep.as_bytes()).is_none());
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert!(parse_object(ok.as_bytes()).is_some());
    }

    #[test]
    fn only_objects_are_tokens_parts() {
        assert!(parse_object(b"[1,2]").is_none());
        assert!(parse_object(b"\"x\"").is_none());
        assert!(parse_object(b"{} x").is_none());
        assert!(parse_object(b"{\"a\":\"\xff\"}").is_none());
    }

    #[test]
    fn nested_path_lookup_needs_objects_on_the_way() {
        let o = obj(json!({"org": {"id": 7}, "s": "x"}));
        assert_eq!(get_path(&o, "org.id"), Lookup::Found(&json!(7)));
        assert_eq!(get_path(&o, "org.no"), Lookup::Missing);
        assert_eq!(get_path(&o, "s.x"), Lookup::WrongType);
    }

    #[test]
    fn time_claims_accept_floats_and_refuse_negative_huge_and_strings() {
        let o = obj(json!({"a": 5.9, "b": -1, "c": 1e20, "d": "5", "e": 12}));
        assert_eq!(get_u64(&o, "a"), Lookup::Found(5));
        assert_eq!(get_u64(&o, "b"), Lookup::OutOfRange);
        assert_eq!(get_u64(&o, "c"), Lookup::OutOfRange);
        assert_eq!(get_u64(&o, "d"), Lookup::WrongType);
        assert_eq!(get_u64(&o, "e"), Lookup::Found(12));
        assert_eq!(get_u64(&o, "z"), Lookup::Missing);
    }

    #[test]
    fn audiences_are_a_string_or_a_list_of_strings() {
        assert_eq!(
            get_audiences(&obj(json!({"aud": "a"}))),
            Lookup::Found(vec!["a".into()])
        );
        assert_eq!(
            get_audiences(&obj(json!({"aud": ["a", "b"]}))),
            Lookup::Found(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            get_audiences(&obj(json!({"aud": ["a", 1]}))),
            Lookup::WrongType
        );
        assert_eq!(get_audiences(&obj(json!({"aud": 1}))), Lookup::WrongType);
    }

    #[test]
    fn header_values_follow_envoy_formatting() {
        assert_eq!(header_value(&json!("x")).unwrap(), "x");
        assert_eq!(header_value(&json!(42)).unwrap(), "42");
        assert_eq!(header_value(&json!(12345678901u64)).unwrap(), "12345678901");
        assert_eq!(header_value(&json!(5.0)).unwrap(), "5");
        assert_eq!(header_value(&json!(3.25)).unwrap(), "3.250000");
        assert_eq!(header_value(&json!(-7)).unwrap(), "-7.000000");
        assert_eq!(
            header_value(&json!(1e21)).unwrap(),
            "1000000000000000000000.000000"
        );
        assert_eq!(header_value(&json!(true)).unwrap(), "true");
        assert_eq!(header_value(&json!(["a"])).unwrap(), "WyJhIl0=");
        assert_eq!(header_value(&json!("")), None);
        assert_eq!(header_value(&Value::Null), None);
    }
}
