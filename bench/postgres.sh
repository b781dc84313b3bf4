#!/usr/bin/env bash
# PostgreSQL store benchmark: PostgresStore against SqliteStore and the original service's
# schema on one private PostgreSQL cluster (started and stopped by the run): query p50/p99 of
# the store benchmark's four cases, rows written per second, bytes per row. Reuses
# target/bench/store.sqlite (bench/store.sh builds it; built here when missing). Flags go to
# the example: --iterations N, --dates N, --rows N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p mozaggregator-core --features postgres --example pg_bench
mkdir -p target/bench
exec ./target/release/examples/pg_bench --sqlite target/bench/store.sqlite \
    --out bench/results-postgres.md "$@"
