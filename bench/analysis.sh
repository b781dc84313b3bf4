#!/usr/bin/env bash
# Analysis API benchmark on the 3-million-row synthetic store (target/bench/store.sqlite, built
# on first use, shared with bench/store.sh):
#  1. in process: stats, OR filters, top-K and evolution against their plain baselines,
#     measured in the same run (mozaggregator-core/examples/analysis_bench.rs);
#  2. over HTTP: the latency of a lone request — one keep-alive connection that sleeps 50 ms
#     between requests — for /__lbheartbeat__ and an uncached 30-date metric query (the
#     server runs with its response cache off), next to the same requests back to back
#     (mozaggregator/examples/idle_latency.rs);
#  3. over HTTP: what the statistics cost a client — the plain 30-date query and the same with
#     seven statistics, alternated on one connection (400 pairs), as a ratio in the same run;
#  4. over HTTP: one OR request over three OS values against the three one-value requests it
#     replaces, round-robin on one connection, as a ratio in the same run.
# With REPLICATES=R (e.g. 20), the in-process part runs on a store with R replicate groups for
# the hot metrics (target/bench/store-rR.sqlite, built on first use) and also times the
# statistics query with ci=0.95 against the same without it (target: ≤ 3×); the HTTP parts
# use that store too.
# Writes bench/results-analysis.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p mozaggregator-core --example analysis_bench
cargo build --release -p mozaggregator --bin mozaggregator --example idle_latency
mkdir -p target/bench
out=bench/results-analysis.md
store=target/bench/store.sqlite
replicates=()
if [ -n "${REPLICATES:-}" ]; then
    store=target/bench/store-r$REPLICATES.sqlite
    replicates=(--replicates "$REPLICATES")
fi
./target/release/examples/analysis_bench --store "$store" "${replicates[@]}" --out "$out.tmp"

dates=$(python3 -c 'import datetime as d; s=d.date(2024,1,1); print(",".join((s+d.timedelta(i)).strftime("%Y%m%d") for i in range(30)))')
q="/aggregates_by/submission_date/channels/nightly/?version=130&dates=$dates&metric=SYNTHETIC_METRIC_000"
servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true' EXIT
latency() { # $1: label, $2...: extra serve flags
    local label=$1; shift
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    ./target/release/mozaggregator serve --db "$store" --bind "127.0.0.1:$port" \
        --cache-max-entries 0 "$@" 2>/dev/null &
    servers+=($!)
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/__lbheartbeat__" >/dev/null && break
        sleep 0.1
    done
    echo
    echo "### $label"
    echo
    ./target/release/examples/idle_latency --addr "127.0.0.1:$port" --idle-ms 50 --requests 200 \
        "/__lbheartbeat__" \
        "$q" "$q&os=Windows_NT" "$q&os=Windows_NT&os=Darwin&os=Linux" "$q&stats=mean,p5,p25,p50,p75,p95,p99"
    echo
    echo "### What the statistics cost a client ($label)"
    echo
    echo "The plain uncached 30-date query and the same with \`stats=mean,p5,p25,p50,p75,p95,p99\`,"
    echo "alternated on one keep-alive connection, 400 of each after 3 warm-up pairs; target: the"
    echo "statistics cost ≤ 1.2× the plain query."
    echo
    ./target/release/examples/idle_latency --addr "127.0.0.1:$port" --idle-ms 50 --requests 400 --ratios \
        "$q" "$q&stats=mean,p5,p25,p50,p75,p95,p99"
    echo
    echo "### One OR request against the three one-value requests it replaces ($label)"
    echo
    echo "The three one-OS queries and the OR over the three, sent round-robin on one keep-alive"
    echo "connection, 400 of each after 3 warm-up rounds; target: the OR ≥ 2× faster than the three"
    echo "requests (≤ 0.5× their summed p50)."
    echo
    ./target/release/examples/idle_latency --addr "127.0.0.1:$port" --idle-ms 50 --requests 400 --last-vs-sum \
        "$q&os=Windows_NT" "$q&os=Darwin" "$q&os=Linux" "$q&os=Windows_NT&os=Darwin&os=Linux"
    kill "${servers[-1]}"
}
{
    cat "$out.tmp"
    echo
    echo "## Latency of a lone request (HTTP, one keep-alive connection)"
    echo
    echo "\`mozaggregator serve --cache-max-entries 0\` on the same store (every metric query is"
    echo "computed, never cached); 200 requests per path, sent round-robin, after 3 warm-up rounds; load average"
    echo "before: $(cut -d' ' -f1-3 /proc/loadavg). Target: the uncached 30-date query after ≥ 50 ms"
    echo "of idle answers in ≤ 1 ms p50. The baseline in the same run is the same request back to"
    echo "back; \`/__lbheartbeat__\` shows the wake-up cost alone. The back-to-back column also gives"
    echo "the HTTP cost of one OS value, of an OR over three (one request instead of three) and of"
    echo "stats."
    latency "mozaggregator serve"
} > "$out"
rm -f "$out.tmp"
cat "$out"
