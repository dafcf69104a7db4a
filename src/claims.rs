//! The JSON objects inside a token (header and payload): strict parsing and
//! typed access to claims, including the formatting Envoy uses when it copies
//! a claim into a request header.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

mod fixed;

/// A parsed JSON object (token header or payload).
pub type Object = Map<String, Value>;

/// The deepest nesting of objects and arrays Envoy accepts in a token's
/// header or payload (its protobuf JSON parser's default recursion limit):
/// 100 levels pass, 101 are `Jwt payload is an invalid JSON`.
const TOKEN_MAX_DEPTH: usize = 100;

/// A JSON value that refuses duplicate object members at any depth, as the
/// protobuf JSON parser Envoy uses does. Last-one-wins parsing would let a
/// token say two different things to two different readers. `depth_left`:
/// how many more levels of objects and arrays may open (serde_json stops at
/// 128 in any case).
#[derive(Clone, Copy)]
struct Strict {
    depth_left: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Strict {
    /// The seed for the members of a container opening here.
    fn inner<E: de::Error>(&self) -> Result<Strict, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(Strict { depth_left }),
            None => Err(E::custom("nested too deeply")),
        }
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            let v = map.next_value_seed(inner)?;
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }
}

fn parse_strict(bytes: &[u8], depth_left: usize) -> Option<Object> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let strict = Strict { depth_left };
    match strict.deserialize(&mut de) {
        Ok(Value::Object(obj)) if de.end().is_ok() => Some(obj),
        _ => None,
    }
}

/// Parses bytes that must hold exactly one JSON object with no duplicate
/// members. `None` for anything else (array, string, invalid UTF-8, ...).
pub fn parse_object(bytes: &[u8]) -> Option<Object> {
    parse_strict(bytes, usize::MAX)
}

/// [`parse_object`] for a token's header or payload, which Envoy also
/// refuses when nested deeper than [`TOKEN_MAX_DEPTH`].
pub fn parse_token_object(bytes: &[u8]) -> Option<Object> {
    parse_strict(bytes, TOKEN_MAX_DEPTH)
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

/// A numeric time claim as a non-negative 64-bit integer. Like
/// jwt_verify_lib, the JSON number is read as a double first (so integers
/// that round to 2^64, from 2^64 - 1024 up, are out of range), and
/// fractions are truncated.
pub fn get_u64(obj: &Object, name: &str) -> Lookup<u64> {
    match obj.get(name) {
        None => Lookup::Missing,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(d) if (0.0..18_446_744_073_709_551_616.0).contains(&d) => Lookup::Found(d as u64),
            _ => Lookup::OutOfRange,
        },
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
        fixed::six_decimals(d)
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
    use crate::fixtures::object as obj;
    use serde_json::json;

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
    fn token_parts_nest_at_most_100_levels_like_envoy() {
        // Envoy 1.40: a payload `{"d":` + 99 arrays passes, + 100 is
        // `Jwt payload is an invalid JSON` (so is the header); objects and
        // arrays count alike.
        let nested = |open: &str, close: &str, n: usize| {
            format!("{{\"d\":{}1{}}}", open.repeat(n), close.repeat(n))
        };
        for (open, close) in [("[", "]"), ("{\"a\":", "}"), ("[{\"a\":", "}]")] {
            let levels = open.matches(['[', '{']).count();
            let ok = nested(open, close, 99 / levels);
            let deep = nested(open, close, 100 / levels);
            assert!(parse_token_object(ok.as_bytes()).is_some(), "{ok}");
            assert!(parse_token_object(deep.as_bytes()).is_none(), "{deep}");
            // The configuration is not held to the token limit.
            assert!(parse_object(deep.as_bytes()).is_some(), "{deep}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_token_object(deep.as_bytes()).is_none());
        assert!(parse_token_object(br#"{"a":{"b":1,"b":2}}"#).is_none());
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
    fn time_claims_are_read_as_doubles_so_integers_rounding_to_2_pow_64_are_out_of_range() {
        // Envoy 1.40: 2^64 - 2048 (the largest double below 2^64) passes, and
        // so does 2^64 - 1025, which rounds down to it; 2^64 - 1024 and up
        // round to 2^64.
        let o = parse_object(
            br#"{"max":18446744073709549568,"down":18446744073709550591,
                 "up":18446744073709550592,"top":18446744073709551615,"big":9007199254740993}"#,
        )
        .unwrap();
        assert_eq!(
            get_u64(&o, "max"),
            Lookup::Found(18_446_744_073_709_549_568)
        );
        assert_eq!(
            get_u64(&o, "down"),
            Lookup::Found(18_446_744_073_709_549_568)
        );
        assert_eq!(get_u64(&o, "up"), Lookup::OutOfRange);
        assert_eq!(get_u64(&o, "top"), Lookup::OutOfRange);
        assert_eq!(get_u64(&o, "big"), Lookup::Found(9_007_199_254_740_992));
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
