"""The type stubs (_native.pyi) describe exactly what the native module has — names,
signatures (keyword-only markers and defaults included), exception classes — and a type
checker reads them as intended (TypedDicts, Literals)."""

from __future__ import annotations

import ast
import inspect
import shutil
import subprocess
import sys

import pytest

import mozaggregator  # noqa: F401  (attaches the pandas helpers the stubs list)
import mozaggregator._native as native
from conftest import REPO

STUB = REPO / "python" / "mozaggregator" / "_native.pyi"
TYPED = REPO / "tests" / "python" / "typed"


def stub_tree():
    tree = ast.parse(STUB.read_text())
    functions, classes = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
    return functions, classes


def members(node):
    return {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}


def public(names):
    return {n for n in names if not n.startswith("_")}


def is_exception(name):
    return issubclass(getattr(native, name), BaseException)


def stub_parameters(node):
    """(name, kind, has a default) of a stub's parameters, as inspect names the kinds."""
    args = node.args
    P = inspect.Parameter
    out = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):
        out.append((arg.arg, P.POSITIONAL_OR_KEYWORD, default is not None))
    if args.vararg:
        out.append((args.vararg.arg, P.VAR_POSITIONAL, False))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        out.append((arg.arg, P.KEYWORD_ONLY, default is not None))
    if args.kwarg:
        out.append((args.kwarg.arg, P.VAR_KEYWORD, False))
    return out


def runtime_parameters(obj):
    P = inspect.Parameter
    return [(p.name, P.POSITIONAL_OR_KEYWORD if p.kind is P.POSITIONAL_ONLY else p.kind,
             p.default is not P.empty)
            for p in inspect.signature(obj).parameters.values()]


def test_stub_lists_every_function_and_class():
    functions, classes = stub_tree()
    runtime_functions = {n for n, o in vars(native).items()
                         if inspect.isbuiltin(o) and not n.startswith("_")}
    runtime_classes = {n for n, o in vars(native).items() if inspect.isclass(o)}
    assert set(functions) == runtime_functions
    assert set(classes) == runtime_classes


def test_stub_lists_every_method_and_property():
    _, classes = stub_tree()
    for name, node in classes.items():
        if is_exception(name):
            continue
        runtime = public(dir(getattr(native, name)))
        assert public(members(node)) == runtime, name


def test_stub_exception_classes_have_the_runtime_bases():
    _, classes = stub_tree()
    exceptions = {n for n in classes if is_exception(n)}
    assert exceptions == {"StoreError", "StoreLockedError", "StoreReadOnlyError",
                          "StoreDamagedError", "NotAStoreError", "StoreVersionError",
                          "StoreDiskError", "StoreUnavailableError"}
    for name in exceptions:
        bases = [b.id for b in classes[name].bases]
        assert [b.__name__ for b in getattr(native, name).__bases__] == bases, name


def test_stub_signatures_match_the_runtime():
    functions, classes = stub_tree()
    checked = 0
    for name, node in functions.items():
        assert stub_parameters(node) == runtime_parameters(getattr(native, name)), name
        checked += 1
    for class_name, class_node in classes.items():
        if is_exception(class_name):
            continue
        cls = getattr(native, class_name)
        for name, node in members(class_node).items():
            decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
            if "property" in decorators or (name.startswith("__") and name != "__init__"):
                continue
            if name == "__init__":
                stub = stub_parameters(node)[1:]          # without self
                assert stub == runtime_parameters(cls), class_name
            else:
                stub = stub_parameters(node)
                assert stub == runtime_parameters(getattr(cls, name)), f"{class_name}.{name}"
            checked += 1
    assert checked > 40


def mypy(*files, tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(tmp_path / "mypy-cache"), *map(str, files)],
        capture_output=True, text=True, timeout=300, cwd=REPO)


@pytest.fixture(scope="module")
def mypy_available():
    pytest.importorskip("mypy", reason="mypy (tests/python/requirements.txt) is not installed")


def test_a_typed_program_type_checks(mypy_available, tmp_path):
    out = mypy(TYPED / "good.py", tmp_path=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_type_checker_catches_misuse(mypy_available, tmp_path):
    out = mypy(TYPED / "bad.py", tmp_path=tmp_path)
    # Every line marked "# error" is reported, and nothing else.
    expected = {i for i, line in enumerate((TYPED / "bad.py").read_text().splitlines(), 1)
                if line.rstrip().endswith("# error")}
    reported = {int(line.split(":")[1]) for line in out.stdout.splitlines()
                if ": error:" in line}
    assert expected and reported == expected, out.stdout


def keys(typed_dict):
    return set(typed_dict.__required_keys__), set(typed_dict.__annotations__)


def assert_shape(value, typed_dict):
    required, allowed = keys(typed_dict)
    assert required <= set(value) <= allowed, (typed_dict.__name__, set(value))


def test_the_typed_dicts_and_literals_match_the_runtime():
    from typing import get_args

    from mozaggregator import Aggregator, BucketLayout, Store, compare, types
    from pings import ping

    agg = Aggregator()
    agg.add_pings([ping(), ping(**{"environment.system.os.name": "Darwin"})])
    assert_shape(agg.report(), types.Report)
    assert keys(types.Report)[0] == set(agg.report())
    for row in agg.aggregates():
        assert_shape(row, types.AggregateRow)
    store = Store()
    written = agg.write(store)
    assert_shape(written, types.WriteReport)
    assert_shape(store.filters("nightly", "120"), types.FilterOptions)
    for day in store.dates("build_id", "nightly"):
        assert_shape(day, types.DateVersion)
    assert get_args(types.Prefix) == ("build_id", "submission_date")
    for prefix in get_args(types.Prefix):
        assert store.channels(prefix) == ["nightly"]
    for method in get_args(types.PercentileMethod):
        for dimension in get_args(types.Dimension):
            result = store.query("submission_date", "nightly", "120", ["20240102"], "GC_MS",
                                 group_by=dimension, stats=["mean", "p50"], pct_method=method)
            assert_shape(result.to_dict(), types.QueryAnswer)
            for entry in result.data:
                assert_shape(entry, types.QueryEntry)
            stats = result.stats(["p50"], method=method)
            assert all(set(keys(types.StatsRow)[0]) <= set(row) for row in stats)
            comparison = compare(result, result, method=method)
            assert_shape(comparison, types.Comparison)
            assert_shape(comparison["a"], types.ComparisonSide)
            assert_shape(comparison["distances"], types.Distances)
            for delta in comparison["deltas"].values():
                assert_shape(delta, types.Delta)
    assert get_args(types.PercentileMethod) == types.PERCENTILE_METHODS
    with pytest.raises(ValueError):
        store.query("submission_date", "nightly", "120", ["20240102"], "GC_MS",
                    pct_method="median")
    layouts = [BucketLayout.exponential(1, 100, 10), BucketLayout.linear(1, 100, 10),
               BucketLayout.boolean(), BucketLayout.flag(), BucketLayout.count(),
               BucketLayout.enumerated(5), BucketLayout.categorical(["a"])]
    assert sorted(layout.kind for layout in layouts) == sorted(get_args(types.Kind))
