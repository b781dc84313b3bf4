"""The PostgreSQL store from Python: ``Store.open(url)``, the Spark helper's ``write``, and its
errors, against a private cluster this module starts (initdb + pg_ctl, as the ``postgres``
user under root). Without PostgreSQL's server binaries the tests skip, except in CI."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

import mozaggregator
from mozaggregator import Aggregator, Store


def pg_bin() -> str | None:
    if os.environ.get("MOZAGGREGATOR_PG_BIN"):
        return os.environ["MOZAGGREGATOR_PG_BIN"]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    ctl = shutil.which("pg_ctl")
    return os.path.dirname(ctl) if ctl and shutil.which("initdb") else None


@pytest.fixture(scope="module")
def cluster():
    """(port, run) of a private cluster; `run(sql, db)` runs SQL in it with psql-free means."""
    bin_dir = pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (apt-get install postgresql)")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if root else []
    home = tempfile.mkdtemp(prefix="mozaggregator-pg-")
    if root:
        shutil.chown(home, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(home, "data")
    subprocess.run(prefix + [f"{bin_dir}/initdb", "-D", data, "--auth=trust", "-U", "postgres",
                             "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(prefix + [f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l",
                             os.path.join(home, "log"), "-o", options, "start"],
                   check=True, capture_output=True)
    try:
        yield port
    finally:
        subprocess.run(prefix + [f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def new_database(port: int, name: str) -> str:
    """A new empty database of the cluster (creating databases is the operator's job, not the
    store's), as a URL with a password the store must never show."""
    bin_dir = pg_bin()
    subprocess.run([f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                    name], check=True, capture_output=True)
    return f"postgres://postgres:notasecret@127.0.0.1:{port}/{name}"


def aggregator(date: str, seed: int) -> Aggregator:
    agg = Aggregator()
    agg.add_pings(mozaggregator.generate_pings(6, seed=seed, submission_date=date))
    return agg


def test_a_postgres_store_answers_as_a_sqlite_store(cluster, tmp_path):
    url = new_database(cluster, "py_same")
    sqlite = tmp_path / "same.sqlite"
    for date, seed in (("20240102", 1), ("20240103", 2)):
        for location in (url, sqlite):
            with Store.open(location) as store:
                aggregator(date, seed).write(store)
    with Store.open(url) as pg, Store.open(sqlite) as lite:
        assert pg.export() == lite.export()
        assert len(pg.export()) > 100
        assert pg.channels("submission_date") == lite.channels("submission_date")
        channel = pg.channels("submission_date")[0]
        dates = pg.dates("submission_date", channel)
        version = dates[0]["version"]
        assert pg.filters(channel, version) == lite.filters(channel, version)
        # The password never shows: the store names its URL with *** in its place.
        assert "notasecret" not in repr(pg)


def test_the_spark_helper_writes_into_postgres(cluster):
    pytest.importorskip("pyspark")
    from mozaggregator import spark

    url = new_database(cluster, "py_spark")
    report = spark.write(aggregator("20240104", 3), url)
    assert report["rows_written"] > 0
    again = spark.write(aggregator("20240104", 3), url)
    assert again["rows_written"] == 0 and again["targets_skipped"]


def test_an_unreachable_database_is_a_store_unavailable_error_without_the_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgres://someone:s3cretpw@127.0.0.1:{port}/agg"
    with pytest.raises(mozaggregator.StoreUnavailableError) as e:
        Store.open(url)
    assert "s3cretpw" not in str(e.value)
    assert f"127.0.0.1:{port}" in str(e.value)
