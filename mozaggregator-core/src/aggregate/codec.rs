//! The compact binary form of [`Aggregates`]: LEB128 varints, sparse bucket counts.
//!
//! ```text
//! "MZAG" version(=2)
//! r_min r_max                       (0 0: no replicate groups)
//! n_strings { len bytes }*
//! n_groups { replicate id*8  n_series { metric label process kind low high n sum count
//!                                        n_nonzero { index_delta value }* }* }*
//! report_len report_json
//! mobile_len mobile_json            (version 3: the mobile rows, a JSON list)
//! ```
//!
//! `r_min`/`r_max` are the smallest and largest replicate counts of the merged parts (equal
//! unless parts made with different R were merged); `replicate` is 0 for a normal aggregate
//! and `g + 1` for replicate group `g < r_max`, whose normal aggregate is present too.
//! Version 1 (before replicate groups) had neither and is still read, as is version 2 (before
//! mobile rows).

use super::replication::Replication;
use super::{Aggregates, GroupKey, Interner, Series, SeriesId};
use crate::date::Date;
use crate::error::{Error, Result};
use crate::histogram::Histogram;
use crate::keys::Process;
use crate::layout::{Kind, LayoutSpec};
use crate::mobile::MobileAggregates;
use crate::replicate::ReplicateCount;
use crate::report::Report;

const MAGIC: &[u8; 4] = b"MZAG";
const VERSION: u8 = 3;
/// The version before mobile rows.
const VERSION_2: u8 = 2;
/// The version before replicate groups.
const VERSION_1: u8 = 1;

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn encode(a: &Aggregates) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + a.series_len() * 24);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    let (lo, hi) = a.replication.range().map_or((0, 0), |(lo, hi)| {
        (u64::from(u32::from(lo)), u64::from(u32::from(hi)))
    });
    put(&mut out, lo);
    put(&mut out, hi);
    put(&mut out, a.strings.len() as u64);
    for s in a.strings.names() {
        put(&mut out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    put(&mut out, a.groups.len() as u64);
    for (key, series) in &a.groups {
        put(&mut out, u64::from(key.replicate));
        for id in key.ids() {
            put(&mut out, u64::from(id));
        }
        put(&mut out, series.len() as u64);
        for (sid, h) in series {
            put(&mut out, u64::from(sid.metric));
            put(&mut out, u64::from(sid.label));
            out.push(sid.process.code());
            let kind = Kind::ALL.iter().position(|k| *k == sid.layout.kind());
            out.push(kind.unwrap_or(0) as u8);
            put(&mut out, sid.layout.low());
            put(&mut out, sid.layout.high());
            put(&mut out, u64::from(sid.layout.bucket_count()));
            put(&mut out, h.sum());
            put(&mut out, h.count());
            let nonzero = h.counts().iter().filter(|&&c| c != 0).count();
            put(&mut out, nonzero as u64);
            let mut last = 0usize;
            for (i, &c) in h.counts().iter().enumerate().filter(|(_, &c)| c != 0) {
                put(&mut out, (i - last) as u64);
                put(&mut out, c);
                last = i;
            }
        }
    }
    // Serializing a plain struct of numbers and string maps cannot fail.
    let report = serde_json::to_vec(&a.report).unwrap_or_default();
    put(&mut out, report.len() as u64);
    out.extend_from_slice(&report);
    let mobile = a.mobile.to_json();
    put(&mut out, mobile.len() as u64);
    out.extend_from_slice(&mobile);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Parse {
        what: "aggregates bytes".into(),
        reason: reason.into(),
    }
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad("truncated"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(bad("varint overflows 64 bits"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint too long"))
    }

    fn len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        // Every counted item takes at least one byte: a larger count is corrupt.
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.pos)
            .ok_or_else(|| bad(format!("count {n} exceeds the input")))
    }

    fn id(&mut self, strings: usize) -> Result<u32> {
        let v = self.varint()?;
        u32::try_from(v)
            .ok()
            .filter(|&i| (i as usize) < strings)
            .ok_or_else(|| bad(format!("string id {v} out of range")))
    }
}

/// The replicate counts of a version 2 encoding: `0 0`, or two valid counts, smallest first.
fn replication(r: &mut Reader<'_>) -> Result<Replication> {
    let mut count = || -> Result<Option<ReplicateCount>> {
        match r.varint()? {
            0 => Ok(None),
            v => u32::try_from(v)
                .ok()
                .and_then(|v| ReplicateCount::new(v).ok())
                .map(Some)
                .ok_or_else(|| bad(format!("replicate count {v} is not a divisor of 100"))),
        }
    };
    match (count()?, count()?) {
        (None, None) => Ok(Replication::default()),
        (Some(lo), Some(hi)) if lo <= hi => Ok(Replication::from_range(Some((lo, hi)))),
        _ => Err(bad("replicate counts out of order")),
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<Aggregates> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != MAGIC {
        return Err(bad("not an aggregates encoding (bad magic)"));
    }
    let version = r.byte()?;
    if version != VERSION && version != VERSION_2 && version != VERSION_1 {
        return Err(bad(format!("unsupported version {version}")));
    }
    let replication = if version == VERSION_1 {
        Replication::default()
    } else {
        replication(&mut r)?
    };
    let mut strings = Interner::default();
    let n_strings = r.len()?;
    for i in 0..n_strings {
        let len = r.len()?;
        let s = std::str::from_utf8(r.take(len)?).map_err(|_| bad("string is not UTF-8"))?;
        let id = strings.intern(s).ok_or_else(|| bad("too many strings"))?;
        if id as usize != i {
            return Err(bad(format!("duplicate string {s:?}")));
        }
    }
    let n = strings.len();
    let mut a = Aggregates {
        strings,
        replication,
        ..Aggregates::default()
    };
    let n_groups = r.len()?;
    for _ in 0..n_groups {
        let replicate = if version == VERSION_1 {
            0
        } else {
            let g = r.varint()?;
            u8::try_from(g)
                .ok()
                .filter(|&g| usize::from(g) <= replication.bound())
                .ok_or_else(|| {
                    bad(format!(
                        "replicate group {} of {} groups",
                        g.saturating_sub(1),
                        replication.bound()
                    ))
                })?
        };
        let mut ids = [0u32; 8];
        for k in &mut ids {
            *k = r.id(n)?;
        }
        let key = GroupKey {
            replicate,
            ..GroupKey::from_ids(ids)
        };
        for (what, id) in [
            ("submission date", key.submission_date),
            ("build id", key.build_id),
        ] {
            let text = a.strings.name(id);
            if Date::parse(text).is_err() {
                return Err(bad(format!("{what} {text:?} is not a YYYYMMDD date")));
            }
        }
        let n_series = r.len()?;
        let mut series = Series::default();
        series.reserve(n_series);
        for _ in 0..n_series {
            let metric = r.id(n)?;
            let label = r.id(n)?;
            let process = Process::from_code(i64::from(r.byte()?))
                .ok_or_else(|| bad("unknown process code"))?;
            let kind = *Kind::ALL
                .get(r.byte()? as usize)
                .ok_or_else(|| bad("unknown kind code"))?;
            let low = r.varint()?;
            let high = r.varint()?;
            let buckets = u32::try_from(r.varint()?).map_err(|_| bad("bucket count"))?;
            let layout =
                LayoutSpec::from_parts(kind, low, high, buckets).map_err(|e| bad(e.to_string()))?;
            let sum = r.varint()?;
            let count = r.varint()?;
            let mut counts = vec![0u64; layout.len()];
            let nonzero = r.len()?;
            let mut index = 0usize;
            for i in 0..nonzero {
                let delta = usize::try_from(r.varint()?).map_err(|_| bad("bucket index"))?;
                if i > 0 && delta == 0 {
                    return Err(bad("bucket indices not increasing"));
                }
                index = index
                    .checked_add(delta)
                    .filter(|&x| x < counts.len())
                    .ok_or_else(|| bad("bucket index out of range"))?;
                counts[index] = r.varint()?;
            }
            let histogram = Histogram::from_parts(layout, counts, sum, count)?;
            let sid = SeriesId {
                metric,
                label,
                process,
                layout,
            };
            if series.insert(sid, histogram).is_some() {
                return Err(bad("duplicate series"));
            }
        }
        if a.groups.insert(key, series).is_some() {
            return Err(bad("duplicate group"));
        }
    }
    // A replicate group's pings are among its normal aggregate's: that one exists.
    let orphan = a.groups.keys().find(|k| {
        !k.is_normal()
            && !a.groups.contains_key(&GroupKey {
                replicate: 0,
                ..**k
            })
    });
    if let Some(k) = orphan {
        return Err(bad(format!(
            "replicate group {} without its normal aggregate",
            k.replicate - 1
        )));
    }
    let report_len = r.len()?;
    a.report = serde_json::from_slice::<Report>(r.take(report_len)?)
        .map_err(|e| bad(format!("report: {e}")))?;
    if version == VERSION {
        let mobile_len = r.len()?;
        a.mobile = MobileAggregates::from_json(r.take(mobile_len)?)
            .map_err(|e| bad(format!("mobile rows: {e}")))?;
    }
    if r.pos != bytes.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(a)
}
