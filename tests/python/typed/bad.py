"""Misuses the type checker must report: each line ending in "# error" (test_stubs.py)."""

from __future__ import annotations

from mozaggregator import Aggregator, Store, generate_pings

store = Store()
agg = Aggregator(None, ["nightly"])  # error
pings = generate_pings(3, 7)  # error
result = store.query("submission_date", "nightly", "124", ["20240115"], "GC_MS")
result.percentiles([50], method="median")  # error
store.query("daily", "nightly", "124", "20240115", "GC_MS")  # error
store.query("build_id", "nightly", "124", "20240115", "GC_MS", group_by="country")  # error
count: str = agg.report()["pings_used"]  # error
agg.report()["pings_usd"]  # error
entry = result.data[0]
total: int = entry["sum"]
store.export("build_id", "nightly")  # error
