"""Type stubs of the native extension ``mozaggregator._native`` (built from mozaggregator-py).

The dict shapes and string sets are in ``mozaggregator.types``. Options are keyword-only.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable, Iterator, Sequence, Union, overload

from mozaggregator.types import (
    AggregateRow,
    Comparison,
    ConfidenceLevel,
    DateVersion,
    Dimension,
    DocType,
    FilterOptions,
    Kind,
    Path,
    PercentileMethod,
    Ping,
    Prefix,
    QueryEntry,
    QueryAnswer,
    Report,
    StatsRow,
    WriteReport,
)

__version__: str

_Stats = Union[str, Sequence[str]]
_Dates = Union[str, datetime.date, Iterable[Union[str, datetime.date]]]

class StoreError(RuntimeError):
    """A store failed: the base of every store error."""

class StoreLockedError(StoreError):
    """Another process kept the store locked beyond the lock timeout."""

class StoreReadOnlyError(StoreError):
    """The store file (or its directory) cannot be written."""

class StoreDamagedError(StoreError):
    """The store file is damaged."""

class NotAStoreError(StoreError):
    """The file is not a mozaggregator store."""

class StoreVersionError(StoreError):
    """The store was written by a newer version of mozaggregator."""

class StoreDiskError(StoreError):
    """The disk or the system refused a read or write of the store."""

class StoreUnavailableError(StoreError):
    """The store's database server cannot be reached; trying again later may succeed."""

def exponential_buckets(low: int, high: int, n: int) -> list[int]:
    """Firefox's exponential bucket lower bounds (ValueError on invalid parameters)."""

def linear_buckets(low: int, high: int, n: int) -> list[int]:
    """Firefox's linear bucket lower bounds (ValueError on invalid parameters)."""

def generate_pings(
    n: int,
    *,
    seed: int = 0,
    submission_date: str | None = None,
    template: str | None = None,
    channels: Sequence[str] | None = None,
    versions: Sequence[str] | None = None,
    os: Sequence[str] | None = None,
    build_ids: Sequence[str] | None = None,
) -> list[str]:
    """Realistic synthetic main pings, deterministic for a seed."""

def compare(
    a: QueryResult,
    b: QueryResult,
    *,
    stats: _Stats | None = None,
    method: PercentileMethod = "interp",
    ci: ConfidenceLevel | None = None,
    threshold: float | None = None,
) -> Comparison:
    """Compares two query results (each pooled): sides, deltas (B − A) and distances; with
    ``ci``, their intervals over the replicate groups and a verdict."""

class BucketLayout:
    """A histogram's bucket layout."""

    @staticmethod
    def exponential(low: int, high: int, n: int) -> BucketLayout: ...
    @staticmethod
    def linear(low: int, high: int, n: int) -> BucketLayout: ...
    @staticmethod
    def enumerated(n_values: int) -> BucketLayout: ...
    @staticmethod
    def categorical(labels: Sequence[str], *, n_values: int | None = None) -> BucketLayout: ...
    @staticmethod
    def boolean() -> BucketLayout: ...
    @staticmethod
    def flag() -> BucketLayout: ...
    @staticmethod
    def count() -> BucketLayout: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def buckets(self) -> list[int]: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def low(self) -> int: ...
    @property
    def high(self) -> int: ...
    def bucket_index(self, value: int) -> int: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    @staticmethod
    def _from_state(state: tuple[Any, ...]) -> BucketLayout: ...

class Definitions:
    """Probe definitions from Histograms.json and Scalars.yaml files."""

    def __init__(
        self,
        *,
        histograms: Path | None = None,
        scalars: Path | Sequence[Path] | None = None,
    ) -> None: ...
    def layout(self, metric: str) -> BucketLayout: ...
    def description(self, metric: str) -> str: ...
    def kind(self, metric: str) -> Kind: ...
    def keyed(self, metric: str) -> bool: ...
    def metrics(self) -> list[str]: ...
    @property
    def histograms(self) -> str | None: ...
    @property
    def scalars(self) -> list[str]: ...
    def __contains__(self, metric: object) -> bool: ...
    def __len__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    @staticmethod
    def _from_state(state: tuple[Any, ...]) -> Definitions: ...

class Aggregator:
    """Aggregates main pings into build-id and submission-date aggregates."""

    def __init__(
        self,
        *,
        definitions: Definitions | None = None,
        channels: Sequence[str] | None = None,
        versions: Sequence[str] | None = None,
        submission_date: str | None = None,
        prefer_definitions: bool = False,
        full_os_version: bool = False,
        replicates: int | None = None,
        doc_type: DocType = "main",
    ) -> None: ...
    def add_ping(self, ping: Ping) -> None: ...
    def add_pings(self, pings: Iterable[Ping]) -> None: ...
    def add_files(self, paths: Path | Sequence[Path], *, threads: int = 0) -> None: ...
    def merge(self, other: Aggregator) -> None: ...
    def report(self) -> Report: ...
    def submission_dates(self) -> list[str]: ...
    def aggregates(self, prefix: Prefix | None = None) -> list[AggregateRow]: ...
    def to_pandas(self, prefix: Prefix | None = None) -> Any:
        """Added by ``mozaggregator`` (pandas)."""
    def write(self, store: Store, *, threads: int = 0) -> WriteReport: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(
        data: bytes,
        *,
        definitions: Definitions | None = None,
        channels: Sequence[str] | None = None,
        versions: Sequence[str] | None = None,
        submission_date: str | None = None,
        prefer_definitions: bool = False,
        full_os_version: bool = False,
        replicates: int | None = None,
        doc_type: DocType = "main",
    ) -> Aggregator: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    @staticmethod
    def _from_state(state: tuple[Any, ...]) -> Aggregator: ...

class QueryResult:
    """The answer to a metric query, as the HTTP API returns it."""

    @property
    def metric(self) -> str: ...
    @property
    def buckets(self) -> list[int | str]: ...
    @property
    def kind(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def data(self) -> list[QueryEntry]: ...
    def to_dict(self) -> QueryAnswer: ...
    def to_arrow(self) -> Any: ...
    def to_pandas(self) -> Any:
        """Added by ``mozaggregator`` (pandas)."""
    def mean(self) -> list[float | None]: ...
    def percentiles(
        self,
        ps: Sequence[float] = ...,
        *,
        method: PercentileMethod = "interp",
        ci: ConfidenceLevel | None = None,
    ) -> list[dict[str, float | None]]: ...
    def cdf(self) -> list[list[float]]: ...
    def proportions(self) -> list[list[float]]: ...
    def stats(
        self,
        stats: _Stats | None = None,
        *,
        method: PercentileMethod = "interp",
        ci: ConfidenceLevel | None = None,
    ) -> list[StatsRow]: ...
    def stats_frame(
        self,
        stats: _Stats | None = None,
        *,
        method: PercentileMethod = "interp",
        ci: ConfidenceLevel | None = None,
    ) -> Any:
        """Added by ``mozaggregator`` (pandas)."""
    def proportions_frame(self) -> Any:
        """Added by ``mozaggregator`` (pandas)."""
    def cdf_frame(self) -> Any:
        """Added by ``mozaggregator`` (pandas)."""
    def __reduce__(self) -> tuple[Any, ...]: ...
    @staticmethod
    def _from_state(state: tuple[Any, ...]) -> QueryResult: ...

class ArrowStream:
    """Record batches for the Arrow PyCapsule interface, readable once."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any: ...

class ExportRows(Sequence[AggregateRow]):
    """The rows of ``Store.export``: a sequence of dicts, or a pyarrow Table."""

    def to_arrow(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any: ...
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int) -> AggregateRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[AggregateRow]: ...
    def __iter__(self) -> Iterator[AggregateRow]: ...
    def __eq__(self, other: object) -> bool: ...
    def to_pandas(self) -> Any:
        """Added by ``mozaggregator`` (pandas, pyarrow)."""
    def to_polars(self) -> Any:
        """Added by ``mozaggregator`` (polars, pyarrow)."""

class Store:
    """Aggregates in a SQLite file or in memory."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        definitions: Definitions | None = None,
        lock_timeout: float | None = None,
    ) -> None: ...
    @staticmethod
    def open(
        path: Path, *, definitions: Definitions | None = None, lock_timeout: float | None = None
    ) -> Store: ...
    @staticmethod
    def memory(*, definitions: Definitions | None = None) -> Store: ...
    def channels(self, prefix: Prefix) -> list[str]: ...
    def dates(self, prefix: Prefix, channel: str) -> list[DateVersion]: ...
    def filters(self, channel: str, version: str | int) -> FilterOptions | None: ...
    def query(
        self,
        prefix: Prefix,
        channel: str,
        version: str | int,
        dates: _Dates,
        metric: str,
        *,
        group_by: Dimension | None = None,
        top: int | None = None,
        stats: _Stats | None = None,
        pct_method: PercentileMethod | None = None,
        ci: ConfidenceLevel | None = None,
        **filters: str | Sequence[str],
    ) -> QueryResult: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, *args: object) -> bool: ...
    def export(
        self,
        prefix: Prefix | None = None,
        *,
        channel: str | None = None,
        version: str | None = None,
        doc_type: DocType = "main",
    ) -> ExportRows: ...
    def to_pandas(
        self,
        prefix: Prefix | None = None,
        *,
        channel: str | None = None,
        version: str | None = None,
        doc_type: DocType = "main",
    ) -> Any:
        """Added by ``mozaggregator`` (pandas)."""
