"""The GIL is released during native work: other Python threads run while it goes on.

How this is shown without timing: while a worker thread is inside a native call, the main
thread checks a flag the worker set just before the call and clears just after. With the
interpreter's switch interval raised far beyond the test's duration, the worker is never forced
to hand the GIL over between bytecodes, so the main thread can only run during the call if the
call released the GIL. If it did not, the main thread first runs after the call returned and
sees the flag cleared.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import pytest

from mozaggregator import Aggregator, Definitions, Store
from pings import ping


def ran_during(call) -> bool:
    """True when the main thread ran Python code while `call()` ran in another thread."""
    state = {"inside": False}
    started, finished = threading.Event(), threading.Event()
    errors = []

    def worker():
        started.set()
        state["inside"] = True
        try:
            call()
        except BaseException as e:  # reported by the test
            errors.append(e)
        state["inside"] = False
        finished.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        started.wait()
        seen = state["inside"]
        finished.wait()
        thread.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    return seen


PINGS = [json.dumps(ping(**{"application.buildId": f"202401{d % 28 + 1:02d}000000"}))
         for d in range(3000)]


def test_control_a_call_holding_the_gil_is_not_seen():
    # json.dumps of a big object runs in C without releasing the GIL: the method must say no.
    big = [ping() for _ in range(300)]
    assert ran_during(lambda: json.dumps(big)) is False


def test_add_pings_releases_the_gil():
    agg = Aggregator()
    assert ran_during(lambda: agg.add_pings(PINGS))
    assert agg.report()["pings_used"] == len(PINGS)


def test_add_ping_releases_the_gil():
    huge = ping()
    huge["payload"]["keyedHistograms"]["SEARCH_DURATION"] = {
        f"engine{i}": dict(huge["payload"]["histograms"]["GC_MS"]) for i in range(20000)}
    text = json.dumps(huge)
    agg = Aggregator()
    assert ran_during(lambda: agg.add_ping(text))
    assert agg.report()["pings_used"] == 1


def test_merge_aggregates_write_and_query_release_the_gil(tmp_path):
    # Many distinct aggregates (one OS version each), so that each call has real work.
    wide = [json.dumps(ping(**{
        "application.buildId": f"202401{d % 28 + 1:02d}000000",
        "environment.system.os": {"name": "Windows_NT", "version": str(d)}}))
        for d in range(3000)]
    a, b = Aggregator(), Aggregator()
    a.add_pings(wide)
    b.add_pings(wide)
    assert ran_during(lambda: a.merge(b))
    assert ran_during(lambda: a.aggregates())
    store = Store.open(tmp_path / "s.sqlite")
    assert ran_during(lambda: a.write(store))
    assert ran_during(lambda: store.export())
    dates = [f"202401{d:02d}" for d in range(1, 29)]
    assert ran_during(lambda: [store.query("build_id", "nightly", "120", dates, m)
                               for m in ("GC_MS", "TAB_COUNT", "SEARCH_DURATION")])


def test_loading_definitions_releases_the_gil(tmp_path):
    path = tmp_path / "Histograms.json"
    path.write_text(json.dumps({
        f"H_{i}": {"kind": "exponential", "high": 10000 + i, "n_buckets": 50,
                   "description": "x" * 100} for i in range(20000)}))
    assert ran_during(lambda: Definitions(histograms=path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_definitions_read_a_pipe_that_this_thread_writes(tmp_path):
    # The native reader blocks on the pipe until the main thread writes to it: this finishes
    # only if the GIL is released while reading. A watchdog turns a deadlock into a failure.
    import faulthandler

    fifo = tmp_path / "defs.fifo"
    os.mkfifo(fifo)
    result = {}
    faulthandler.dump_traceback_later(120, exit=True)
    try:
        t = threading.Thread(target=lambda: result.setdefault("defs", Definitions(histograms=fifo)))
        t.start()
        with open(fifo, "w") as w:
            w.write(json.dumps({"GC_MS": {"kind": "flag", "description": "via a pipe"}}))
        t.join()
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert result["defs"].description("GC_MS") == "via a pipe"
