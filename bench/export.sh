#!/usr/bin/env bash
# Parquet vs NDJSON export of the 3-million-row benchmark store (time and peak RSS, in the same
# run), and Python's `Store.export(...).to_arrow()` vs frames built from the export's dicts
# (bench/results-export.md). Builds the CLI and the Python module in release mode.
#   bash bench/export.sh [STORE] [REPEAT] [PINGS]
# STORE defaults to target/bench/store.sqlite (bench/store.sh builds it); export only reads it,
# but SQLite may touch its -shm file: give a copy of a store others use.
# PINGS generated main pings make the store of the Python comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${1:-target/bench/store.sqlite}
REPEAT=${2:-3}
PINGS=${3:-400}
VENV=${VENV:-.venv}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/mozaggregator"
RESULTS=bench/results-export.md
[ -f "$STORE" ] || { echo "no store at $STORE (bash bench/store.sh builds it)" >&2; exit 2; }
cargo build --release --quiet -p mozaggregator --bin mozaggregator
WORK=$(mktemp -d "${TMPDIR:-/tmp}/export-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# One timed run: prints "seconds max_rss_kb".
timed() {
    /usr/bin/time -v "$@" 2> "$WORK/time.txt" > /dev/null
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
                    for (i = 1; i <= n; i++) s = s * 60 + t[i]; sec = s }
                /Maximum resident set size/ { rss = $2 }
                END { printf "%.2f %d\n", sec, rss }' "$WORK/time.txt"
}

declare -a ND_S ND_R PQ_S PQ_R
for i in $(seq 1 "$REPEAT"); do
    read -r s r < <(timed "$BIN" export --db "$STORE" --out "$WORK/rows.ndjson")
    ND_S+=("$s"); ND_R+=("$r")
    ND_BYTES=$(stat -c %s "$WORK/rows.ndjson")
    ROWS=$(wc -l < "$WORK/rows.ndjson"); rm -f "$WORK/rows.ndjson"
    read -r s r < <(timed "$BIN" export --db "$STORE" --format parquet --out "$WORK/parquet")
    PQ_S+=("$s"); PQ_R+=("$r")
    PQ_BYTES=$(du -sb "$WORK/parquet" | cut -f1)
    PQ_FILES=$(find "$WORK/parquet" -name '*.parquet' | wc -l)
    rm -rf "$WORK/parquet"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }
ND_MED=$(median "${ND_S[@]}"); PQ_MED=$(median "${PQ_S[@]}")
ND_RSS=$(max "${ND_R[@]}"); PQ_RSS=$(max "${PQ_R[@]}")

# Python: to_arrow() against frames built from the dicts, on a store of generated pings.
export VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH"
maturin develop --release --quiet -m mozaggregator-py/Cargo.toml
DATA="$TARGET/bench-export"
mkdir -p "$DATA"
PYSTORE="$DATA/pings-$PINGS.sqlite"
if [ ! -s "$PYSTORE" ]; then
    "$BIN" generate --pings "$PINGS" --seed 1 --submission-date 20240115 --out "$DATA/pings.ndjson"
    "$BIN" aggregate --db "$PYSTORE" "$DATA/pings.ndjson" 2> /dev/null
fi
PY_TABLE=$(python bench/arrow_export.py --repeat "$REPEAT" "$PYSTORE")

{
    echo "# Export: Parquet vs NDJSON, and \`to_arrow()\` vs dicts"
    echo
    echo "Rerun: \`bash bench/export.sh $STORE $REPEAT $PINGS\` (release builds; each variant"
    echo "$REPEAT times, interleaved; median time, highest peak RSS). Machine: 2 cores shared with"
    echo "other work (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end), so the ratios of"
    echo "one run are the result, not the absolute numbers."
    echo
    echo "## CLI: \`mozaggregator export\` of $ROWS rows"
    echo
    echo "| format | seconds (median) | rows/s | peak RSS (MB) | output (MB) | vs NDJSON |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -v s="$ND_MED" -v r="$ND_RSS" -v n="$ROWS" -v b="$ND_BYTES" 'BEGIN {
        printf "| NDJSON (`--out FILE`) | %.2f | %.0f | %.0f | %.0f | 1.00x |\n", s, n / s, r / 1024, b / 1e6 }'
    awk -v s="$PQ_MED" -v r="$PQ_RSS" -v n="$ROWS" -v b="$PQ_BYTES" -v nd="$ND_MED" -v f="$PQ_FILES" 'BEGIN {
        printf "| Parquet (`--format parquet`, %d files) | %.2f | %.0f | %.0f | %.0f | %.2fx time |\n", f, s, n / s, r / 1024, b / 1e6, s / nd }'
    echo
    echo "Raw seconds: NDJSON ${ND_S[*]}; Parquet ${PQ_S[*]}. Peak RSS (KB): NDJSON ${ND_R[*]};"
    echo "Parquet ${PQ_R[*]}."
    echo
    echo "$PY_TABLE"
} > "$RESULTS"
cat "$RESULTS"
