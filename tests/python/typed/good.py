"""A small program using the typed API: `mypy --strict` accepts it (tests/python/test_stubs.py)."""

from __future__ import annotations

from mozaggregator import Aggregator, Store, StoreError, compare, generate_pings
from mozaggregator.types import Comparison, PercentileMethod, QueryEntry, Report


def mean_of(entry: QueryEntry) -> float | None:
    samples = sum(entry["histogram"])
    return entry["sum"] / samples if samples else None


def main(method: PercentileMethod = "nearest") -> None:
    agg = Aggregator(submission_date="20240115", channels=["nightly", "beta"])
    agg.add_pings(generate_pings(2, seed=1))
    report: Report = agg.report()
    used: int = report["pings_used"]
    store = Store()
    written = agg.write(store)
    rows: int = written["rows_written"]
    for day in store.dates("submission_date", "nightly"):
        result = store.query("submission_date", "nightly", day["version"], [day["date"]],
                             "GC_MS", group_by="os", stats=["mean"], pct_method=method)
        for entry in result.data:
            print(entry["date"], entry.get("group"), mean_of(entry))
        comparison: Comparison = compare(result, result, method=method)
        print(comparison["distances"]["ks"], comparison["deltas"]["mean"]["absolute"])
        print(result.percentiles([50], method="tmo")[0]["p50"])
    options = store.filters("nightly", 124)
    if options is not None:
        print(options.get("os", []))
    try:
        Store("aggregates.sqlite", lock_timeout=2.0).close()
    except StoreError as err:
        print(err)
    print(used, rows)
