"""Every ```python block of docs/python.md runs as written (in order, in one namespace, in a
fresh directory), so the documentation cannot drift from the API."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from conftest import REPO, require_java

DOC = REPO / "docs" / "python.md"


def blocks():
    text = DOC.read_text()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_doc_has_examples():
    assert len(blocks()) >= 5


def test_docs_python_md_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    pytest.importorskip("pyspark")
    require_java()
    import sys

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    out = io.StringIO()
    for i, code in enumerate(blocks()):
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{DOC}:block{i}", "exec"), namespace)
    printed = out.getvalue()
    assert_mean_is_sum_over_samples(namespace)
    sys.stdout.write(printed)
    # what the comments in the examples say they print
    assert "exponential 1 28" in printed
    assert "['nightly']" in printed
    assert "exponential 50" in printed
    assert "['Linux,6.5', 'Windows_NT,6.5.0']" in printed
    assert (tmp_path / "aggregates.sqlite").exists() and (tmp_path / "spark.sqlite").exists()
    assert os.environ.get("PYSPARK_PYTHON") == sys.executable


README = REPO / "README.md"


def assert_mean_is_sum_over_samples(namespace):
    """Issue 16, bug 2: the examples' `mean` is sum / Σ buckets (not sum / count, which
    divides by pings)."""
    table, result = namespace["table"], namespace["result"]
    expected = [d["sum"] / sum(d["histogram"]) for d in result.data]
    assert list(table["mean"]) == pytest.approx(expected)
    assert any(sum(d["histogram"]) != d["count"] for d in result.data), \
        "the example data cannot tell the two means apart"


def test_readme_notebook_example_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    code = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    assert len(code) == 1, "the README has one Python example"
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    namespace: dict = {"__name__": "__readme__"}
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], f"{README}:python", "exec"), namespace)
    printed = out.getvalue()
    assert_mean_is_sum_over_samples(namespace)
    assert "exponential" in printed and "mean" in printed
    assert (tmp_path / "notebook.sqlite").exists()
