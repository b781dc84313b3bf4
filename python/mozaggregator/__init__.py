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
    QueryResult,
    Store,
    exponential_buckets,
    generate_pings,
    linear_buckets,
)

__version__: str = _native.__version__

__all__ = [
    "Aggregator",
    "BucketLayout",
    "Definitions",
    "QueryResult",
    "Store",
    "exponential_buckets",
    "generate_pings",
    "linear_buckets",
    "__version__",
]
