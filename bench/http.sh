#!/usr/bin/env bash
# Load test of the HTTP API on 127.0.0.1 with wrk (Debian: apt-get install -y wrk).
#
# Measures, in one run, against the benchmark store (30 dates x ~100k rows, built by the store
# work's `build_bench_store` example when missing):
#   1. baseline: GET /__lbheartbeat__ (no store access)
#   2. cached:   one 30-date metric query by submission date, answered from the server cache
#   3. uncached: the same query on a server whose cache is off (--cache-max-entries 0), so
#                every request reads and merges from SQLite
#   4-5. authorized: phases 2 and 3 with a valid JWT on every request (RS256 signature
#                verified per request)
# and counts 5xx answers (must be zero). Every run is bounded: DURATION per phase.
#
# Usage: bench/http.sh            (env: STORE, DURATION=10s, CONNS=32, THREADS=2, PORT=5077)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
STORE="${STORE:-$ROOT/target/bench/bench-store.sqlite}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-5077}"
BIN="$ROOT/target/release/mozaggregator"
HOST="127.0.0.1"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -q -p mozaggregator --bin mozaggregator

if [ ! -f "$STORE" ]; then
  mkdir -p "$(dirname "$STORE")"
  cargo run --release -q -p mozaggregator-core --features testing --example build_bench_store -- "$STORE" \
    | tee "$STORE.txt"
fi
ROWS="$(grep -E '^rows:' "$STORE.txt" 2>/dev/null | awk '{print $2}' || true)"
METRIC="${METRIC:-$(grep -E '^hot plain metric:' "$STORE.txt" 2>/dev/null | awk '{print $4}' || true)}"

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

start_server() { # extra flags...
  RUST_LOG=warn "$BIN" serve --db "$STORE" --bind "$HOST:$PORT" "$@" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://$HOST:$PORT/status" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start" >&2
  exit 1
}

# Counts 5xx answers and prints them after wrk's own summary.
LUA="$(mktemp)"
cat >"$LUA" <<'EOF'
local errors = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) errors5xx = 0 end
function response(status, headers, body)
  if status >= 500 then errors5xx = errors5xx + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("errors5xx") end
  io.write(string.format("5xx: %d\n", total))
  io.write(string.format("p50_ms: %.3f\np99_ms: %.3f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF

run() { # name url [wrk flags, e.g. -H header]
  local name="$1" url="$2" out
  shift 2
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "$@" "$url")"
  local rps p50 p99 e5 non
  rps="$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')"
  p50="$(echo "$out" | awk '/^p50_ms:/ {print $2}')"
  p99="$(echo "$out" | awk '/^p99_ms:/ {print $2}')"
  e5="$(echo "$out" | awk '/^5xx:/ {print $2}')"
  non="$(echo "$out" | awk '/Non-2xx or 3xx responses:/ {print $5}')"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${non:-0}" "$e5"
  echo "$out" >"$ROOT/target/bench/wrk-$name.txt"
}

start_server
CHANNEL="$(curl -fs "http://$HOST:$PORT/aggregates_by/submission_date/channels/" | tr -d '[]"' | cut -d, -f1)"
DATES_JSON="$(curl -fs "http://$HOST:$PORT/aggregates_by/submission_date/channels/$CHANNEL/dates/")"
VERSION="$(echo "$DATES_JSON" | grep -o '"version":"[^"]*"' | head -1 | cut -d'"' -f4)"
DATES="$(echo "$DATES_JSON" | grep -o "\"date\":\"[0-9]*\",\"version\":\"$VERSION\"" | cut -d'"' -f4 | head -30 | paste -sd, -)"
NDATES="$(echo "$DATES" | tr ',' '\n' | wc -l)"
if [ -z "$METRIC" ]; then
  METRIC="$(curl -fs "http://$HOST:$PORT/filters/?channel=$CHANNEL&version=$VERSION" | grep -o '"metric":\["[^"]*"' | cut -d'"' -f4)"
fi
URL="http://$HOST:$PORT/aggregates_by/submission_date/channels/$CHANNEL/?version=$VERSION&dates=$DATES&metric=$METRIC"
BYTES="$(curl -fs "$URL" | wc -c)"
STATUS="$(curl -s -o /dev/null -w '%{http_code}' "$URL")"
[ "$STATUS" = 200 ] || { echo "query answered $STATUS: $URL" >&2; exit 1; }

echo "store: $STORE (${ROWS:-?} rows); metric $METRIC, $NDATES dates of $CHANNEL/$VERSION; answer $BYTES bytes"
echo "wrk: $THREADS threads, $CONNS connections, $DURATION per phase; $(nproc) cores shared by server and wrk"
echo
echo "| phase | requests/s | p50 ms | p99 ms | non-2xx | 5xx |"
echo "|---|---|---|---|---|---|"
run baseline "http://$HOST:$PORT/__lbheartbeat__"
run cached "$URL"
stop_server
start_server --cache-max-entries 0
run uncached "$URL"
stop_server

# 4-5. The same query with a valid JWT (RS256, verified on every request): a server with a
# JWKS, cached and uncached. A fresh key and token come from the jwt_fixture example.
cargo build --release -q -p mozaggregator --example jwt_fixture
JWKS="$(mktemp)"
ISSUER="https://issuer.bench/"
AUDIENCE="https://aggregates.bench/"
TOKEN="$("$ROOT/target/release/examples/jwt_fixture" "$JWKS" "$ISSUER" "$AUDIENCE")"
AUTH=(--jwks "$JWKS" --jwt-issuer "$ISSUER" --jwt-audience "$AUDIENCE")
start_server "${AUTH[@]}"
[ "$(curl -fs -H "Authorization: Bearer $TOKEN" "http://$HOST:$PORT/authed")" = Authenticated ] \
  || { echo "the bench token is not accepted" >&2; exit 1; }
run authorized-cached "$URL" -H "Authorization: Bearer $TOKEN"
stop_server
start_server --cache-max-entries 0 "${AUTH[@]}"
run authorized-uncached "$URL" -H "Authorization: Bearer $TOKEN"
stop_server
rm -f "$LUA" "$JWKS"
