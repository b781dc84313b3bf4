//! Calendar arithmetic on `YYYYMMDD` dates (proleptic Gregorian, no time zones).
//!
//! Used for retention (`trim` drops tables older than a cutoff computed from a base date) and
//! for generating consecutive submission dates.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Parses a `YYYYMMDD` date into (year, month, day), checking that the day exists
/// (`20150229` is rejected, `20160229` accepted).
///
/// ```
/// use mozaggregator_core::date::parse;
/// assert_eq!(parse("20160229").unwrap(), (2016, 2, 29));
/// assert!(parse("20150229").is_err());
/// ```
///
/// # Errors
/// [`Error::Invalid`] when `date` is not eight digits naming an existing day.
pub fn parse(date: &str) -> Result<(i64, u32, u32)> {
    let bad = || Error::invalid("date", format!("`{date}` is not a YYYYMMDD date"));
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let year: i64 = date[..4].parse().map_err(|_| bad())?;
    let month: u32 = date[4..6].parse().map_err(|_| bad())?;
    let day: u32 = date[6..].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    Ok((year, month, day))
}

/// The date `days` days before `date`.
///
/// ```
/// use mozaggregator_core::date::days_before;
/// assert_eq!(days_before("20160301", 1).unwrap(), "20160229");
/// assert_eq!(days_before("20170115", 730).unwrap(), "20150116");
/// ```
///
/// # Errors
/// [`Error::Invalid`] for an invalid `date` or a result before year 0.
pub fn days_before(date: &str, days: u32) -> Result<String> {
    add_days(date, -i64::from(days))
}

/// The date `days` days after `date` (negative `days` go back).
///
/// ```
/// use mozaggregator_core::date::add_days;
/// assert_eq!(add_days("20151231", 1).unwrap(), "20160101");
/// assert_eq!(add_days("20160101", -1).unwrap(), "20151231");
/// ```
///
/// # Errors
/// [`Error::Invalid`] for an invalid `date` or a result outside years 0–9999.
pub fn add_days(date: &str, days: i64) -> Result<String> {
    let (y, m, d) = parse(date)?;
    let n = days_from_civil(y, m, d)
        .checked_add(days)
        .ok_or_else(|| Error::invalid("date", format!("{date} + {days} days overflows")))?;
    format_days(n)
}

/// Today's date in UTC, `YYYYMMDD`.
pub fn today_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Between 1970 and 9999 for any plausible clock.
    format_days(days).unwrap_or_else(|_| "19700101".to_string())
}

/// Days since 1970-01-01 of a `YYYYMMDD` date.
///
/// # Errors
/// As [`parse`].
pub fn to_days(date: &str) -> Result<i64> {
    let (y, m, d) = parse(date)?;
    Ok(days_from_civil(y, m, d))
}

fn format_days(n: i64) -> Result<String> {
    let (y, m, d) = civil_from_days(n);
    if !(0..=9999).contains(&y) {
        return Err(Error::invalid(
            "date",
            format!("year {y} is outside 0000-9999"),
        ));
    }
    Ok(format!("{y:04}{m:02}{d:02}"))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        let start = to_days("18000101").unwrap();
        let mut expected = (1800, 1, 1);
        for n in start..start + 146_097 {
            let s = format_days(n).unwrap();
            assert_eq!(parse(&s).unwrap(), expected, "{s}");
            assert_eq!(to_days(&s).unwrap(), n);
            let (y, m, d) = expected;
            expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn epoch_and_known_offsets() {
        assert_eq!(to_days("19700101").unwrap(), 0);
        assert_eq!(to_days("20000301").unwrap(), 11_017);
        assert_eq!(days_before("20150630", 365 * 2).unwrap(), "20130630");
        assert_eq!(add_days("20161231", 1).unwrap(), "20170101");
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "20150229", "21000229", "20150431", "20151301", "2015010", "2015-1-1", "00000000",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("20000229").is_ok());
        assert!(days_before("00000101", 1).is_err());
        assert!(add_days("99991231", 1).is_err());
        assert!(add_days("20150101", i64::MAX).is_err());
    }

    #[test]
    fn today_is_a_valid_date() {
        assert!(parse(&today_utc()).is_ok());
    }
}
