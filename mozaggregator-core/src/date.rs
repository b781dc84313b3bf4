//! [`Date`]: a calendar day, written `YYYYMMDD` (proleptic Gregorian, no time zones).
//!
//! Every date of the crate is one: the date of a target table, the submission date of a batch,
//! the dates of a query, the cutoff of `trim`. Text becomes a `Date` once, where it enters
//! (HTTP parameters, CLI flags, a ping's `meta.submissionDate`, rows read back from a store,
//! import files, Python arguments), through the one rule of [`Date::parse`]; everything past
//! that point holds a value that is a real day.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A calendar day between 0000-01-01 and 9999-12-31, written `YYYYMMDD`.
///
/// A small `Copy` value (the number `YYYYMMDD`), so ordering is calendar order. It can only be
/// made from a day that exists: by [`Date::parse`] (or [`str::parse`]), [`Date::from_ymd`],
/// [`Date::from_days`] and the arithmetic on those. It displays, and serializes, as its eight
/// digits; deserializing checks them like [`Date::parse`].
///
/// ```
/// use mozaggregator_core::Date;
/// let d: Date = "20160229".parse().unwrap();
/// assert_eq!((d.year(), d.month(), d.day()), (2016, 2, 29));
/// assert_eq!(d.to_string(), "20160229");
/// assert_eq!(d.add_days(1).unwrap().to_string(), "20160301");
/// assert!("20150229".parse::<Date>().is_err());
/// assert_eq!(serde_json::to_string(&d).unwrap(), r#""20160229""#);
/// assert_eq!(format!("{d:?}"), r#""20160229""#);
/// ```
///
/// `Debug` quotes the text, as it would a `String`, so messages that list dates with `{:?}`
/// read as they did when dates were strings.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(u32);

impl Date {
    /// Parses a `YYYYMMDD` date: eight ASCII digits naming a day that exists (`20150229` is
    /// refused, `20160229` accepted). The one rule of the whole crate, used by ingest
    /// (submission dates, build ids), stores, queries, imports and the CLI alike.
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// assert_eq!(Date::parse("20160229").unwrap().to_string(), "20160229");
    /// assert_eq!(
    ///     Date::parse("20150231").unwrap_err().to_string(),
    ///     "invalid date: `20150231` is not a YYYYMMDD date"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] (for `date`) when `text` is not eight digits naming an existing day.
    pub fn parse(text: &str) -> Result<Date> {
        Date::parse_as("date", text)
    }

    /// [`Date::parse`], with the error naming the argument `what` (`"submission date"`,
    /// `"cutoff date"`, …) instead of `date`.
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// assert_eq!(
    ///     Date::parse_as("base date", "2015-06-30").unwrap_err().to_string(),
    ///     "invalid base date: `2015-06-30` is not a YYYYMMDD date"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `what`.
    pub fn parse_as(what: &'static str, text: &str) -> Result<Date> {
        let bad = || Error::invalid(what, format!("`{text}` is not a YYYYMMDD date"));
        let bytes = text.as_bytes();
        if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n = bytes.iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        Date::from_ymd(n / 10_000, n / 100 % 100, n % 100).map_err(|_| bad())
    }

    /// The date of `year`, `month` (1–12) and `day` (1–28/29/30/31).
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// assert_eq!(Date::from_ymd(2016, 2, 29).unwrap().to_string(), "20160229");
    /// assert!(Date::from_ymd(2015, 2, 29).is_err());
    /// assert!(Date::from_ymd(10_000, 1, 1).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] when the day does not exist or the year is outside 0–9999.
    pub fn from_ymd(year: u32, month: u32, day: u32) -> Result<Date> {
        if year > 9999 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month)
        {
            return Err(Error::invalid(
                "date",
                format!("{year:04}-{month:02}-{day:02} is not a day of years 0000-9999"),
            ));
        }
        Ok(Date(year * 10_000 + month * 100 + day))
    }

    /// The year, 0–9999.
    pub fn year(self) -> u32 {
        self.0 / 10_000
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.0 / 100 % 100
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u32 {
        self.0 % 100
    }

    /// Days since 1970-01-01 (negative before).
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// assert_eq!(Date::parse("19700101").unwrap().to_days(), 0);
    /// assert_eq!(Date::parse("20000301").unwrap().to_days(), 11_017);
    /// ```
    pub fn to_days(self) -> i64 {
        days_from_civil(i64::from(self.year()), self.month(), self.day())
    }

    /// The date `days` days after 1970-01-01; inverse of [`Date::to_days`].
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// assert_eq!(Date::from_days(11_017).unwrap().to_string(), "20000301");
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] for a day outside years 0000–9999.
    pub fn from_days(days: i64) -> Result<Date> {
        let (y, m, d) = civil_from_days(days);
        let year = u32::try_from(y)
            .ok()
            .filter(|y| *y <= 9999)
            .ok_or_else(|| Error::invalid("date", format!("year {y} is outside 0000-9999")))?;
        Date::from_ymd(year, m, d)
    }

    /// The date `days` days after this one (negative `days` go back).
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// let d = Date::parse("20151231").unwrap();
    /// assert_eq!(d.add_days(1).unwrap().to_string(), "20160101");
    /// assert_eq!(d.add_days(-365).unwrap().to_string(), "20141231");
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] for a result outside years 0000–9999.
    pub fn add_days(self, days: i64) -> Result<Date> {
        let n = self
            .to_days()
            .checked_add(days)
            .ok_or_else(|| Error::invalid("date", format!("{self} + {days} days overflows")))?;
        Date::from_days(n)
    }

    /// The date `days` days before this one.
    ///
    /// ```
    /// use mozaggregator_core::Date;
    /// let d = Date::parse("20170115").unwrap();
    /// assert_eq!(d.days_before(730).unwrap().to_string(), "20150116");
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] for a result before year 0.
    pub fn days_before(self, days: u32) -> Result<Date> {
        self.add_days(-i64::from(days))
    }

    /// Today in UTC, by the system clock (1970-01-01 for a clock before it).
    pub fn today_utc() -> Date {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        // Before 9999-12-31 for any plausible clock.
        Date::from_days(days).unwrap_or(Date(19_700_101))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}", self.0)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{:08}\"", self.0)
    }
}

impl FromStr for Date {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Date::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Date;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YYYYMMDD date string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Date, E> {
                Date::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

fn is_leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: u32, m: u32) -> u32 {
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
    let z = z.saturating_add(719_468);
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

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        let start = date("18000101").to_days();
        let mut expected = (1800, 1, 1);
        for n in start..start + 146_097 {
            let d = Date::from_days(n).unwrap();
            assert_eq!((d.year(), d.month(), d.day()), expected, "{d}");
            assert_eq!(date(&d.to_string()), d);
            assert_eq!(d.to_days(), n);
            let (y, m, day) = expected;
            expected = if day < days_in_month(y, m) {
                (y, m, day + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn epoch_and_known_offsets() {
        assert_eq!(date("19700101").to_days(), 0);
        assert_eq!(date("20000301").to_days(), 11_017);
        assert_eq!(
            date("20150630").days_before(365 * 2).unwrap(),
            date("20130630")
        );
        assert_eq!(date("20161231").add_days(1).unwrap(), date("20170101"));
        assert_eq!(date("00010101").to_string(), "00010101");
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "20150229",
            "21000229",
            "20150431",
            "20151301",
            "2015010",
            "2015-1-1",
            "00000000",
            "20150600",
            "2015063x",
            "+2015063",
            "",
            "201506300",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("20000229").is_ok());
        assert!(date("00000101").days_before(1).is_err());
        assert!(date("99991231").add_days(1).is_err());
        assert!(date("20150101").add_days(i64::MAX).is_err());
        assert!(date("20150101").add_days(i64::MIN).is_err());
        assert!(Date::from_days(i64::MIN).is_err());
        assert!(Date::from_days(i64::MAX).is_err());
    }

    #[test]
    fn errors_name_the_argument() {
        assert_eq!(
            Date::parse_as("cutoff date", "20150231")
                .unwrap_err()
                .to_string(),
            "invalid cutoff date: `20150231` is not a YYYYMMDD date"
        );
    }

    #[test]
    fn serde_is_the_string() {
        let d = date("20150601");
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""20150601""#);
        assert_eq!(serde_json::from_str::<Date>(r#""20150601""#).unwrap(), d);
        assert!(serde_json::from_str::<Date>(r#""20150631""#).is_err());
        assert!(serde_json::from_str::<Date>("20150601").is_err());
    }

    #[test]
    fn order_is_calendar_order() {
        assert!(date("20151231") < date("20160101"));
        assert!(date("20160131") < date("20160201"));
    }

    #[test]
    fn today_is_a_valid_date() {
        let today = Date::today_utc();
        assert_eq!(date(&today.to_string()), today);
    }

    proptest::proptest! {
        #[test]
        fn display_parse_round_trips(days in -719_528i64..2_932_897) {
            let d = Date::from_days(days).unwrap();
            let text = d.to_string();
            proptest::prop_assert_eq!(text.len(), 8);
            proptest::prop_assert_eq!(Date::parse(&text).unwrap(), d);
            proptest::prop_assert_eq!(d.to_days(), days);
        }

        #[test]
        fn add_days_agrees_with_to_days(days in -719_528i64..2_932_897, step in -800_000i64..800_000) {
            let d = Date::from_days(days).unwrap();
            match d.add_days(step) {
                Ok(e) => proptest::prop_assert_eq!(e.to_days(), days + step),
                Err(_) => proptest::prop_assert!(Date::from_days(days + step).is_err()),
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,10}") {
            let _ = Date::parse(&text);
        }
    }
}
