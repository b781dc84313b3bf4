"""Types of the values the ``mozaggregator`` API takes and returns, for type checkers.

The API returns plain dicts and lists; these ``TypedDict``\\ s say which keys each dict has,
and the ``Literal`` aliases list the strings an argument accepts. They exist at run time too,
so ``from mozaggregator.types import QueryEntry`` works in annotations anywhere.

>>> from mozaggregator.types import PERCENTILE_METHODS
>>> PERCENTILE_METHODS
('interp', 'nearest', 'tmo')
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Literal, Mapping, Optional, TypedDict, Union

__all__ = [
    "AggregateRow",
    "Comparison",
    "ComparisonCi",
    "ComparisonSide",
    "ConfidenceLevel",
    "DateVersion",
    "Delta",
    "DeltaCi",
    "DeltaInterval",
    "Dimension",
    "DocType",
    "Distances",
    "EntryCi",
    "FilterOptions",
    "Interval",
    "Kind",
    "PERCENTILE_METHODS",
    "Path",
    "PercentileMethod",
    "Ping",
    "Prefix",
    "QueryAnswer",
    "QueryEntry",
    "Report",
    "SideCi",
    "StatsRow",
    "WriteReport",
]

#: A path argument: a ``str`` or an ``os.PathLike``.
Path = Union[str, "os.PathLike[str]"]
#: A ping: JSON text, JSON bytes or a mapping (a dict).
Ping = Union[str, bytes, Mapping[str, Any]]
#: The two aggregate families of main pings.
Prefix = Literal["build_id", "submission_date"]
#: The kinds of pings an ``Aggregator`` reads (``mobile-metrics`` is accepted for
#: ``mobile_metrics``).
DocType = Literal["main", "mobile_metrics", "mobile-metrics"]
#: How percentiles are computed (docs/statistics.md).
PercentileMethod = Literal["interp", "nearest", "tmo"]
#: The percentile methods, as a tuple (for checks at run time).
PERCENTILE_METHODS = ("interp", "nearest", "tmo")
#: The dimensions a query can be grouped by (``group_by=``).
Dimension = Literal["application", "architecture", "os", "osVersion", "child", "label"]
#: A confidence level of ``ci=``: ``0.9``, ``0.95`` or ``0.99``, as a float or a string.
ConfidenceLevel = Union[float, Literal["0.9", "0.95", "0.99"]]
#: The kinds of bucket layouts.
Kind = Literal["exponential", "linear", "boolean", "flag", "count", "enumerated", "categorical"]


class DateVersion(TypedDict):
    """One entry of ``Store.dates()``."""

    date: str
    version: str


class FilterOptions(TypedDict, total=False):
    """``Store.filters()``: the values of each dimension (empty dimensions left out)."""

    metric: List[str]
    application: List[str]
    architecture: List[str]
    os: List[str]
    child: List[str]


class _QueryEntryRequired(TypedDict):
    date: str
    label: str
    count: int
    sum: int
    histogram: List[int]


class Interval(TypedDict):
    """A jackknife interval over replicate groups: the estimate from all groups, its bounds
    and standard error (docs/statistics.md, "Intervals")."""

    estimate: Optional[float]
    lower: Optional[float]
    upper: Optional[float]
    se: Optional[float]


class DeltaInterval(Interval):
    """The interval of a delta of ``compare(..., ci=…)``, and whether it leaves 0 out."""

    excludes_zero: bool


class EntryCi(TypedDict):
    """``ci`` of a query entry: each statistic's interval (``None`` when it cannot be
    computed), by name."""

    level: float
    replicates: int
    pings: int
    stats: Dict[str, Optional[Interval]]


class QueryEntry(_QueryEntryRequired, total=False):
    """One entry of ``QueryResult.data``: a date and label; ``group`` with ``group_by``,
    ``stats`` and ``stats_buckets`` with ``stats``, ``ci`` with ``ci``."""

    group: str
    stats: Dict[str, Optional[float]]
    stats_buckets: Dict[str, Optional[List[Union[int, str]]]]
    ci: EntryCi


class QueryAnswer(TypedDict):
    """``QueryResult.to_dict()``: the HTTP API's JSON object."""

    buckets: List[Union[int, str]]
    kind: str
    description: str
    data: List[QueryEntry]


class _StatsRowRequired(TypedDict):
    date: str
    label: str
    samples: int


class StatsRow(_StatsRowRequired, total=False):
    """One entry of ``QueryResult.stats()``: ``samples`` and each requested statistic
    (``"mean"``, ``"p50"``, …: a float or ``None``) by name; ``group`` when grouped; with
    ``ci``, ``"mean_lower"``, ``"mean_upper"``, ``"p50_lower"``, … as well."""

    group: str
    tmo_mean: Optional[float]


class _AggregateRowRequired(TypedDict):
    prefix: str
    channel: str
    version: str
    date: str
    metric: str
    label: str
    process: str
    application: str
    architecture: str
    os: str
    os_version: str
    kind: str
    buckets: List[Union[int, str]]
    histogram: List[int]
    sum: int
    count: int


class AggregateRow(_AggregateRowRequired, total=False):
    """One row of ``Aggregator.aggregates()`` and ``Store.export()`` (the CLI's ``export``):
    ``prefix`` is ``build_id`` or ``submission_date``, or ``mobile_metrics`` for a mobile row,
    which also has ``build_id`` (its build id as the pings sent it), lists only its non-empty
    buckets, and whose ``kind`` is ``sparse`` when no definition gave its layout."""

    build_id: str


class _WriteReportRequired(TypedDict):
    targets_written: int
    targets_skipped: List[Any]
    rows_written: int
    rows_rejected: Dict[str, int]
    replicate_rows_written: int


class WriteReport(_WriteReportRequired, total=False):
    """What ``Aggregator.write()`` did (``replicate_rows_rejected`` only when some were)."""

    replicate_rows_rejected: Dict[str, int]


class Report(TypedDict):
    """``Aggregator.report()``: the counters the CLI reports."""

    files_read: int
    input_bytes: int
    json_bytes: int
    pings_read: int
    pings_used: int
    pings_without_replicate_group: int
    pings_rejected: Dict[str, int]
    inputs_damaged: Dict[str, int]
    histograms_used: int
    histograms_rejected: Dict[str, int]
    scalars_used: int
    scalars_rejected: Dict[str, int]
    bad_keys: int
    non_integer_counts: int
    unplaced_samples: Dict[str, int]
    series_written: int
    rows_rejected: Dict[str, int]
    replicate_rows_written: int
    replicate_rows_rejected: Dict[str, int]
    targets_written: int
    targets_skipped: int
    skipped_tables: List[str]
    files_skipped: List[str]
    damaged_inputs: Dict[str, str]
    seconds: float
    read_seconds: float
    aggregate_seconds: float
    merge_seconds: float
    write_seconds: float
    mb_per_s: float
    pings_per_s: float


class _SideRequired(TypedDict):
    samples: int
    pings: int
    mean: Optional[float]
    percentiles: Dict[str, Optional[float]]
    proportions: List[float]


class SideCi(TypedDict):
    """``ci`` of a side of ``compare(..., ci=…)``: the intervals of its statistics."""

    pings: int
    mean: Optional[Interval]
    percentiles: Dict[str, Optional[Interval]]
    proportions: List[Optional[Interval]]


class ComparisonSide(_SideRequired, total=False):
    """One side of ``compare()``: its entries pooled (``tmo_mean`` with ``method="tmo"``,
    ``ci`` with ``ci``)."""

    tmo_mean: Optional[float]
    ci: SideCi


class DeltaCi(TypedDict):
    """The intervals of one delta of ``compare(..., ci=…)``."""

    absolute: Optional[DeltaInterval]
    relative: Optional[DeltaInterval]


class _DeltaRequired(TypedDict):
    absolute: Optional[float]
    relative: Optional[float]


class Delta(_DeltaRequired, total=False):
    """B − A of one statistic of ``compare()`` (``ci`` with ``ci``, for the mean and the
    percentiles)."""

    ci: DeltaCi


class Distances(TypedDict):
    """The distances between the sides of ``compare()``."""

    bhattacharyya: float
    ks: float
    cdf_squared: float


class ComparisonCi(TypedDict):
    """``ci`` of ``compare(..., ci=…)``: the verdict (``"same"``, ``"differs"``, or ``None``
    without an interval of the median's or the mean's relative change), what triggered it,
    the intervals it read and each bucket's proportion delta's intervals."""

    level: float
    replicates: int
    threshold: float
    verdict: Optional[Literal["same", "differs"]]
    triggered_by: List[str]
    checked: Dict[str, Optional[DeltaInterval]]
    proportions: List[DeltaCi]


class _ComparisonRequired(TypedDict):
    kind: str
    buckets: List[Union[int, str]]
    a: ComparisonSide
    b: ComparisonSide
    deltas: Dict[str, Delta]
    distances: Distances


class Comparison(_ComparisonRequired, total=False):
    """``mozaggregator.compare(a, b)``: what the HTTP ``compare/`` route answers (``ci``
    with ``ci``)."""

    ci: ComparisonCi
