"""Shared fixtures of the Python test suite.

Paths: the repository root, the shared reference data beside it (``../shared/data``, optional:
tests that need it skip when it is absent) and the ``mozaggregator`` CLI binary built from this
repository (``target/release`` or ``target/debug``; ``MOZAGGREGATOR_BIN`` overrides).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Spark (test_spark.py, test_docs.py) listens on the loopback only.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


def cli_binary() -> Path | None:
    """The CLI built from this checkout, newest first; None when it has not been built."""
    env = os.environ.get("MOZAGGREGATOR_BIN")
    if env:
        return Path(env)
    candidates = [REPO / "target" / p / "mozaggregator" for p in ("release", "debug")]
    built = [c for c in candidates if c.exists()]
    if not built:
        return None
    return max(built, key=lambda c: c.stat().st_mtime)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"reference data {SHARED} is absent (a fresh clone has no ../shared)")
    return SHARED


@pytest.fixture(scope="session")
def cli() -> Path:
    binary = cli_binary()
    if binary is None:
        pytest.fail(
            "the mozaggregator CLI is not built: run `cargo build --release -p mozaggregator-server` "
            "(scripts/test.sh does) or set MOZAGGREGATOR_BIN"
        )
    assert shutil.which(str(binary)) or binary.exists()
    return binary
