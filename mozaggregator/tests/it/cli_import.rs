//! `mozaggregator export --with-absorbed` then `import` end to end, running the binary.

use std::path::Path;

use mozaggregator_core::testing::dataset;

use crate::common::cli::{fails, ok, ok_reporting, read_json, run_with_input, s, succeeded};
use crate::core_common::gzip;

const TODAY: &str = "20240110";

/// A store of the whole data set: two submission dates, so build-id tables absorbed two.
fn aggregated(dir: &Path) -> std::path::PathBuf {
    let pings = dir.join("pings.ndjson");
    std::fs::write(&pings, dataset::pings(TODAY).unwrap().join("\n") + "\n").unwrap();
    let db = dir.join("a.sqlite");
    ok(&["aggregate", "--db", s(&db), s(&pings)]);
    db
}

#[test]
fn export_with_absorbed_then_import_into_a_new_store_exports_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let db = aggregated(tmp.path());
    let plain = ok(&["export", "--db", s(&db)]).stdout;
    for format in ["ndjson", "csv"] {
        let file = tmp.path().join(format!("rows.{format}"));
        ok(&[
            "export",
            "--db",
            s(&db),
            "--format",
            format,
            "--with-absorbed",
            "--out",
            s(&file),
        ]);
        let rows = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&rows);
        assert!(text.contains("absorbed"), "{format}");
        assert!(
            text.contains(r#"["20240108","20240110"]"#)
                || text.contains(r#"[""20240108"",""20240110""]"#),
            "{format}: a build-id table absorbed both days"
        );
        let new = tmp.path().join(format!("new-{format}.sqlite"));
        let report = tmp.path().join(format!("report-{format}.json"));
        let out = ok(&[
            "import",
            "--db",
            s(&new),
            "--report-json",
            s(&report),
            s(&file),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("rejected 0"), "{stderr}");
        let again = ok(&[
            "export",
            "--db",
            s(&new),
            "--format",
            format,
            "--with-absorbed",
        ])
        .stdout;
        assert!(again == rows, "{format}: the round trip changed the export");
        assert!(ok(&["export", "--db", s(&new)]).stdout == plain, "{format}");

        let r = read_json(&report);
        let lines = text.lines().count() as u64 - u64::from(format == "csv");
        assert_eq!(r["rows_read"], lines);
        assert_eq!(r["rows_imported"], lines);
        assert_eq!(r["rows_skipped"], 0);
        assert_eq!(r["rows_rejected"], serde_json::json!({}));
        assert_eq!(r["inputs_read"], 1);
        assert!(r["targets_written"].as_u64().unwrap() > 2);
        assert_eq!(r["targets_skipped"], 0);

        // Again: nothing written, every table skipped.
        let (out, r2) = ok_reporting(&report, &["import", "--db", s(&new), s(&file)]);
        assert_eq!(r2["rows_imported"], 0);
        assert_eq!(r2["rows_skipped"], lines);
        assert_eq!(r2["targets_skipped"], r["targets_written"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("tables skipped (already absorbed)"));
        assert!(
            ok(&[
                "export",
                "--db",
                s(&new),
                "--format",
                format,
                "--with-absorbed"
            ])
            .stdout
                == rows
        );
    }

    // gzip on stdin.
    let rows = std::fs::read(tmp.path().join("rows.ndjson")).unwrap();
    let gz = gzip(&rows);
    let piped = tmp.path().join("piped.sqlite");
    let args = ["import", "--db", s(&piped), "-"];
    succeeded(run_with_input(&args, &gz), &format!("{args:?}"));
    assert!(ok(&["export", "--db", s(&piped), "--with-absorbed"]).stdout == rows);
}

#[test]
fn import_errors_are_clear_and_exit_non_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("new.sqlite");
    let missing = tmp.path().join("missing.ndjson");
    let stderr = fails(2, &["import", "--db", s(&new), s(&missing)]);
    assert!(
        stderr.contains("missing.ndjson") && stderr.contains("No such file"),
        "{stderr}"
    );
    assert!(
        !new.exists(),
        "nothing is created before the inputs are checked"
    );

    let db = aggregated(tmp.path());
    // A plain export: build-id rows need --submission-date.
    let plain = tmp.path().join("plain.ndjson");
    ok(&["export", "--db", s(&db), "--out", s(&plain)]);
    let stderr = fails(2, &["import", "--db", s(&new), s(&plain)]);
    assert!(
        stderr.contains("--with-absorbed") && stderr.contains("--submission-date"),
        "{stderr}"
    );
    fails(
        2,
        &[
            "import",
            "--db",
            s(&new),
            "--submission-date",
            "2024-01-10",
            s(&plain),
        ],
    );

    // Not an export's CSV header.
    let csv = tmp.path().join("other.csv");
    std::fs::write(&csv, "a,b,c\n1,2,3\n").unwrap();
    assert!(fails(2, &["import", "--db", s(&new), s(&csv)]).contains("CSV header"));

    // A bad row: counted, exit 0, or 1 with --strict.
    let rows = tmp.path().join("rows.ndjson");
    ok(&[
        "export",
        "--db",
        s(&db),
        "--with-absorbed",
        "--out",
        s(&rows),
    ]);
    let mut text = std::fs::read_to_string(&rows).unwrap();
    text.push_str("{\"prefix\":\n");
    std::fs::write(&rows, &text).unwrap();
    let report = tmp.path().join("r.json");
    fails(
        1,
        &[
            "import",
            "--db",
            s(&new),
            "--strict",
            "--report-json",
            s(&report),
            s(&rows),
        ],
    );
    let r = read_json(&report);
    assert_eq!(r["rows_rejected"]["malformed"], 1);
    let example = &r["rejected_examples"][0];
    assert_eq!(example["line"], text.lines().count());
    assert_eq!(example["reason"], "malformed");
}
