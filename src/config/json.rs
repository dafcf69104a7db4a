//! A strict reader over the proto3 JSON form of Envoy's config: field names in
//! snake_case or lowerCamelCase, `null` as "unset", every error naming its
//! JSON path, and unknown fields refused rather than ignored.

mod number;

use number::integer;
use serde_json::{Map, Value};
use std::fmt;

/// A configuration error: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

pub type Result<T> = std::result::Result<T, ConfigError>;

pub fn err<T>(path: &str, message: impl Into<String>) -> Result<T> {
    Err(ConfigError {
        path: path.to_owned(),
        message: message.into(),
    })
}

pub fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// One JSON object being read; `finish` fails on any member not read.
pub struct Obj<'a> {
    pub path: String,
    map: &'a Map<String, Value>,
    used: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, path: &str) -> Result<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj {
                path: path.to_owned(),
                map,
                used: Vec::new(),
            }),
            other => err(path, format!("expected an object, got {}", kind(other))),
        }
    }

    /// The value of field `name` (snake_case or lowerCamelCase), `None` if
    /// absent or null. Both spellings at once is an error, as in protobuf.
    pub fn field(&mut self, name: &str) -> Result<Option<(&'a Value, String)>> {
        #[cfg(test)]
        super::asked::note(&self.path, name);
        let camel = camel(name);
        let mut found = None;
        for (k, v) in self.map.iter() {
            if k == name || *k == camel {
                if found.is_some() {
                    return err(&self.path, format!("field \"{name}\" is given twice"));
                }
                self.used.push(k.as_str());
                found = Some(v);
            }
        }
        Ok(match found {
            Some(Value::Null) | None => None,
            Some(v) => Some((v, join(&self.path, name))),
        })
    }

    /// A field that must be set (e.g. the member of a oneof just chosen).
    pub fn require(&mut self, name: &str) -> Result<(&'a Value, String)> {
        match self.field(name)? {
            Some(f) => Ok(f),
            None => err(&self.path, format!("missing required field \"{name}\"")),
        }
    }

    /// A message field that must be set.
    pub fn require_object(&mut self, name: &str) -> Result<Obj<'a>> {
        let (v, p) = self.require(name)?;
        Obj::new(v, &p)
    }

    /// The member of a oneof that is set, if any; two or more set is an
    /// error naming them, as protobuf's JSON parser refuses it.
    pub fn oneof<'n>(&self, names: &[&'n str]) -> Result<Option<&'n str>> {
        #[cfg(test)]
        names.iter().for_each(|n| super::asked::note(&self.path, n));
        let set: Vec<&str> = names.iter().copied().filter(|n| self.has(n)).collect();
        match set.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => err(
                &self.path,
                format!("only one of {} may be set", many.join(", ")),
            ),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        let camel = camel(name);
        self.map
            .iter()
            .any(|(k, v)| (k == name || *k == camel) && !v.is_null())
    }

    pub fn string(&mut self, name: &str) -> Result<Option<String>> {
        match self.field(name)? {
            None => Ok(None),
            Some((Value::String(s), _)) => Ok(Some(s.clone())),
            Some((v, p)) => err(&p, format!("expected a string, got {}", kind(v))),
        }
    }

    pub fn bool(&mut self, name: &str) -> Result<bool> {
        match self.field(name)? {
            None => Ok(false),
            Some((Value::Bool(b), _)) => Ok(*b),
            Some((v, p)) => err(&p, format!("expected a boolean, got {}", kind(v))),
        }
    }

    /// An unsigned integer; proto3 JSON also allows it quoted. An integral
    /// double (`60.0`, `6e1`) is the integer it names: see [`integer`].
    pub fn u64(&mut self, name: &str, max: u64) -> Result<Option<u64>> {
        let Some((v, p)) = self.field(name)? else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => integer(n, 0, i128::from(max)).or_else(|why| err(&p, why))?,
            Value::String(s) => s.parse::<u64>().ok().map(i128::from),
            _ => None,
        };
        match n.and_then(|n| u64::try_from(n).ok()) {
            Some(n) if n <= max => Ok(Some(n)),
            _ => err(&p, format!("expected an integer from 0 to {max}")),
        }
    }

    /// A signed 64-bit integer; proto3 JSON allows it quoted. An integral
    /// double is the integer it names: see [`integer`].
    pub fn i64(&mut self, name: &str) -> Result<Option<i64>> {
        let Some((v, p)) = self.field(name)? else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => integer(n, i128::from(i64::MIN), i128::from(i64::MAX))
                .or_else(|why| err(&p, why))?,
            Value::String(s) => s.parse::<i64>().ok().map(i128::from),
            _ => None,
        };
        n.and_then(|n| i64::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ConfigError {
                path: p,
                message: "expected a 64-bit integer".into(),
            })
    }

    /// A `google.protobuf.Duration` in its JSON form (`"300s"`, `"1.5s"`),
    /// as whole nanoseconds.
    pub fn duration(&mut self, name: &str) -> Result<Option<i128>> {
        let Some((v, p)) = self.field(name)? else {
            return Ok(None);
        };
        let Value::String(s) = v else {
            return err(&p, "expected a duration string such as \"300s\"");
        };
        parse_duration(s).map(Some).ok_or_else(|| ConfigError {
            path: p,
            message: format!(
                "invalid duration \"{s}\": expected seconds with an \"s\" suffix, such as \"300s\""
            ),
        })
    }

    pub fn strings(&mut self, name: &str) -> Result<Vec<String>> {
        let Some((v, p)) = self.field(name)? else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = v else {
            return err(&p, format!("expected a list of strings, got {}", kind(v)));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => err(
                    &format!("{p}[{i}]"),
                    format!("expected a string, got {}", kind(other)),
                ),
            })
            .collect()
    }

    pub fn object(&mut self, name: &str) -> Result<Option<Obj<'a>>> {
        match self.field(name)? {
            None => Ok(None),
            Some((v, p)) => Obj::new(v, &p).map(Some),
        }
    }

    /// A repeated message: each element with its path (`rules[2]`).
    pub fn list(&mut self, name: &str) -> Result<Vec<(&'a Value, String)>> {
        let Some((v, p)) = self.field(name)? else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = v else {
            return err(&p, format!("expected a list, got {}", kind(v)));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, format!("{p}[{i}]")))
            .collect())
    }

    /// A map field: (key, value, path) in key order.
    pub fn map(&mut self, name: &str) -> Result<Vec<(&'a str, &'a Value, String)>> {
        let Some((v, p)) = self.field(name)? else {
            return Ok(Vec::new());
        };
        let Value::Object(m) = v else {
            return err(&p, format!("expected an object, got {}", kind(v)));
        };
        Ok(m.iter()
            .map(|(k, v)| (k.as_str(), v, join(&p, k)))
            .collect())
    }

    /// Fields Envoy defines that jwt-guard does not implement yet: refused by
    /// name so a config never silently means less than it says.
    pub fn unsupported(&mut self, names: &[&str]) -> Result<()> {
        for name in names {
            if self.has(name) {
                return err(
                    &join(&self.path, name),
                    "is an Envoy field jwt-guard does not support yet",
                );
            }
        }
        Ok(())
    }

    /// Fails on the first member that was never read.
    pub fn finish(self) -> Result<()> {
        for k in self.map.keys() {
            if !self.used.contains(&k.as_str()) {
                return err(&join(&self.path, k), "unknown field");
            }
        }
        Ok(())
    }
}

/// Parses `"<seconds>[.<fraction>]s"` into nanoseconds.
fn parse_duration(s: &str) -> Option<i128> {
    let body = s.strip_suffix('s')?;
    let (neg, body) = match body.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    if secs.is_empty() || !secs.bytes().all(|c| c.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    if !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let secs: i128 = secs.parse().ok()?;
    if secs > 315_576_000_000 {
        return None;
    }
    let nanos: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let total = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    if neg {
        total.checked_neg()
    } else {
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_found_by_snake_or_camel_name() {
        let v = json!({"fromHeaders": [], "value_prefix": "x"});
        let mut o = Obj::new(&v, "p").unwrap();
        assert!(o.field("from_headers").unwrap().is_some());
        assert_eq!(o.string("value_prefix").unwrap().as_deref(), Some("x"));
        o.finish().unwrap();
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let v = json!({"issuer": "i", "bogus": 1});
        let mut o = Obj::new(&v, "providers.a").unwrap();
        o.string("issuer").unwrap();
        assert_eq!(
            o.finish().unwrap_err().to_string(),
            "providers.a.bogus: unknown field"
        );
    }

    #[test]
    fn wrong_types_are_reported_with_path() {
        let v = json!({"forward": "yes", "n": -1, "d": 5});
        let mut o = Obj::new(&v, "x").unwrap();
        assert_eq!(
            o.bool("forward").unwrap_err().to_string(),
            "x.forward: expected a boolean, got a string"
        );
        assert!(o.u64("n", 10).is_err());
        assert!(o.duration("d").is_err());
    }

    #[test]
    fn durations_and_quoted_integers() {
        assert_eq!(parse_duration("300s"), Some(300_000_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("0.000000001s"), Some(1));
        assert_eq!(parse_duration("300"), None);
        assert_eq!(parse_duration("1m"), None);
        let v = json!({"a": "60", "b": 60.0});
        let mut o = Obj::new(&v, "").unwrap();
        assert_eq!(o.u64("a", 100).unwrap(), Some(60));
        assert_eq!(o.u64("b", 100).unwrap(), Some(60));
    }

    #[test]
    fn both_spellings_at_once_is_an_error() {
        let v = json!({"from_params": [], "fromParams": []});
        let mut o = Obj::new(&v, "p").unwrap();
        assert!(o.strings("from_params").is_err());
    }
}
