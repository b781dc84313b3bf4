#!/usr/bin/env bash
# PostgreSQL store benchmark: PostgresStore against SqliteStore and the original service's
# schema on one private PostgreSQL cluster (started and stopped by the run): query p50/p99 of
# the store benchmark's four cases, rows written per second, bytes per row. All three stores
# are written anew in the run (the SQLite one at target/bench/pg-bench.sqlite). Flags go to
# the example: --iterations N, --dates N, --rows N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p mozaggregator-core --features postgres --example pg_bench
mkdir -p target/bench
exec ./target/release/examples/pg_bench --sqlite target/bench/pg-bench.sqlite \
    --out bench/results-postgres.md "$@"
