//! Calendar timestamps of the published traces (`2017-10-07 01:12:09`, `2023-03-01
//! 00:18:22+08:00`) as seconds since 1970-01-01.
//!
//! Philly, Helios and Acme write their times as text; every reader turns them into an integer
//! offset from the trace's first submission, so only differences matter. No date crate is in
//! the dependency tree and the formats are fixed, so the conversion is the usual days-from-civil
//! arithmetic (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", `days_from_civil`),
//! kept here with its tests. A time without a UTC offset is taken as it reads (naive); the
//! Philly README and the Helios README give none, and both clusters sat in one time zone, so
//! only a daylight-saving change inside a job could shift its duration (by one hour at most).

/// Seconds since 1970-01-01 00:00:00 UTC of `text`: `YYYY-MM-DD HH:MM:SS` (or with `T` between
/// date and time), optionally followed by `Z` or a UTC offset `+HH:MM` / `-HH:MM` / `+HHMM`.
/// `None` when it is anything else (the readers turn that into a `FILE:LINE: column` error).
pub fn parse_seconds(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let offset = match &text[19..] {
        "" | "Z" => 0,
        tail => {
            let sign = match tail.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = tail[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) || tail.len() > 6 {
                return None;
            }
            let (h, m): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn known_instants() {
        assert_eq!(parse_seconds("1970-01-01 00:00:00"), Some(0));
        // `date -u -d '2017-10-07 01:12:09' +%s`
        assert_eq!(parse_seconds("2017-10-07 01:12:09"), Some(1_507_338_729));
        assert_eq!(parse_seconds("2017-10-07T01:12:09Z"), Some(1_507_338_729));
        // 2023-03-01 00:18:22+08:00 is 2023-02-28 16:18:22 UTC.
        assert_eq!(
            parse_seconds("2023-03-01 00:18:22+08:00"),
            Some(1_677_601_102)
        );
        assert_eq!(
            parse_seconds("2023-02-28 16:18:22+00:00"),
            Some(1_677_601_102)
        );
        assert_eq!(parse_seconds("2020-02-29 00:00:00"), Some(1_582_934_400));
    }

    #[test]
    fn malformed_times_are_none() {
        for bad in [
            "",
            "None",
            "2017-10-07",
            "2017-13-07 01:12:09",
            "2019-02-29 01:12:09",
            "2017-10-07 24:00:00",
            "2017/10/07 01:12:09",
            "2017-10-07 01:12:09 PDT",
            "2017-10-07 01:12:09+8",
            "+017-10-07 01:12:09",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }
}
