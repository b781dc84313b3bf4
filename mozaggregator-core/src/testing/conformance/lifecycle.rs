//! Checks of retention and of the data version.

use std::collections::BTreeSet;

use super::fixtures::{batch, date, dims, dump, key, layout_a, seeded, target};
use super::{ensure, ok, same, Factory, Failure};
use crate::keys::{DateVersion, Prefix, Process, Target};
use crate::store::Store;

/// Writes the trim fixture: tables on 20150101..=20150103 of two versions and both prefixes,
/// with a metric, an os and a channel that exist only in the oldest tables.
fn trim_fixture(store: &dyn Store, check: &'static str) -> Result<Vec<Target>, Failure> {
    let win = dims("Firefox", "x86", "Windows_NT", "6.1");
    let old_os = dims("Firefox", "x86", "Windows_NT", "5.1");
    let mut all = Vec::new();
    let mut tables = Vec::new();
    for date in ["20150101", "20150102", "20150103"] {
        for prefix in Prefix::ALL {
            let t = target(prefix, "nightly", "42", date);
            let mut rows = vec![(
                key("KEPT", "", Process::Parent, &win),
                seeded(layout_a(), 1),
            )];
            if date == "20150101" {
                rows.push((
                    key("OLD_ONLY", "", Process::Gpu, &old_os),
                    seeded(layout_a(), 2),
                ));
            }
            all.push(t.clone());
            tables.push((t, rows));
        }
    }
    let t = target(Prefix::BuildId, "aurora", "41", "20150101");
    all.push(t.clone());
    tables.push((
        t,
        vec![(
            key("KEPT", "", Process::Parent, &win),
            seeded(layout_a(), 3),
        )],
    ));
    ok(check, "write", store.write(&batch("20150103", tables)))?;
    all.sort();
    Ok(all)
}

/// `trim` drops the tables dated before the cutoff (exclusive) and everything derived from
/// them (dates, channels, filter options, absorbed dates); a dry run only lists them.
///
/// # Errors
/// The first deviation.
pub fn trim(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "trim";
    let store = factory();
    let all = trim_fixture(&*store, C)?;
    let old: Vec<Target> = all
        .iter()
        .filter(|t| t.date < date("20150102"))
        .cloned()
        .collect();

    let before = dump(&*store)?;
    let version = ok(C, "data_version", store.data_version())?;
    same(
        C,
        "dry run lists",
        &ok(C, "dry run", store.trim(date("20150102"), true))?,
        &old,
    )?;
    same(C, "store after a dry run", &dump(&*store)?, &before)?;
    same(
        C,
        "data_version after a dry run",
        &ok(C, "data_version", store.data_version())?,
        &version,
    )?;

    same(
        C,
        "trim returns",
        &ok(C, "trim", store.trim(date("20150102"), false))?,
        &old,
    )?;
    let after = dump(&*store)?;
    let want: Vec<_> = before
        .iter()
        .filter(|(t, _, _)| t.date >= date("20150102"))
        .cloned()
        .collect();
    same(C, "store after trim", &after, &want)?;
    ensure(
        C,
        ok(C, "data_version", store.data_version())? != version,
        "trim did not change data_version",
    )?;
    same(
        C,
        "trimming again",
        &ok(C, "trim", store.trim(date("20150102"), false))?,
        &Vec::new(),
    )?;

    let dv = |text: &str| DateVersion {
        date: date(text),
        version: "42".into(),
    };
    same(
        C,
        "dates after trim",
        &ok(C, "dates", store.dates(Prefix::BuildId, "nightly"))?,
        &vec![dv("20150103"), dv("20150102")],
    )?;
    same(
        C,
        "channels after trim",
        &ok(C, "channels", store.channels(Prefix::BuildId))?,
        &vec!["nightly".to_string()],
    )?;
    let options = ok(C, "filter_options", store.filter_options("nightly", "42"))?
        .ok_or_else(|| Failure::new(C, "filter options of the kept tables are gone"))?;
    same(
        C,
        "metrics after trim",
        &options.metric,
        &["KEPT".to_string()].into(),
    )?;
    same(
        C,
        "os after trim",
        &options.os,
        &[("Windows_NT".to_string(), "6.1".to_string())].into(),
    )?;
    same(
        C,
        "child after trim",
        &options.child,
        &[Process::Parent].into(),
    )?;
    same(
        C,
        "options of a version only in trimmed tables",
        &ok(C, "filter_options", store.filter_options("aurora", "41"))?,
        &None,
    )?;
    same(
        C,
        "absorbed of a trimmed table",
        &ok(C, "absorbed", store.absorbed(&old[0]))?,
        &BTreeSet::new(),
    )?;
    let kept = target(Prefix::BuildId, "nightly", "42", "20150102");
    same(
        C,
        "absorbed of a kept table",
        &ok(C, "absorbed", store.absorbed(&kept))?,
        &[date("20150103")].into(),
    )
}

/// `data_version` changes with every write that changes data and with every trim that drops
/// something, and never otherwise.
///
/// # Errors
/// The first deviation.
pub fn data_version(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "data_version";
    let store = factory();
    let version = |s: &dyn Store| ok(C, "data_version", s.data_version());
    let v0 = version(&*store)?;
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    let b1 = batch(
        "20150601",
        vec![(
            t.clone(),
            vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 1))],
        )],
    );
    ok(C, "write", store.write(&b1))?;
    let v1 = version(&*store)?;
    ensure(C, v1 != v0, "a write did not change data_version")?;
    ok(C, "repeat", store.write(&b1))?;
    same(C, "after a skipped write", &version(&*store)?, &v1)?;
    ok(C, "trim nothing", store.trim(date("20150101"), false))?;
    same(
        C,
        "after a trim that dropped nothing",
        &version(&*store)?,
        &v1,
    )?;
    ok(C, "dry run", store.trim(date("20160101"), true))?;
    same(C, "after a dry run", &version(&*store)?, &v1)?;

    let b2 = batch(
        "20150602",
        vec![(
            t,
            vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 2))],
        )],
    );
    ok(C, "second write", store.write(&b2))?;
    let v2 = version(&*store)?;
    ensure(
        C,
        v2 != v1 && v2 != v0,
        "a second write did not give a new data_version",
    )?;
    let rejected_only = batch(
        "20150603",
        vec![(
            target(Prefix::BuildId, "beta", "42", "20150601"),
            vec![(
                key("BAD NAME", "", Process::Parent, &d),
                seeded(layout_a(), 3),
            )],
        )],
    );
    ok(C, "write of rejected rows", store.write(&rejected_only))?;
    let v3 = version(&*store)?;
    ensure(
        C,
        ![v0, v1, v2].contains(&v3),
        "a write creating a table did not change data_version",
    )?;
    ok(C, "trim", store.trim(date("20160101"), false))?;
    let v4 = version(&*store)?;
    ensure(
        C,
        ![v0, v1, v2, v3].contains(&v4),
        "a trim that dropped tables did not change data_version",
    )
}
