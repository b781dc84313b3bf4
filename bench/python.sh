#!/usr/bin/env bash
# Python vs CLI aggregation throughput (bench/results-python.md). Needs the .venv of
# scripts/test.sh (or any venv with maturin): builds the CLI and the module in release mode,
# generates the input once, then runs bench/python_throughput.py.
#   bash bench/python.sh [PINGS] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
PINGS=${1:-400}
REPEAT=${2:-3}
VENV=${VENV:-.venv}
export VIRTUAL_ENV="$PWD/$VENV"
export PATH="$VIRTUAL_ENV/bin:$PATH"
cargo build --release --quiet -p mozaggregator --bin mozaggregator
maturin develop --release --quiet
DATA=target/bench-python
mkdir -p "$DATA"
for seed in 1 2; do
    f="$DATA/pings-$PINGS-$seed.ndjson"
    [ -s "$f" ] || target/release/mozaggregator generate --pings $((PINGS / 2)) --seed "$seed" \
        --submission-date 2024011$((4 + seed)) --out "$f"
done
python bench/python_throughput.py --cli target/release/mozaggregator --repeat "$REPEAT" \
    "$DATA/pings-$PINGS-1.ndjson" "$DATA/pings-$PINGS-2.ndjson"
