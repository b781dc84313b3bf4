#!/usr/bin/env bash
# The project's one test command: formatting, lints, Rust tests, Python tests, dashboard tests.
#
# Python part: a virtualenv at .venv (created once, reused: its pinned tools are reinstalled only
# when tests/python/requirements.txt changes), the extension module built into it with maturin,
# the CLI binary the Python tests compare against, then pytest over tests/python.
#
# Skips are visible: a test that cannot run (optional reference data ../shared absent, Java
# missing with MOZAGGREGATOR_SKIP_SPARK=1, …) records a line in $MOZAGGREGATOR_SKIP_LOG (Rust:
# mozaggregator_core::testing::skip; pytest: tests/python/conftest.py), and the script ends
# with "skipped: N" and the list of what was skipped and why — also when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
phase=$SECONDS
lap() { echo "scripts/test.sh: $1 took $((SECONDS - phase)) s"; phase=$SECONDS; }

target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
mkdir -p "$target_dir"
export MOZAGGREGATOR_SKIP_LOG="$target_dir/test-skips.txt"
: >"$MOZAGGREGATOR_SKIP_LOG"
skip_summary() {
    local n
    n=$(sed -nE 's/^SKIPPED: ([^ ]+): .*/\1/p' "$MOZAGGREGATOR_SKIP_LOG" | sort -u | wc -l)
    echo "scripts/test.sh: skipped: $n tests (in whole or in part), and why:"
    if [ "$n" -gt 0 ]; then
        sed -e 's/^SKIPPED: /  /' "$MOZAGGREGATOR_SKIP_LOG" | sort -u
    fi
}
trap skip_summary EXIT

# The PostgreSQL store's tests start private clusters (initdb + pg_ctl; see
# mozaggregator-core/src/testing/postgres.rs). CI installs Debian's server when it is missing;
# elsewhere those tests are listed as skips.
pg_bin_found() {
    [ -n "${MOZAGGREGATOR_PG_BIN:-}" ] || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null ||
        { command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; }
}
if ! pg_bin_found; then
    if [ "$(id -u)" = 0 ] && [ -n "${CI:-}" ] && command -v apt-get >/dev/null 2>&1; then
        echo "scripts/test.sh: PostgreSQL is missing; installing Debian's postgresql (CI, root)"
        apt-get install -y --no-install-recommends postgresql >/dev/null
    else
        echo "scripts/test.sh: no PostgreSQL server binaries (initdb, pg_ctl): the PostgreSQL" \
            "store's tests will be skipped (apt-get install postgresql, or set MOZAGGREGATOR_PG_BIN)"
    fi
fi

# A clean CI checkout gains nothing from incremental compilation, and its cache is the largest
# part of the target directory after debug info (2.4 GB): disk, not time, is what CI runs out of.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
lap "fmt + clippy"
cargo test --workspace
lap "cargo test"

# --- Python ---------------------------------------------------------------------------------
# The PySpark tests (tests/python/test_spark.py, the docs' Spark example) need Java.
if ! command -v java >/dev/null 2>&1 && [ -z "${MOZAGGREGATOR_SKIP_SPARK:-}" ]; then
    if [ "$(id -u)" = 0 ] && [ -n "${CI:-}" ] && command -v apt-get >/dev/null 2>&1; then
        echo "scripts/test.sh: Java is missing; installing default-jre-headless (CI, root)"
        apt-get install -y --no-install-recommends default-jre-headless >/dev/null
    else
        echo "scripts/test.sh: the PySpark tests need Java (a JRE, 17 or newer), which is not" \
            "installed: apt-get install default-jre-headless (Debian/Ubuntu), brew install" \
            "openjdk (macOS); or run with MOZAGGREGATOR_SKIP_SPARK=1 to skip them (listed as" \
            "skips)" >&2
        exit 1
    fi
fi
PYTHON=${PYTHON:-python3}
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
REQS=tests/python/requirements.txt
STAMP="$VENV/.requirements-installed"
if ! cmp -s "$REQS" "$STAMP"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    cp "$REQS" "$STAMP"
fi
export VIRTUAL_ENV="$PWD/$VENV"
export PATH="$VIRTUAL_ENV/bin:$PATH"
lap "python venv"

# The extension module (debug profile: the tests are small; benchmarks use --release). The CLI
# binary that tests/python compares the Python results against is the one `cargo test` built
# for the integration tests: building it again with `-p mozaggregator` would resolve other
# features and compile core, arrow and parquet a third time.
maturin develop --quiet
export MOZAGGREGATOR_BIN="$target_dir/debug/mozaggregator"
if [ ! -x "$MOZAGGREGATOR_BIN" ]; then
    echo "scripts/test.sh: $MOZAGGREGATOR_BIN is missing after cargo test" >&2
    exit 1
fi
lap "python module + CLI build"
# Spark (tests/python/test_spark.py) listens on the loopback only.
export SPARK_LOCAL_IP=127.0.0.1

# pytest exits 5 when it collected no test: that is a failure too (set -e stops on any non-zero).
status=0
python -m pytest tests/python -rs --durations=5 || status=$?
lap "pytest"
if [ "$status" -ne 0 ]; then
    echo "scripts/test.sh: pytest failed (exit $status)" >&2
    exit "$status"
fi

# --- Dashboard ------------------------------------------------------------------------------
# The committed bundle (dashboard/dist, embedded in the binary) must be what the sources build:
# rebuild it from the lockfile and compare. Then the browser tests: Debian's Chromium driven by
# playwright-core (pinned in dashboard/package.json) against `mozaggregator serve` (debug build
# above) on stores made by `generate | aggregate`. Screenshots: target/dashboard-artifacts/.
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
(cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
if ! git diff --quiet -- dashboard/dist || [ -n "$(git ls-files --others --exclude-standard -- dashboard/dist)" ]; then
    git status --short -- dashboard/dist >&2
    echo "scripts/test.sh: dashboard/dist is stale: commit what 'cd dashboard && npm ci && npm run build' builds" >&2
    exit 1
fi
lap "dashboard build (bundle up to date)"
(cd dashboard && npm test)
lap "dashboard browser tests"
echo "scripts/test.sh: all tests passed in $((SECONDS - start)) s"
