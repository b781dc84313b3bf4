"""Core errors map to ValueError / KeyError / OSError / RuntimeError; nothing crashes."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mozaggregator
from mozaggregator import Aggregator, Definitions, Store


def test_value_errors():
    with pytest.raises(ValueError, match="bucket count"):
        mozaggregator.exponential_buckets(1, 100, 2)
    with pytest.raises(ValueError, match="prefix"):
        Store.memory().channels("nope")
    with pytest.raises(ValueError, match="channels"):
        Aggregator(channels=["esr"])
    with pytest.raises(ValueError):
        Aggregator.from_bytes(b"\x00" * 64)


def test_key_errors():
    with pytest.raises(KeyError):
        Definitions().layout("GC_MS")
    with pytest.raises(KeyError):
        Store.memory().query("build_id", "nightly", "1", ["20240101"], "GC_MS")


def test_os_errors_carry_errno_and_filename(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(OSError) as err:
        Definitions(histograms=missing)
    assert isinstance(err.value, FileNotFoundError)
    assert err.value.errno == 2 and err.value.filename == str(missing)
    with pytest.raises(IsADirectoryError):
        Definitions(histograms=tmp_path)


def test_runtime_errors(tmp_path):
    not_a_db = tmp_path / "x.sqlite"
    not_a_db.write_bytes(b"this is not an SQLite database, " * 64)
    with pytest.raises(RuntimeError):
        Store.open(not_a_db)
    # A store that cannot be created is an OSError naming the path, not a crash.
    missing = tmp_path / "no" / "such" / "dir" / "x.sqlite"
    with pytest.raises(FileNotFoundError) as err:
        Store.open(missing)
    assert err.value.filename == str(missing)
    with pytest.raises(IsADirectoryError):
        Store.open(tmp_path)


def test_hostile_input_never_crashes_the_interpreter():
    # Run in a child interpreter: a panic or abort would show as a signal exit code.
    code = r"""
import json, mozaggregator
agg = mozaggregator.Aggregator()
deep = "[" * 100000 + "]" * 100000
agg.add_pings([deep, "{" * 5000, '{"payload": {"histograms": {"X": {"sum": 1e400}}}}',
               json.dumps({"application": {"channel": "nightly", "buildId": "x" * 10**6}}),
               b"\x00" * 1000, "", " ", "null", "1e99999"])
print(agg.report()["pings_read"])
try:
    mozaggregator.exponential_buckets(1, 2**62, 10**6)
except ValueError:
    print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["9", "ok"]
