#!/usr/bin/env bash
# Ingest benchmark (rerunnable): release builds, generated realistic pings.
#
#  1. bench/ingest-bench: throughput of parse + aggregation, 1 and 2 worker threads, next to the
#     bare parse of the same bytes by serde_json (IgnoredAny, Value) and sonic-rs (IgnoredAny,
#     Value) measured in the same run; the fastest of those is "the limit".
#  2. The CLI end to end (`mozaggregator aggregate`, store write included), 1 and 2 threads.
#  3. Peak RSS as the input grows (the same pings read 1, 10, 20 times: the same distinct
#     series), which must stay flat: memory grows with distinct series, not input size.
#  4. Replicate groups: ingest with `--replicates 20` against without, interleaved in the same
#     run, and the ratio of their speeds (the goal: at least 0.70).
#
# Usage: bench/ingest.sh            (PINGS=2000 RUNS=3 by default; WORK=dir keeps the files)
set -euo pipefail
cd "$(dirname "$0")/.."
PINGS=${PINGS:-2000}
RUNS=${RUNS:-3}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
ratios=()

cargo build --release -q -p mozaggregator
cargo build --release -q --manifest-path bench/ingest-bench/Cargo.toml
BIN=target/release/mozaggregator
BENCH=bench/ingest-bench/target/release/ingest-bench

echo "## Machine"
echo
echo "- $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- rustc: $(rustc --version)"
echo

if [ ! -s "$WORK/pings.ndjson" ]; then
  "$BIN" generate --pings "$PINGS" --seed 1 --submission-date 20240115 --out "$WORK/pings.ndjson"
fi
echo "## Input"
echo
echo "- $(wc -l < "$WORK/pings.ndjson") generated pings (seed 1), $(du -m "$WORK/pings.ndjson" | cut -f1) MB of NDJSON"
echo

echo "## Throughput (in one process, same bytes; best of $RUNS runs)"
echo
"$BENCH" "$WORK/pings.ndjson" "$RUNS"
echo

TEMPLATE=../shared/data/pings/main.4.sample.pass.json
if [ -f "$TEMPLATE" ]; then
  if [ ! -s "$WORK/template.ndjson" ]; then
    "$BIN" generate --pings "$PINGS" --seed 1 --submission-date 20240115 --template "$TEMPLATE" --out "$WORK/template.ndjson"
  fi
  echo "## Throughput on pings varied from a real Firefox 45 ping ($(du -m "$WORK/template.ndjson" | cut -f1) MB)"
  echo
  "$BENCH" "$WORK/template.ndjson" "$RUNS"
  echo
fi

echo "## CLI end to end (aggregate + SQLite write; best of $RUNS runs by wall time)"
echo
echo "The write phase is the report's write_seconds: building each part's batch and the store's"
echo "write (pipelined with 2 threads); rows/s counts the series rows written."
echo
echo '| threads | ingest s (report) | MB/s (report) | write s | write rows/s | wall incl. store write | peak RSS |'
echo '|---:|---:|---:|---:|---:|---:|---:|'
declare -A best_wall
for t in 1 2; do
  best=""
  for _ in $(seq "$RUNS"); do
    rm -f "$WORK/cli.sqlite"*
    /usr/bin/time -f "%e %M" -o "$WORK/time" \
      "$BIN" aggregate --db "$WORK/cli.sqlite" --threads "$t" --report-json "$WORK/cli.json" "$WORK/pings.ndjson" 2> /dev/null
    read -r wall rss < "$WORK/time"
    line=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); w=r['write_seconds']; print(f\"{r['seconds']:.2f} | {r['mb_per_s']:.0f} | {w:.2f} | {r['series_written']/w:.0f}\")" "$WORK/cli.json")
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < ${best_wall[$t]})}"; then
      best="$line | ${wall} s | $((rss / 1024)) MB"
      best_wall[$t]=$wall
    fi
  done
  echo "| $t | $best |"
done
echo
echo "2 threads against 1, whole command (best wall times): $(awk "BEGIN{printf \"%.2f\", ${best_wall[1]} / ${best_wall[2]}}")×"
echo

echo "## Peak memory as the input grows (the same pings read N times: the same distinct series)"
echo
echo '| threads | input | pings read | peak RSS | series written |'
echo '|---:|---|---:|---:|---:|'
for spec in "1 1" "1 10" "2 1" "2 10" "2 20"; do
  read -r t n <<< "$spec"
  rm -f "$WORK/mem.sqlite"*
  files=()
  for _ in $(seq "$n"); do files+=("$WORK/pings.ndjson"); done
  /usr/bin/time -f "%M" -o "$WORK/mem" \
    "$BIN" aggregate --db "$WORK/mem.sqlite" --threads "$t" --report-json "$WORK/mem.json" "${files[@]}" 2> /dev/null
  rss=$(cat "$WORK/mem")
  read -r read written < <(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['pings_read'], r['series_written'])" "$WORK/mem.json")
  echo "| $t | ${n}x | $read | $((rss / 1024)) MB | $written |"
done
echo

echo "## Replicate groups: aggregate with --replicates 20 against without (same run, interleaved; best of $RUNS runs)"
echo
echo "Ingest is reading and aggregating (the report's seconds); end to end is the whole command,"
echo "the SQLite write of normal and group rows included. Rows and bytes are the store's."
echo
echo '| threads | replicates | ingest s | end-to-end s | peak RSS | series rows | replicate rows | series entries | replicate entries | store bytes |'
echo '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|'
stats() { # $1: store → "rows | replicate rows | entries | replicate entries | bytes"
  python3 - "$1" <<'PY'
import os, sqlite3, sys
path = sys.argv[1]
db = sqlite3.connect(path)
def entries(table):
    # A pack: byte 1, then entries (varint process, dims, layout, length, histogram).
    n = 0
    for (blob,) in db.execute(f"SELECT data FROM {table}"):
        i = 1
        while i < len(blob):
            for _ in range(3):
                while blob[i] & 0x80: i += 1
                i += 1
            length, shift = 0, 0
            while True:
                b = blob[i]; i += 1
                length |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80: break
            i += length
            n += 1
    return n
rows = db.execute("SELECT count(*) FROM series").fetchone()[0]
reps = db.execute("SELECT count(*) FROM replicate_series").fetchone()[0]
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
print(f"{rows} | {reps} | {entries('series')} | {entries('replicate_series')} | {size}")
PY
}
for t in 1 2; do
  best_off="" best_on="" line_off="" line_on="" wall_off="" wall_on=""
  for _ in $(seq "$RUNS"); do
    for r in off 20; do
      flags=()
      if [ "$r" != off ]; then flags=(--replicates "$r"); fi
      rm -f "$WORK/rep.sqlite"*
      /usr/bin/time -f "%e %M" -o "$WORK/rep-time" \
        "$BIN" aggregate --db "$WORK/rep.sqlite" --threads "$t" ${flags[@]+"${flags[@]}"} \
        --report-json "$WORK/rep.json" "$WORK/pings.ndjson" 2> /dev/null
      read -r wall rss < "$WORK/rep-time"
      secs=$(python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['seconds']:.3f}\")" "$WORK/rep.json")
      line="$secs | $wall | $((rss / 1024)) MB | $(stats "$WORK/rep.sqlite")"
      if [ "$r" = off ]; then
        if [ -z "$best_off" ] || awk "BEGIN{exit !($secs < $best_off)}"; then best_off=$secs line_off=$line; fi
        if [ -z "$wall_off" ] || awk "BEGIN{exit !($wall < $wall_off)}"; then wall_off=$wall; fi
      else
        if [ -z "$best_on" ] || awk "BEGIN{exit !($secs < $best_on)}"; then best_on=$secs line_on=$line; fi
        if [ -z "$wall_on" ] || awk "BEGIN{exit !($wall < $wall_on)}"; then wall_on=$wall; fi
      fi
    done
  done
  echo "| $t | off | $line_off |"
  echo "| $t | 20 | $line_on |"
  ratios+=("$t thread(s): ingest $(awk "BEGIN{printf \"%.2f\", $best_off / $best_on}"), end to end $(awk "BEGIN{printf \"%.2f\", $wall_off / $wall_on}")")
done
echo
printf -v joined '%s; ' "${ratios[@]}"
echo "Speed with --replicates 20 relative to without (best times; goal >= 0.70): ${joined%; }"
echo
echo "Files in $WORK"
