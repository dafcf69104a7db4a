//! JSON numbers as the exact integers integer fields need, including the
//! doubles protobuf's `Struct` turns every number into.

use serde_json::Number;

/// 2^50: below it an integral double read from JSON is the integer written.
/// Doubles skip integers from 2^53 on (2^53 + 1 reads as 2^53), and
/// serde_json parses decimals with many digits to within about 2^-52
/// relative, not exactly: below 2^50 that error stays under 0.25, so a value
/// that reads as an integer is the one written (a misread shows as a
/// fraction, and is refused as one).
const EXACT_IN_DOUBLE: f64 = 1_125_899_906_842_624.0;

/// A JSON number as an exact integer; `Ok(None)` when outside `min..=max`.
///
/// protobuf's `google.protobuf.Struct`, through which Istio hands a
/// WasmPlugin's `pluginConfig` to the module, holds every number as a double:
/// an integer field may arrive as `60.0` or `6e1`. An integral double is the
/// integer it names; a fraction is refused. Large doubles may not be the
/// number that was written ([`EXACT_IN_DOUBLE`]): an in-range double from
/// 2^50 on is refused, naming the fix (an integer literal or a string). Only
/// fields whose range reaches that far can meet this (`range_match` bounds);
/// for the others such a value is simply out of range.
pub(super) fn integer(
    n: &Number,
    min: i128,
    max: i128,
) -> std::result::Result<Option<i128>, String> {
    if let Some(u) = n.as_u64() {
        return Ok(Some(i128::from(u)).filter(|u| (min..=max).contains(u)));
    }
    if let Some(i) = n.as_i64() {
        return Ok(Some(i128::from(i)).filter(|i| (min..=max).contains(i)));
    }
    let d = n.as_f64().unwrap_or(f64::NAN);
    if !d.is_finite() || d.fract() != 0.0 {
        return Err(format!("expected an integer, got {n}"));
    }
    // Compared as doubles: the i64 bounds round to +-2^63, and a double that
    // far out is refused just below in any case.
    if d < min as f64 || d > max as f64 {
        return Ok(None);
    }
    if d.abs() >= EXACT_IN_DOUBLE {
        return Err(format!(
            "{n} is a double at or beyond 2^50, which may not be the number written \
             (doubles skip integers from 2^53 on): write it as an integer literal or a string"
        ));
    }
    // Integral and below 2^50: the integer written.
    Ok(Some(d as i128))
}

#[cfg(test)]
mod tests {
    use super::super::Obj;
    use serde_json::Value;

    /// What protobuf's `Struct` makes of a config: every number a double.
    fn doubles(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn integral_doubles_are_the_integers_they_name() {
        let v = doubles(r#"{"a": 60.0, "b": 6e1, "c": 0.0, "d": -0.0, "e": -5.0, "f": 1e3}"#);
        let mut o = Obj::new(&v, "").unwrap();
        assert_eq!(o.u64("a", 100).unwrap(), Some(60));
        assert_eq!(o.u64("b", 100).unwrap(), Some(60));
        assert_eq!(o.u64("c", 100).unwrap(), Some(0));
        assert_eq!(o.u64("d", 100).unwrap(), Some(0));
        assert_eq!(o.i64("e").unwrap(), Some(-5));
        assert_eq!(o.i64("f").unwrap(), Some(1000));
        o.finish().unwrap();
    }

    #[test]
    fn fractions_are_refused_with_their_path() {
        let v = doubles(r#"{"a": 60.5, "b": -0.25, "c": 1e-3}"#);
        let mut o = Obj::new(&v, "providers.p").unwrap();
        assert_eq!(
            o.u64("a", 100).unwrap_err().to_string(),
            "providers.p.a: expected an integer, got 60.5"
        );
        assert_eq!(
            o.i64("b").unwrap_err().to_string(),
            "providers.p.b: expected an integer, got -0.25"
        );
        assert_eq!(
            o.u64("c", 100).unwrap_err().to_string(),
            "providers.p.c: expected an integer, got 0.001"
        );
    }

    #[test]
    fn out_of_range_doubles_are_out_of_range() {
        let v = doubles(r#"{"a": 101.0, "b": 1e300, "c": -1.0, "d": 4294967296.0}"#);
        let mut o = Obj::new(&v, "x").unwrap();
        for name in ["a", "b", "c"] {
            assert_eq!(
                o.u64(name, 100).unwrap_err().to_string(),
                format!("x.{name}: expected an integer from 0 to 100")
            );
        }
        assert!(o.u64("d", u64::from(u32::MAX)).is_err());
    }

    #[test]
    fn large_doubles_are_refused_where_the_range_reaches_them() {
        // 2^53 + 1 written as a double reads as 2^53, and serde_json reads
        // 2^53 - 1 written as "9007199254740991.0" as 2^53 - 2: refused, not
        // silently changed. The same numbers as integer literals or strings
        // are exact.
        let v = doubles(
            r#"{"a": 9007199254740993.0, "b": -1125899906842624.0, "c": 281474976710655.0,
                "d": 9007199254740993, "e": "9007199254740993", "f": 1e19,
                "g": 9007199254740991.0}"#,
        );
        let mut o = Obj::new(&v, "m.range_match").unwrap();
        let e = o.i64("a").unwrap_err();
        assert_eq!(e.path, "m.range_match.a");
        assert!(e.message.contains("beyond 2^50"), "{e}");
        assert!(o.i64("b").unwrap_err().message.contains("beyond 2^50"));
        assert!(o.i64("g").unwrap_err().message.contains("beyond 2^50"));
        assert_eq!(o.i64("c").unwrap(), Some(281_474_976_710_655));
        assert_eq!(o.i64("d").unwrap(), Some(9_007_199_254_740_993));
        assert_eq!(o.i64("e").unwrap(), Some(9_007_199_254_740_993));
        assert_eq!(
            o.i64("f").unwrap_err().to_string(),
            "m.range_match.f: expected a 64-bit integer"
        );
    }
}
