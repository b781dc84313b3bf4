#!/usr/bin/env bash
# Store benchmark: SqliteStore write rate, query latencies and size per row on 3M synthetic
# rows, against a naive SQLite design and MemoryStore measured in the same run.
# Builds target/bench/store.sqlite (and the naive baseline) once and reuses them; pass
# --rebuild to rebuild (the full-build rate is then reported too). Other flags go to the
# example: --iterations N, --no-memory, --no-naive, --dates N, --rows N. Then times
# `mozaggregator info` on the same store (it reads the bookkeeping and entry headers only).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p mozaggregator-core --example store_bench
cargo build --release -p mozaggregator --bin mozaggregator
mkdir -p target/bench
./target/release/examples/store_bench --store target/bench/store.sqlite \
    --out bench/results-store.md "$@"
/usr/bin/time -f "mozaggregator info --db target/bench/store.sqlite: %e s wall, %M KB peak RSS" \
    ./target/release/mozaggregator info --db target/bench/store.sqlite > /dev/null
