"""Store failures raise mozaggregator.StoreError or the subclass of their cause (issue 13):
each case is provoked for real (a foreign database, a file that is not a database, a damaged
file, a store of a newer version, a lock held by another connection, a read-only file, a file
size limit)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import mozaggregator
from mozaggregator import (
    Aggregator,
    NotAStoreError,
    Store,
    StoreDamagedError,
    StoreDiskError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    StoreVersionError,
)


def filled(path, date="20240102"):
    """A store at `path` with a few synthetic pings of `date` (hundreds of series)."""
    agg = Aggregator()
    agg.add_pings(mozaggregator.generate_pings(8, seed=1, submission_date=date))
    with Store.open(path) as store:
        agg.write(store)
    return agg


def test_the_hierarchy():
    for cls in (StoreLockedError, StoreReadOnlyError, StoreDamagedError, NotAStoreError,
                StoreVersionError, StoreDiskError, mozaggregator.StoreUnavailableError):
        assert issubclass(cls, StoreError) and cls is not StoreError
        assert cls.__module__ == "mozaggregator" and getattr(mozaggregator, cls.__name__) is cls
    # Store errors were RuntimeErrors before: `except RuntimeError` still catches them.
    assert issubclass(StoreError, RuntimeError)
    assert not issubclass(StoreError, (ValueError, OSError))


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"this is not an SQLite database, " * 64)
    with pytest.raises(NotAStoreError, match="not a mozaggregator store") as err:
        Store.open(path)
    assert str(path) in str(err.value)


def test_another_sqlite_database(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(NotAStoreError, match="not a mozaggregator store"):
        Store(path)


def test_a_store_of_a_newer_version(tmp_path):
    path = tmp_path / "new.sqlite"
    filled(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreVersionError, match="newer") as err:
        Store.open(path)
    assert isinstance(err.value, RuntimeError)


def test_a_damaged_store(tmp_path):
    path = tmp_path / "damaged.sqlite"
    filled(path)
    data = bytearray(path.read_bytes())
    pages = len(data) // 4096
    assert pages > 6, pages
    # Every page after the schema's: the b-tree pages of the data.
    for page in range(4, pages):
        data[page * 4096:page * 4096 + 64] = b"\x5a" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(StoreDamagedError, match="damaged") as err:
        store = Store.open(path)
        store.export()
    assert str(path) in str(err.value)


def test_a_store_locked_by_another_process(tmp_path):
    path = tmp_path / "locked.sqlite"
    filled(path)
    store = Store.open(path, lock_timeout=0.1)
    agg = Aggregator()
    agg.add_pings(mozaggregator.generate_pings(1, seed=2, submission_date="20240103"))
    # Another process (SQLite's locks are per process) holds the write lock until its stdin
    # closes.
    blocker = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sqlite3, sys
            conn = sqlite3.connect({str(path)!r}, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.read()
            conn.execute("ROLLBACK")
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert blocker.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match="locked by another process") as err:
            agg.write(store)
        assert str(path) in str(err.value)
    finally:
        blocker.communicate("", timeout=60)
    assert agg.write(store)["targets_written"] > 0


def test_lock_timeout_is_checked(tmp_path):
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lock_timeout"):
            Store.open(tmp_path / "s.sqlite", lock_timeout=bad)


def make_read_only(path):
    """Makes `path` read-only — for root too (``chattr +i``); False when impossible here."""
    os.chmod(path, 0o444)
    if shutil.which("chattr") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    try:
        with open(path, "ab"):
            return False
    except OSError:
        return True


def make_writable(path):
    if shutil.which("chattr"):
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    os.chmod(path, 0o644)


def test_a_read_only_store(tmp_path):
    path = tmp_path / "ro.sqlite"
    filled(path)
    before = Store.open(path).export()
    agg = Aggregator()
    agg.add_pings(mozaggregator.generate_pings(1, seed=2, submission_date="20240103"))
    if not make_read_only(path):
        make_writable(path)
        pytest.skip("cannot make a file read-only here (root without chattr)")
    try:
        with pytest.raises(StoreReadOnlyError, match="read-only") as err:
            agg.write(Store.open(path))
        assert str(path) in str(err.value)
    finally:
        make_writable(path)
    assert Store.open(path).export() == before                      # nothing lost
    assert agg.write(Store.open(path))["targets_written"] > 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file size limits")
def test_a_file_size_limit_is_a_disk_error(tmp_path):
    path = tmp_path / "full.sqlite"
    filled(path)
    before = Store.open(path).export()
    code = f"""
        import resource, signal
        import mozaggregator
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # writes fail with EFBIG instead
        store = mozaggregator.Store.open({str(path)!r})
        size = {path.stat().st_size}
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        agg = mozaggregator.Aggregator()
        agg.add_pings(mozaggregator.generate_pings(8, seed=5, submission_date="20240103"))
        try:
            agg.write(store)
        except mozaggregator.StoreDiskError as e:
            print("disk:", e)
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("disk:"), (out.stdout, out.stderr)
    # The store stays readable; parts written before the limit are complete ones (the write
    # that failed rolled back), so nothing of before is lost.
    after = Store.open(path).export()
    assert len(after) >= len(before)


def test_an_undecodable_row_is_a_damaged_store(tmp_path):
    # A row the store cannot decode (damage SQLite does not see) is damage all the same.
    path = tmp_path / "rows.sqlite"
    filled(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE series SET data = x'07'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreDamagedError) as err:
        Store.open(path).export()
    assert isinstance(err.value, StoreError) and isinstance(err.value, RuntimeError)
    assert "corrupt histogram" in str(err.value)
    assert str(path) in str(err.value)
