"""pandas conversions behind the ``.to_pandas()`` methods (pandas is optional)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

#: Columns of ``Aggregator.aggregates()`` rows, in the CLI ``export`` order.
AGGREGATE_COLUMNS = [
    "prefix",
    "channel",
    "version",
    "date",
    "metric",
    "label",
    "process",
    "application",
    "architecture",
    "os",
    "os_version",
    "kind",
    "buckets",
    "histogram",
    "sum",
    "count",
]


def require_pandas() -> Any:
    """Imports pandas, or raises ImportError saying how to install it."""
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - exercised by a test with pandas hidden
        raise ImportError(
            "to_pandas() needs pandas, which is not installed: "
            "pip install 'mozaggregator[pandas]' (or pip install pandas)"
        ) from err
    return pandas


def aggregates_frame(rows: Iterable[Mapping[str, Any]]) -> Any:
    """One DataFrame row per aggregate series, with the CLI ``export`` columns."""
    pd = require_pandas()
    return pd.DataFrame(list(rows), columns=AGGREGATE_COLUMNS)


def query_frame(result: Any) -> Any:
    """A ``QueryResult`` as a DataFrame: one row per (date, label) with ``count`` and ``sum``,
    then one column per bucket (named by the bucket's lower bound or label)."""
    pd = require_pandas()
    buckets = list(result.buckets)
    records = []
    for entry in result.data:
        record = {
            "date": entry["date"],
            "label": entry["label"],
            "count": entry["count"],
            "sum": entry["sum"],
        }
        record.update(zip(buckets, entry["histogram"]))
        records.append(record)
    return pd.DataFrame(records, columns=["date", "label", "count", "sum", *buckets])


def records_frame(rows: Iterable[Mapping[str, Any]]) -> Any:
    """A list of dicts (``QueryResult.stats()``) as a DataFrame, columns in first-seen order."""
    pd = require_pandas()
    return pd.DataFrame(list(rows))


def comparison_frame(comparison: Mapping[str, Any]) -> Any:
    """``mozaggregator.compare(...)`` as a DataFrame: one row per statistic with side A's and
    side B's values and the absolute and relative deltas."""
    pd = require_pandas()
    records = []
    for name, delta in comparison["deltas"].items():
        if name in ("samples", "pings", "mean"):
            a, b = comparison["a"][name], comparison["b"][name]
        else:
            a, b = comparison["a"]["percentiles"][name], comparison["b"]["percentiles"][name]
        records.append({"stat": name, "a": a, "b": b, **delta})
    return pd.DataFrame(records, columns=["stat", "a", "b", "absolute", "relative"]).set_index("stat")


def buckets_frame(result: Any, values: Iterable[Iterable[float]]) -> Any:
    """Per-bucket values of a ``QueryResult`` (proportions, CDF) as a DataFrame: one row per
    (date, label), then one column per bucket (named by its lower bound or label)."""
    pd = require_pandas()
    buckets = list(result.buckets)
    records = []
    for entry, row in zip(result.data, values):
        record = {"date": entry["date"], "label": entry["label"]}
        record.update(zip(buckets, row))
        records.append(record)
    return pd.DataFrame(records, columns=["date", "label", *buckets])
