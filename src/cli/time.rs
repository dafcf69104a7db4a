//! `--now` and the times `explain` and `token` print: RFC 3339 UTC, or
//! seconds since the epoch.

/// Seconds since the epoch of `2026-12-04T10:00:00Z` (fractions dropped,
/// offsets `+hh:mm`/`-hh:mm` applied), or of a plain number of seconds.
pub fn parse(text: &str) -> Result<u64, String> {
    let bad = || format!("--now {text:?}: expected RFC 3339 (2026-12-04T10:00:00Z) or seconds");
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| bad());
    }
    let (date, rest) = text.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (Some(Some(y)), Some(Some(m)), Some(Some(day)), None) =
        (d.next(), d.next(), d.next(), d.next())
    else {
        return Err(bad());
    };
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
        None => return Err(bad()),
    };
    let clock = clock.split('.').next().unwrap_or("");
    let mut c = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (Some(Some(h)), Some(Some(min)), Some(Some(s)), None) =
        (c.next(), c.next(), c.next(), c.next())
    else {
        return Err(bad());
    };
    let (sign, oh, om) = match offset {
        "Z" | "z" => (1, 0, 0),
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o.get(1..).and_then(|x| x.split_once(':')).ok_or_else(bad)?;
            (
                sign,
                oh.parse::<i64>().map_err(|_| bad())?,
                om.parse::<i64>().map_err(|_| bad())?,
            )
        }
    };
    let in_range = |v: i64, lo: i64, hi: i64| (lo..=hi).contains(&v);
    let valid = in_range(y, 1970, 9999)
        && in_range(m, 1, 12)
        && in_range(day, 1, 31)
        && [(h, 23), (min, 59), (s, 60), (oh, 23), (om, 59)]
            .iter()
            .all(|&(v, hi)| in_range(v, 0, hi));
    if !valid {
        return Err(bad());
    }
    let secs = seconds(days_from_civil(y, m, day), h, min, s, sign, oh, om);
    u64::try_from(secs).map_err(|_| bad())
}

/// `secs` as `2026-12-04T10:00:00Z`.
pub fn format(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The instant of a validated date and time: no overflow.
#[allow(clippy::arithmetic_side_effects, clippy::too_many_arguments)]
fn seconds(days: i64, h: i64, min: i64, s: i64, sign: i64, oh: i64, om: i64) -> i64 {
    days * 86_400 + h * 3600 + min * 60 + s - sign * (oh * 3600 + om * 60)
}

// Howard Hinnant's days_from_civil and civil_from_days (proleptic
// Gregorian), on years this tool accepts: no overflow.
#[allow(clippy::arithmetic_side_effects)]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[allow(clippy::arithmetic_side_effects)]
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_seconds_read_the_same_instant() {
        assert_eq!(parse("2026-12-04T10:00:00Z"), Ok(1_796_378_400));
        assert_eq!(parse("2026-12-04T11:30:00.250+01:30"), Ok(1_796_378_400));
        assert_eq!(parse("1796378400"), Ok(1_796_378_400));
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
    }

    #[test]
    fn formatting_round_trips() {
        for t in [0, 951_782_400, 1_796_378_400, 4_102_444_799] {
            assert_eq!(parse(&format(t)), Ok(t));
        }
        assert_eq!(format(1_796_378_400), "2026-12-04T10:00:00Z");
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in [
            "",
            "tomorrow",
            "2026-13-01T00:00:00Z",
            "2026-12-04",
            "2026-12-04T10:00Z",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
