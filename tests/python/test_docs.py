"""Every ```python block of docs/python.md runs as written (in order, in one namespace, in a
fresh directory), so the documentation cannot drift from the API."""

from __future__ import annotations

import contextlib
import io
import json
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
    assert "[('8', 1), ('10', 2)]" in printed                 # to_arrow()'s histogram map
    assert "['nightly']" in printed
    assert "exponential 50" in printed
    assert "['Linux,6.5', 'Windows_NT,6.5.0']" in printed
    assert "not a mozaggregator store" in printed             # the errors example
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


def readme_shell_examples():
    """The README's ```sh blocks of mozaggregator and curl commands (the install and test
    commands of the other blocks are not run here)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    out = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and all(line.startswith(("mozaggregator ", "curl ")) for line in lines):
            out.append(lines)
    return out


def test_readme_shell_examples_run_as_written(tmp_path, cli):
    """Issue 16: every shell example of the README runs as written on a fresh clone, with
    `mozaggregator` on the PATH, from the clone's root (here: a fresh directory with the one
    fixture file the definitions example reads). The server of the API example listens on a
    free port instead of 5000."""
    import shlex
    import subprocess
    import threading
    import time

    examples = readme_shell_examples()
    assert len(examples) == 6, examples
    fixture = "mozaggregator-core/tests/fixtures/histograms-quirks.json"
    (tmp_path / fixture).parent.mkdir(parents=True)
    (tmp_path / fixture).write_bytes((REPO / fixture).read_bytes())
    env = dict(os.environ, PATH=f"{cli.parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("MOZAGGREGATOR_DB", None)

    def sh(line):
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, f"{line}: {out.stderr}"
        return out.stdout

    outputs = {}
    for lines in examples:
        serve = [line for line in lines if line.startswith("mozaggregator serve")]
        if not serve:
            for line in lines:
                outputs[line] = sh(line)
            continue
        # The server: in the background as the `&` says, on a free port; the curl commands
        # once it listens.
        command = serve[0].rstrip("&").replace("127.0.0.1:5000", "127.0.0.1:0")
        server = subprocess.Popen(shlex.split(command), cwd=tmp_path, env=env,
                                  stderr=subprocess.PIPE, text=True)
        lines_seen: list[str] = []
        listening = threading.Event()
        bound = {}

        def watch():
            for line in server.stderr:
                lines_seen.append(line)
                m = re.search(r"bind=(\S+)", line)
                if "listening" in line and m:
                    bound["addr"] = m.group(1)
                    listening.set()

        threading.Thread(target=watch, daemon=True).start()
        try:
            assert listening.wait(60), f"the server did not listen: {lines_seen}"
            for line in lines:
                if line.startswith("curl "):
                    outputs[line] = sh(line.replace("127.0.0.1:5000", bound["addr"]))
        finally:
            server.terminate()
            server.wait(30)

    assert (tmp_path / "pings.ndjson.gz").exists() and (tmp_path / "aggregates.sqlite").exists()
    assert (tmp_path / "rows.csv").read_text().count("\n") > 1000
    curls = [json.loads(out) for line, out in outputs.items() if line.startswith("curl ")]
    assert len(curls) == 6
    dates, metric, with_stats, evolution, comparison, with_ci = curls
    assert dates[0] == {"date": "20240115", "version": "124"}, dates
    assert metric["kind"] == "exponential" and metric["data"], metric
    # The Analysis API examples: an OR with statistics, an evolution by OS, a comparison.
    stats = with_stats["data"][0]["stats"]
    assert set(stats) == {"samples", "mean", "p50", "p95", "p99.9"}, with_stats
    assert stats["samples"] >= sum(metric["data"][0]["histogram"])
    assert len({s["group"] for s in evolution["series"]}) >= 2, evolution
    assert comparison["b"]["pings"] > comparison["a"]["pings"] == metric["data"][0]["count"]
    assert set(comparison["distances"]) == {"bhattacharyya", "ks", "cdf_squared"}
    # ci= on the store aggregated with --replicates 20: the same comparison, with intervals.
    assert with_ci["ci"]["replicates"] == 20 and with_ci["ci"]["verdict"] in ("same", "differs")
    assert with_ci["deltas"]["mean"]["absolute"] == comparison["deltas"]["mean"]["absolute"]
    assert set(with_ci["ci"]["checked"]) == {"p50", "mean"}
    definitions = [out for line, out in outputs.items() if "definitions" in line][0]
    assert len(definitions.splitlines()) == 3
    # The mobile example: its rows as a Parquet data set of their own aggregate type.
    mobile = sorted((tmp_path / "mobile").rglob("*.parquet"))
    assert mobile and all("aggregate_type=mobile_metrics" in str(p) for p in mobile)
    assert all(json.loads(line)["metric"] for line in definitions.splitlines())
