"""The Python API aggregates exactly as the CLI does: same pings (from `mozaggregator generate`),
same rows as `mozaggregator export`, same report counters, and stores each can read."""

from __future__ import annotations

import json

import pytest

from conftest import counters, run_cli
from mozaggregator import Aggregator, Definitions, Store, generate_pings


def test_generate_pings_equals_the_cli(cli, tmp_path):
    out = tmp_path / "g.ndjson"
    run_cli(cli, "generate", "--pings", 3, "--seed", 9, "--submission-date", "20240110",
            "--out", out)
    assert generate_pings(3, seed=9, submission_date="20240110") == out.read_text().splitlines()
    no_meta = generate_pings(2, seed=9)
    assert all("meta" not in json.loads(p) for p in no_meta)


def test_generate_pings_with_chosen_dimensions_equals_the_cli(cli, tmp_path):
    out = tmp_path / "g.ndjson"
    run_cli(cli, "generate", "--pings", 4, "--seed", 3, "--submission-date", "20240110",
            "--channel", "beta,nightly", "--version", "130.0", "--os", "Darwin",
            "--build-id", "20240109120000", "--out", out)
    pings = generate_pings(4, seed=3, submission_date="20240110", channels=["beta", "nightly"],
                           versions=["130.0"], os=["Darwin"], build_ids=["20240109120000"])
    assert pings == out.read_text().splitlines()
    for p in map(json.loads, pings):
        assert p["application"]["channel"] in {"beta", "nightly"}
        assert p["application"]["version"] == "130.0"
        assert p["application"]["buildId"] == "20240109120000"
        assert p["environment"]["system"]["os"]["name"] == "Darwin"
    # generated pings aggregate without a reject of any kind
    agg = Aggregator()
    agg.add_pings(pings)
    report = agg.report()
    assert report["pings_used"] == 4
    assert report["pings_rejected"] == report["histograms_rejected"] == {}
    assert report["scalars_rejected"] == {}
    with pytest.raises(ValueError, match="`esr` is not one of"):
        generate_pings(1, channels=["esr"])


def test_add_files_equals_cli_export(cli_run):
    agg = Aggregator()
    agg.add_files(cli_run.files)
    assert len(cli_run.rows) > 1000
    assert agg.aggregates() == cli_run.rows
    report = agg.report()
    assert report["pings_rejected"] == cli_run.report["pings_rejected"] != {}
    # the CLI's report also counts what it wrote: write into a store to compare everything
    agg.write(Store.memory())
    assert counters(agg.report()) == counters(cli_run.report)


def test_add_pings_from_str_equals_cli_export(cli_run):
    lines = [line for f in cli_run.files for line in f.read_text().splitlines()]
    agg = Aggregator()
    agg.add_pings(lines)
    assert agg.aggregates() == cli_run.rows
    assert agg.aggregates("submission_date") == [
        r for r in cli_run.rows if r["prefix"] == "submission_date"]


def test_python_written_store_exports_like_the_cli_store(cli, cli_run, tmp_path):
    agg = Aggregator()
    agg.add_files(cli_run.files)
    db = tmp_path / "py.sqlite"
    agg.write(Store.open(db))
    exported = [json.loads(line) for line in run_cli(cli, "export", "--db", db).splitlines()]
    assert exported == cli_run.rows
    # and Python reads the CLI's store as the CLI wrote it
    store = Store.open(cli_run.db)
    assert store.export() == cli_run.rows
    row0 = cli_run.rows[0]
    selected = run_cli(cli, "export", "--db", cli_run.db, "--prefix", "submission_date",
                       "--channel", row0["channel"], "--version", row0["version"])
    assert store.export("submission_date", channel=row0["channel"], version=row0["version"]) == [
        json.loads(line) for line in selected.splitlines()] != []
    assert store.channels("build_id") == sorted({r["channel"] for r in cli_run.rows})
    row = next(r for r in cli_run.rows
               if r["prefix"] == "submission_date" and r["metric"].startswith("SCALARS_"))
    q = store.query("submission_date", row["channel"], row["version"], [row["date"]],
                    row["metric"], application=row["application"],
                    architecture=row["architecture"], os=row["os"],
                    osVersion=row["os_version"], child=row["process"], label=row["label"])
    assert (q.data[0]["count"], q.data[0]["sum"], q.data[0]["histogram"]) == (
        row["count"], row["sum"], row["histogram"])


def test_options_match_the_cli_flags(cli, cli_run, tmp_path):
    db = tmp_path / "opts.sqlite"
    run_cli(cli, "aggregate", "--db", db, "--channels", "beta,release", "--full-os-version",
            "--submission-date", "20240116", *cli_run.files)
    rows = [json.loads(line) for line in run_cli(cli, "export", "--db", db).splitlines()]
    agg = Aggregator(channels=["beta", "release"], full_os_version=True,
                     submission_date="20240116")
    agg.add_files(cli_run.files)
    assert rows and agg.aggregates() == rows


def test_prefer_definitions_matches_the_cli(cli, cli_run, tmp_path, shared_data):
    hist = shared_data / "definitions" / "Histograms-2017.json"
    template = shared_data / "pings" / "main.4.sample.pass.json"
    pings = tmp_path / "t.ndjson"
    run_cli(cli, "generate", "--pings", 5, "--seed", 4, "--submission-date", "20240115",
            "--template", template, "--out", pings)
    db = tmp_path / "defs.sqlite"
    run_cli(cli, "aggregate", "--db", db, "--histograms", hist, "--prefer-definitions", pings)
    rows = [json.loads(line) for line in
            run_cli(cli, "export", "--db", db, "--histograms", hist).splitlines()]
    agg = Aggregator(definitions=Definitions(histograms=hist), prefer_definitions=True)
    agg.add_files(pings)
    assert rows and agg.aggregates() == rows
    plain = Aggregator()
    plain.add_files(pings)
    assert plain.aggregates() != rows  # the definitions changed some layouts
