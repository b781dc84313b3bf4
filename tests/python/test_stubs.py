"""The type stubs (_native.pyi) describe exactly what the native module has."""

from __future__ import annotations

import ast
import inspect

import mozaggregator._native as native
from conftest import REPO

STUB = REPO / "python" / "mozaggregator" / "_native.pyi"
bases: dict[str, list[str]] = {}


def stub_tree():
    tree = ast.parse(STUB.read_text())
    functions, classes = set(), {}
    global bases
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions.add(node.name)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            bases[node.name] = [b.id for b in node.bases]
    return functions, classes


def public(names):
    return {n for n in names if not n.startswith("_")}


def test_stub_lists_every_function_and_class():
    functions, classes = stub_tree()
    runtime_functions = {n for n, o in vars(native).items()
                         if inspect.isbuiltin(o) and not n.startswith("_")}
    runtime_classes = {n for n, o in vars(native).items() if inspect.isclass(o)}
    assert functions == runtime_functions
    assert set(classes) == runtime_classes


def test_stub_lists_every_method_and_property():
    _, classes = stub_tree()
    for name, members in classes.items():
        if issubclass(getattr(native, name), BaseException):
            continue
        runtime = public(dir(getattr(native, name)))
        assert public(members) == runtime, name


def test_stub_exception_classes_have_the_runtime_bases():
    _, classes = stub_tree()
    exceptions = {n for n in classes if issubclass(getattr(native, n), BaseException)}
    assert exceptions == {"StoreError", "StoreLockedError", "StoreReadOnlyError",
                          "StoreDamagedError", "NotAStoreError", "StoreVersionError",
                          "StoreDiskError"}
    for name in exceptions:
        assert [b.__name__ for b in getattr(native, name).__bases__] == bases[name], name
