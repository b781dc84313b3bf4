#!/usr/bin/env bash
# Checks that a change leaves the job's output byte-identical: aggregates the benchmark corpora
# with the `mozaggregator` of a base revision and with the working tree's, exports each store as
# NDJSON and CSV, and compares the bytes (and the job reports, without their timings).
#
# Corpora: generated pings (bench/ingest.sh's, seed 1), pings varied from a real Firefox ping
# and the real sample pings of ../shared/data (both only when ../shared is beside the clone).
#
# Usage: bench/export-identity.sh BASE_REV   (PINGS=500 by default; WORK=dir keeps the files)
# Exit status: 0 when every export is identical, 1 when any differs (the differing files are
# named), 2 on a usage or build error.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/export-identity.sh BASE_REV}
PINGS=${PINGS:-500}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
base_rev=$(git rev-parse --verify "$BASE^{commit}") || exit 2

# The base binary: built from a temporary worktree into the same target directory (shared
# dependencies), copied out before the working tree's build replaces it.
tree="$WORK/base-tree"
rm -rf "$tree"
git worktree add --detach "$tree" "$base_rev" >/dev/null
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
# The binary's package: `mozaggregator` (before the HTTP library split: `mozaggregator-server`).
(cd "$tree" && CARGO_TARGET_DIR="$target_dir" cargo build --release -q --bin mozaggregator)
cp "$target_dir/release/mozaggregator" "$WORK/mozaggregator-base"
cargo build --release -q -p mozaggregator
cp "$target_dir/release/mozaggregator" "$WORK/mozaggregator-head"

corpora=()
if [ ! -s "$WORK/generated.ndjson" ]; then
    "$WORK/mozaggregator-head" generate --pings "$PINGS" --seed 1 --submission-date 20240115 \
        --out "$WORK/generated.ndjson"
fi
corpora+=("generated:$WORK/generated.ndjson")
shared=${MOZAGGREGATOR_SHARED_DATA:-../shared/data}
if [ -f "$shared/pings/main.4.sample.pass.json" ]; then
    if [ ! -s "$WORK/template.ndjson" ]; then
        "$WORK/mozaggregator-head" generate --pings "$PINGS" --seed 1 --submission-date 20240115 \
            --template "$shared/pings/main.4.sample.pass.json" --out "$WORK/template.ndjson"
    fi
    corpora+=("template:$WORK/template.ndjson")
    corpora+=("shared-pings:$shared/pings")
else
    echo "export-identity: $shared absent: only the generated corpus is compared" >&2
fi

status=0
for corpus in "${corpora[@]}"; do
    name=${corpus%%:*}
    input=${corpus#*:}
    for side in base head; do
        db="$WORK/$name-$side.sqlite"
        rm -f "$db" "$db"-*
        # Submission date fixed: the real sample pings come from different days.
        "$WORK/mozaggregator-$side" aggregate --db "$db" --submission-date 20240115 --threads 1 \
            --report-json "$WORK/$name-$side.report.json" "$input" 2>/dev/null || true
        "$WORK/mozaggregator-$side" export --db "$db" --format ndjson >"$WORK/$name-$side.ndjson"
        "$WORK/mozaggregator-$side" export --db "$db" --format csv >"$WORK/$name-$side.csv"
        # The report without what depends on the clock.
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for k in list(r):
    if k in ("seconds", "mb_per_s", "pings_per_s") or k.endswith("_seconds") or k == "phases":
        del r[k]
print(json.dumps(r, sort_keys=True, indent=1))' "$WORK/$name-$side.report.json" >"$WORK/$name-$side.report"
    done
    for ext in ndjson csv report; do
        a="$WORK/$name-base.$ext"
        b="$WORK/$name-head.$ext"
        if cmp -s "$a" "$b"; then
            echo "identical  $name.$ext  $(wc -l <"$a") lines  sha256 $(sha256sum "$a" | cut -c1-16)"
        else
            echo "DIFFERENT  $name.$ext  ($a vs $b)"
            status=1
        fi
    done
done
echo "base $base_rev, head $(git rev-parse HEAD)$(git diff --quiet || echo ' + uncommitted changes'); files in $WORK"
exit $status
