"""Aggregator.add_files: json / ndjson / gz / zst files and directories, threads, errors."""

from __future__ import annotations

import gzip
import json
import os
import threading

import pytest

from mozaggregator import Aggregator
from pings import ping

COUNTERS = ["pings_read", "pings_used", "pings_rejected", "histograms_used",
            "histograms_rejected", "scalars_used", "scalars_rejected", "json_bytes"]


def docs(n):
    return [json.dumps(ping(**{"application.buildId": f"202401{i % 9 + 1:02d}000000",
                               "payload.simpleMeasurements.uptime": i})) for i in range(n)]


def counters(report):
    return {k: report[k] for k in COUNTERS}


def test_ndjson_equals_add_pings(tmp_path):
    lines = docs(200) + ["not json"]
    path = tmp_path / "pings.ndjson"
    path.write_text("\n".join(lines) + "\n\n")
    from_file, from_list = Aggregator(), Aggregator()
    from_file.add_files(path)
    from_list.add_pings(lines)
    assert from_file.aggregates() == from_list.aggregates()
    assert counters(from_file.report()) == counters(from_list.report())
    report = from_file.report()
    assert report["files_read"] == 1 and report["input_bytes"] == path.stat().st_size


def test_formats_directories_and_threads(tmp_path):
    lines = docs(90)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.json").write_text(json.dumps(json.loads(lines[0]), indent=2))
    with gzip.open(tmp_path / "a" / "part.ndjson.gz", "wt") as f:
        f.write("\n".join(lines[1:50]))
    (tmp_path / "b.jsonl").write_text("\n".join(lines[50:]))
    (tmp_path / "a" / "ignored.txt").write_text("not read: not a ping file name")
    expected = Aggregator()
    expected.add_pings(lines)
    for threads in (1, 2):
        agg = Aggregator()
        agg.add_files([tmp_path / "a", str(tmp_path / "b.jsonl")], threads=threads)
        assert agg.aggregates() == expected.aggregates()
        assert agg.report()["files_read"] == 3
        assert agg.report()["pings_read"] == 90


def test_damaged_gzip_is_counted(tmp_path):
    data = gzip.compress("\n".join(docs(50)).encode())
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    agg = Aggregator()
    agg.add_files(path)
    report = agg.report()
    assert sum(report["inputs_damaged"].values()) == 1
    assert report["pings_used"] < 50


def test_missing_paths_are_os_errors(tmp_path):
    agg = Aggregator()
    with pytest.raises(FileNotFoundError):
        agg.add_files(tmp_path / "nope.ndjson")
    with pytest.raises(TypeError):
        agg.add_files(42)


def test_real_pings(shared_data):
    pings = shared_data / "pings"
    agg = Aggregator(submission_date="20240102")
    agg.add_files(sorted(str(p) for p in pings.glob("main.4.*.json")))
    report = agg.report()
    assert report["pings_read"] == len(list(pings.glob("main.4.*.json")))
    # the five full pings aggregate; the four small ones have no environment (no OS)
    assert report["pings_used"] == 5
    assert report["pings_rejected"] == {"missing_os": 4}
    assert report["histograms_used"] > 1000
    one = Aggregator(submission_date="20240102")
    one.add_ping((pings / "main.4.sample.pass.json").read_text())
    assert {r["process"] for r in one.aggregates()} == {"parent", "content", "gpu"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_two_threads_aggregate_at_once(tmp_path):
    """Thread A reads a pipe natively and blocks until the main thread writes to it; thread B
    aggregates a list meanwhile. This finishes only if A's native read released the GIL and B
    ran while A was inside native code. A watchdog turns a deadlock into a failure."""
    import faulthandler

    fifo = tmp_path / "pipe.ndjson"
    os.mkfifo(fifo)
    lines = docs(300)
    a, b = Aggregator(), Aggregator()
    b_done = threading.Event()
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        ta = threading.Thread(target=a.add_files, args=(fifo,))
        ta.start()
        tb = threading.Thread(target=lambda: (b.add_pings(lines), b_done.set()))
        tb.start()
        tb.join()
        assert b_done.is_set() and ta.is_alive()  # A is still waiting for its input
        with open(fifo, "w") as w:
            w.write("\n".join(lines))
        ta.join()
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert a.aggregates() == b.aggregates()
    assert a.report()["pings_used"] == b.report()["pings_used"] == 300


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_one_aggregator_in_two_threads_is_refused_not_raced(tmp_path):
    import faulthandler

    fifo = tmp_path / "pipe.ndjson"
    os.mkfifo(fifo)
    agg = Aggregator()
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        reader = threading.Thread(target=agg.add_files, args=(fifo,))
        reader.start()
        # wait until the reader holds the aggregator (it then blocks opening the pipe)
        while True:
            try:
                agg.report()
            except RuntimeError:
                break
        with pytest.raises(RuntimeError, match="[Bb]orrow"):
            agg.add_ping(ping())
        with open(fifo, "w") as w:
            w.write(docs(1)[0])
        reader.join()
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert agg.report()["pings_used"] == 1


def test_too_many_threads_is_a_value_error(tmp_path):
    from mozaggregator import Aggregator
    path = tmp_path / "p.ndjson"
    path.write_text("{}\n")
    with pytest.raises(ValueError, match="256"):
        Aggregator().add_files(path, threads=9999)
