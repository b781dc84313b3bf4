"""Issue 13's Python API: options are keyword-only, ``Store(path=None)``, versioned pickling
of the value types, and pandas helpers that live in the Python package (the native layer
never imports it)."""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys

import pytest

import mozaggregator
from mozaggregator import Aggregator, BucketLayout, Definitions, QueryResult, Store, spark
from pings import ping


@pytest.fixture
def aggregator():
    agg = Aggregator(channels=["nightly"], submission_date="20240102")
    agg.add_pings([ping(), ping(**{"environment.system.os.name": "Darwin"})])
    return agg


@pytest.fixture
def result(aggregator):
    store = Store()
    aggregator.write(store)
    return store.query("submission_date", "nightly", "120", ["20240102"], "GC_MS",
                       group_by="os", stats=["mean", "p50"], pct_method="nearest")


def keyword_only(function):
    return {name for name, p in inspect.signature(function).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("function, options", [
    (Aggregator, {"definitions", "channels", "versions", "submission_date",
                  "prefer_definitions", "full_os_version", "replicates", "doc_type"}),
    (Aggregator.from_bytes, {"definitions", "channels", "versions", "submission_date",
                             "prefer_definitions", "full_os_version", "replicates",
                             "doc_type"}),
    (Aggregator.add_files, {"threads"}),
    (Definitions, {"histograms", "scalars"}),
    (Store, {"definitions", "lock_timeout"}),
    (Store.open, {"definitions", "lock_timeout"}),
    (Store.memory, {"definitions"}),
    (Store.export, {"channel", "version", "doc_type"}),
    (Store.to_pandas, {"channel", "version", "doc_type"}),
    (Store.query, {"group_by", "top", "stats", "pct_method", "ci"}),
    (QueryResult.percentiles, {"method", "ci"}),
    (QueryResult.stats, {"method", "ci"}),
    (QueryResult.stats_frame, {"method", "ci"}),
    (BucketLayout.categorical, {"n_values"}),
    (mozaggregator.compare, {"stats", "method", "ci", "threshold"}),
    (mozaggregator.generate_pings, {"seed", "submission_date", "template", "channels",
                                    "versions", "os", "build_ids"}),
    (spark.aggregate, {"column", "channels", "versions", "submission_date",
                       "definitions_paths", "prefer_definitions", "full_os_version",
                       "replicates", "doc_type", "depth"}),
    (spark.aggregate_files, {"partitions", "channels", "versions", "submission_date",
                             "definitions_paths", "prefer_definitions", "full_os_version",
                             "replicates", "doc_type", "depth"}),
])
def test_options_are_keyword_only(function, options):
    assert keyword_only(function) == options


def test_options_given_by_position_are_refused(tmp_path):
    with pytest.raises(TypeError):
        Aggregator(None, ["nightly"])
    with pytest.raises(TypeError):
        mozaggregator.generate_pings(1, 7)
    with pytest.raises(TypeError):
        Store.open(tmp_path / "s.sqlite", None)
    with pytest.raises(TypeError):
        Store.memory().export("build_id", "nightly")
    with pytest.raises(TypeError):
        BucketLayout.categorical(["a"], 60)
    with pytest.raises(TypeError):
        Definitions(tmp_path / "Histograms.json")
    with pytest.raises(TypeError):
        Aggregator().add_files(tmp_path, 2)
    # The leading arguments stay positional.
    assert len(mozaggregator.generate_pings(1, seed=7)) == 1
    assert len(BucketLayout.categorical(["a"], n_values=60)) == 61


def test_store_constructor(tmp_path, aggregator):
    memory = Store()
    assert repr(memory) == 'Store(":memory:")' and memory.channels("build_id") == []
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        aggregator.write(store)
    assert Store(str(path)).export() == Store.open(path).export() != []
    defs = Definitions()
    assert Store(definitions=defs).channels("submission_date") == []
    assert Store(path, definitions=defs, lock_timeout=1.5).channels("build_id") == ["nightly"]


def test_bucket_layout_pickles_with_a_versioned_state():
    for layout in [BucketLayout.exponential(1, 10000, 50), BucketLayout.linear(1, 100, 10),
                   BucketLayout.categorical(["a", "b"], n_values=60), BucketLayout.flag()]:
        state = layout.__reduce__()[1][0]
        assert state[0] == 1
        assert pickle.loads(pickle.dumps(layout)) == layout


def test_definitions_pickle_with_a_versioned_state(tmp_path):
    hist = tmp_path / "Histograms.json"
    hist.write_text('{"GC_MS": {"kind": "exponential", "high": 10000, "n_buckets": 50,'
                    ' "description": "GC"}}')
    defs = Definitions(histograms=hist)
    assert defs.__reduce__()[1][0][0] == 1
    back = pickle.loads(pickle.dumps(defs))
    assert back.metrics() == defs.metrics() == ["GC_MS"]
    assert back.layout("GC_MS") == defs.layout("GC_MS")
    assert back.description("GC_MS") == "GC"


def test_aggregator_pickles_with_a_versioned_state(aggregator):
    state = aggregator.__reduce__()[1][0]
    # Version 4: with the replicates (2), versions (3) and doc_type (4) options.
    assert state[0] == 4 and isinstance(state[1], bytes) and len(state) == 10
    assert state[-1] == "main"
    back = pickle.loads(pickle.dumps(aggregator))
    assert back.report() == aggregator.report()
    assert back.aggregates() == aggregator.aggregates()
    # Options travel too: the copy still refuses beta pings and other dates.
    back.add_ping(ping(**{"application.channel": "beta"}))
    back.add_ping(ping(**{"meta.submissionDate": "20240103"}))
    assert back.report()["pings_used"] == aggregator.report()["pings_used"]
    # The state is compact: the aggregates' byte form plus the options.
    assert len(pickle.dumps(aggregator)) < len(aggregator.to_bytes()) + 400


def test_query_result_pickles_with_a_versioned_state(result):
    assert result.__reduce__()[1][0][0] == 1
    back = pickle.loads(pickle.dumps(result))
    assert type(back) is QueryResult
    assert back.metric == result.metric == "GC_MS"
    assert back.to_dict() == result.to_dict()
    assert [e["group"] for e in back.data] == ["Darwin", "Linux"]
    assert "stats" in back.data[0]
    assert back.mean() == result.mean()
    assert back.stats(["mean", "p95"], method="tmo") == result.stats(["mean", "p95"],
                                                                      method="tmo")
    assert mozaggregator.compare(back, result)["distances"]["ks"] == 0.0


@pytest.mark.parametrize("cls", [BucketLayout, Definitions, Aggregator, QueryResult])
@pytest.mark.parametrize("state", [None, (), (2,), "x", (99, 1, 2, 3, 4, 5), (1, 2),
                                   (1, None, None, None, None, None, None)])
def test_a_bad_state_is_a_value_error(cls, state):
    with pytest.raises(ValueError, match=f"not a pickled {cls.__name__}"):
        cls._from_state(state)


def test_a_state_of_a_newer_format_is_refused(result, aggregator):
    for obj in [result, aggregator, BucketLayout.flag(), Definitions()]:
        state = obj.__reduce__()[1][0]
        newer = state[0] + 1
        with pytest.raises(ValueError, match=f"format version {newer}"):
            type(obj)._from_state((newer, *state[1:]))


def test_damaged_state_parts_are_value_errors(result, aggregator):
    state = result.__reduce__()[1][0]
    with pytest.raises(ValueError):
        QueryResult._from_state((1, state[1], state[2][:-5]))
    state = aggregator.__reduce__()[1][0]
    with pytest.raises(ValueError):
        Aggregator._from_state((state[0], state[1][:10], *state[2:]))
    with pytest.raises(ValueError):
        BucketLayout._from_state((1, "exponential", 1, 10000, 2, []))


def test_the_native_layer_does_not_import_the_package():
    # In a fresh interpreter: the native module works alone and never imports the package's
    # Python modules (pandas helpers included).
    code = f"""
import importlib.machinery, importlib.util, sys
loader = importlib.machinery.ExtensionFileLoader("mozaggregator._native",
                                                 {mozaggregator._native.__file__!r})
spec = importlib.util.spec_from_loader("mozaggregator._native", loader)
native = importlib.util.module_from_spec(spec)
loader.exec_module(native)
agg = native.Aggregator()
store = native.Store()
agg.write(store)
print(store.export(), sorted(m for m in sys.modules if m.startswith("mozaggregator")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] []"


def test_pandas_helpers_are_python_functions(result):
    for cls, name in [(Aggregator, "to_pandas"), (Store, "to_pandas"),
                      (QueryResult, "to_pandas"), (QueryResult, "stats_frame"),
                      (QueryResult, "proportions_frame"), (QueryResult, "cdf_frame")]:
        method = getattr(cls, name)
        assert inspect.isfunction(method), (cls, name)
        assert method.__module__ == "mozaggregator._frames"
    pytest.importorskip("pandas")
    frame = result.stats_frame(["mean"], method="nearest")
    assert list(frame["mean"]) == [row["mean"] for row in result.stats(["mean"])]
