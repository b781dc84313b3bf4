"""Aggregation throughput through Python vs the CLI, on the same generated pings.

Run with bench/python.sh (release builds, input generation). Each variant runs `--repeat` times,
interleaved with the others so that machine noise hits all of them alike; the median counts.
Prints a Markdown table: MB/s of JSON and the ratio to the CLI's aggregation time with as many
threads.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from mozaggregator import Aggregator, Store


def cli_aggregate(cli: Path, files: list[Path], threads: int) -> tuple[float, float]:
    """(aggregation seconds from the CLI's report, wall seconds of the whole process)."""
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "report.json"
        started = time.perf_counter()
        subprocess.run([str(cli), "aggregate", "--db", str(Path(d) / "a.sqlite"), "--threads",
                        str(threads), "--report-json", str(report), *map(str, files)],
                       check=True, capture_output=True)
        wall = time.perf_counter() - started
        return json.loads(report.read_text())["seconds"], wall


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def py_add_files(files, threads):
    return timed(lambda: Aggregator().add_files(files, threads=threads))


def py_add_files_and_write(files):
    with tempfile.TemporaryDirectory() as d:
        def run():
            agg = Aggregator()
            agg.add_files(files)
            agg.write(Store.open(Path(d) / "p.sqlite"))
        return timed(run)


def py_add_pings(lines):
    return timed(lambda: Aggregator().add_pings(lines))


def py_add_pings_two_threads(lines):
    def run():
        halves = [lines[: len(lines) // 2], lines[len(lines) // 2:]]
        aggs = [Aggregator(), Aggregator()]
        threads = [threading.Thread(target=a.add_pings, args=(h,)) for a, h in zip(aggs, halves)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        aggs[0].merge(aggs[1])
    return timed(run)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cli", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("files", type=Path, nargs="+")
    args = p.parse_args()
    files = args.files
    lines = [line for f in files for line in f.read_text().splitlines() if line.strip()]
    json_bytes = sum(len(line.encode()) for line in lines)
    mb = json_bytes / 1e6
    cores = os.cpu_count()

    samples: dict[str, list[float]] = {}
    variants = {
        "CLI `aggregate --threads 0` (aggregation, from its report)": None,
        "CLI `aggregate --threads 0` (whole process: read, aggregate, write SQLite)": None,
        "CLI `aggregate --threads 1` (aggregation, from its report)": None,
        "Python `add_files(paths)` (threads=0)": lambda: py_add_files(files, 0),
        "Python `add_files(paths, threads=1)`": lambda: py_add_files(files, 1),
        "Python `add_files` + `write(Store.open(...))`": lambda: py_add_files_and_write(files),
        "Python `add_pings(list of str)`, one thread": lambda: py_add_pings(lines),
        "Python `add_pings`, two Python threads + `merge`": lambda: py_add_pings_two_threads(lines),
    }
    for _ in range(args.repeat):
        for threads in (0, 1):
            agg_s, wall = cli_aggregate(args.cli, files, threads)
            if threads == 0:
                samples.setdefault(list(variants)[0], []).append(agg_s)
                samples.setdefault(list(variants)[1], []).append(wall)
            else:
                samples.setdefault(list(variants)[2], []).append(agg_s)
        for name, fn in variants.items():
            if fn is not None:
                samples.setdefault(name, []).append(fn())

    med = {k: statistics.median(v) for k, v in samples.items()}
    cli_all, cli_wall, cli_one = (med[k] for k in list(variants)[:3])
    baseline = {
        "Python `add_files(paths)` (threads=0)": cli_all,
        "Python `add_files(paths, threads=1)`": cli_one,
        "Python `add_files` + `write(Store.open(...))`": cli_wall,
        "Python `add_pings(list of str)`, one thread": cli_one,
        "Python `add_pings`, two Python threads + `merge`": cli_all,
    }
    print(f"Input: {len(lines)} pings, {mb:.1f} MB of JSON, in {len(files)} file(s); "
          f"{cores} cores; load average before the run: {os.getloadavg()[0]:.2f}; "
          f"median of {args.repeat} runs.\n")
    print("| variant | seconds (median) | MB/s | vs CLI baseline | baseline |")
    print("|---|---:|---:|---:|---|")
    for name in variants:
        s = med[name]
        base = baseline.get(name)
        ratio = f"{base / s:.2f}x" if base else "—"
        base_name = ""
        if base is cli_all:
            base_name = "CLI threads 0"
        elif base is cli_one:
            base_name = "CLI threads 1"
        elif base is cli_wall:
            base_name = "CLI whole process"
        print(f"| {name} | {s:.3f} | {mb / s:.1f} | {ratio} | {base_name} |")
    print("\nRaw samples (seconds):\n")
    for name, v in samples.items():
        print(f"- {name}: {', '.join(f'{x:.3f}' for x in v)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
