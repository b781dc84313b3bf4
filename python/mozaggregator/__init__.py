"""mozaggregator: Firefox Telemetry histogram aggregation, for notebooks and PySpark.

The heavy lifting happens in Rust (``mozaggregator._native``, built from the
``mozaggregator-py`` crate); this package re-exports it and adds pandas helpers
(``.to_pandas()``) and distributed aggregation with PySpark (``mozaggregator.spark``).
pandas and pyspark are optional: the package imports without them.

>>> import mozaggregator
>>> mozaggregator.exponential_buckets(1, 30000, 50)[:4]
[0, 1, 2, 3]
"""

from mozaggregator import _native
from mozaggregator._native import (
    Aggregator,
    BucketLayout,
    Definitions,
    NotAStoreError,
    QueryResult,
    Store,
    StoreDamagedError,
    StoreDiskError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    StoreVersionError,
    compare,
    exponential_buckets,
    generate_pings,
    linear_buckets,
)

__version__: str = _native.__version__


def comparison_frame(comparison):
    """``compare(a, b)`` as a pandas DataFrame: one row per statistic (``samples``, ``pings``,
    ``mean``, each percentile) with columns ``a``, ``b``, ``absolute`` and ``relative``."""
    from mozaggregator._frames import comparison_frame as frame

    return frame(comparison)

__all__ = [
    "Aggregator",
    "BucketLayout",
    "Definitions",
    "NotAStoreError",
    "QueryResult",
    "Store",
    "StoreDamagedError",
    "StoreDiskError",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "StoreVersionError",
    "compare",
    "comparison_frame",
    "exponential_buckets",
    "generate_pings",
    "linear_buckets",
    "__version__",
]
