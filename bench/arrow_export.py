"""`Store.export(...).to_arrow()` against frames built from the export's dicts (bench/export.sh).

Every variant starts from `Store.export()` on the same store (the scan included), runs
`--repeat` times interleaved, and the median is reported; the output is a Markdown section.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import pyarrow as pa

from mozaggregator import Store


def poc_row(row: dict) -> dict:
    """An export dict in `to_arrow()`'s columns (the Parquet export's)."""
    build = row["prefix"] == "build_id"
    return {
        "period": row["date"][:6],
        "aggregate_type": row["prefix"],
        "submission_date": None if build else row["date"],
        "channel": row["channel"],
        "version": row["version"],
        "build_id": row["date"] if build else None,
        "application": row["application"],
        "architecture": row["architecture"],
        "os": row["os"],
        "os_version": row["os_version"],
        "metric": row["metric"],
        "key": row["label"],
        "process_type": row["process"],
        "count": row["count"],
        "sum": row["sum"],
        "histogram": [(str(b), c) for b, c in zip(row["buckets"], row["histogram"]) if c],
        "kind": row["kind"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = Store.open(args.store)
    schema = store.export().to_arrow().schema
    variants = {
        "`store.export().to_arrow()`": lambda: store.export().to_arrow(),
        "`store.export().to_pandas()` (through Arrow)": lambda: store.export().to_pandas(),
        "pyarrow Table of the same columns from the dicts": lambda: pa.Table.from_pylist(
            [poc_row(r) for r in store.export()], schema=schema),
        "pandas DataFrame from the dicts (`Store.to_pandas()`)": lambda: store.to_pandas(),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    rows = len(store.export())
    for _ in range(args.repeat):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    median = {name: statistics.median(s) for name, s in samples.items()}
    arrow = median["`store.export().to_arrow()`"]
    print(f"## Python: `to_arrow()` vs frames from the export's dicts ({rows} rows)")
    print()
    print("| variant | seconds (median) | rows/s | `to_arrow()` speedup |")
    print("|---|---:|---:|---:|")
    for name, seconds in median.items():
        print(f"| {name} | {seconds:.3f} | {rows / seconds:.0f} | {seconds / arrow:.1f}x |")
    print()
    print("Raw samples (seconds):")
    print()
    for name, s in samples.items():
        print(f"- {name}: {', '.join(f'{x:.3f}' for x in s)}")


if __name__ == "__main__":
    main()
