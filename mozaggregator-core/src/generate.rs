//! Realistic synthetic main pings, deterministic for a seed. (Being written.)

use crate::error::{Error, Result};
use crate::keys::check_date;

/// `date` (`YYYYMMDD`) shifted by `days`. (Temporary: replaced by `crate::date::add_days`.)
pub(crate) fn add_days(date: &str, days: i64) -> Result<String> {
    check_date("date", date)?;
    let bad = || Error::invalid("date", format!("`{date}` is not a YYYYMMDD date"));
    let y: i64 = date[..4].parse().map_err(|_| bad())?;
    let m: i64 = date[4..6].parse().map_err(|_| bad())?;
    let d: i64 = date[6..].parse().map_err(|_| bad())?;
    // Days from civil (proleptic Gregorian), shifted, and back.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let z = era * 146_097 + doe - 719_468 + days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if !(0..=9999).contains(&y) {
        return Err(bad());
    }
    Ok(format!("{y:04}{m:02}{d:02}"))
}
