"""mozaggregator: Firefox Telemetry histogram aggregation, for notebooks and PySpark.

The heavy lifting happens in Rust (``mozaggregator._native``, built from the
``mozaggregator-py`` crate), which gives plain Python data (lists and dicts); this package
re-exports it and adds the pandas helpers (``.to_pandas()`` and the ``*_frame`` methods,
defined in ``mozaggregator._frames``) and distributed aggregation with PySpark
(``mozaggregator.spark``). pandas and pyspark are optional: the package imports without them.

>>> import mozaggregator
>>> mozaggregator.exponential_buckets(1, 30000, 50)[:4]
[0, 1, 2, 3]
"""

from mozaggregator import _frames, _native
from mozaggregator._frames import comparison_frame
from mozaggregator._native import (
    Aggregator,
    BucketLayout,
    Definitions,
    ExportRows,
    NotAStoreError,
    QueryResult,
    Store,
    StoreDamagedError,
    StoreDiskError,
    StoreUnavailableError,
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

_frames.attach(Aggregator, QueryResult, Store, ExportRows)

__all__ = [
    "Aggregator",
    "BucketLayout",
    "Definitions",
    "ExportRows",
    "NotAStoreError",
    "QueryResult",
    "Store",
    "StoreDamagedError",
    "StoreDiskError",
    "StoreUnavailableError",
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
