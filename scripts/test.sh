#!/usr/bin/env bash
# The project's one test command: formatting, lints, Rust tests, Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
